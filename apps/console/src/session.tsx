import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, setCsrfToken, unwrap, type Schemas } from './api/client';

export type Role = 'viewer' | 'marketer' | 'admin';
export type Me = Schemas['Me'];

const RANK: Record<Role, number> = { viewer: 0, marketer: 1, admin: 2 };

/** Whether `held` is at least `needed` (the server checks again; this only hides controls). */
export function allows(held: string | undefined, needed: Role): boolean {
  return held !== undefined && held in RANK && RANK[held as Role] >= RANK[needed];
}

interface SessionValue {
  me: Me | null;
  /** True until the first /auth/me answered. */
  loading: boolean;
  roleIn(workspace: string): Role | undefined;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  /** Replaces the signed-in user's password; the server answers a fresh session (the change ends the others). */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let live = true;
    unwrap(api.GET('/auth/me'))
      .then((found) => {
        if (!live) return;
        setCsrfToken(found.csrfToken);
        setMe(found);
      })
      .catch((error: unknown) => {
        if (live && !(error instanceof ApiError && error.status === 401)) console.error(error);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, []);

  const signIn = useCallback(async (email: string, password: string) => {
    const found = await unwrap(api.POST('/auth/login', { body: { email, password } }));
    setCsrfToken(found.csrfToken);
    setMe(found);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await unwrap(api.POST('/auth/logout'));
    } finally {
      setCsrfToken(null);
      setMe(null);
    }
  }, []);

  const changePassword = useCallback(async (currentPassword: string, newPassword: string) => {
    const found = await unwrap(api.POST('/auth/password', { body: { currentPassword, newPassword } }));
    setCsrfToken(found.csrfToken);
    setMe(found);
  }, []);

  const roleIn = useCallback(
    (workspace: string) => me?.memberships.find((m) => m.workspace === workspace)?.role as Role | undefined,
    [me],
  );

  return (
    <SessionContext.Provider value={{ me, loading, roleIn, signIn, signOut, changePassword }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
