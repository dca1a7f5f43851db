import type { ApiKey, AuditEvent, Principal, Session, User, WorkspaceRole } from '@tributary/core';

// What the API needs from identity: exactly the AuthService of @tributary/auth. The API is typed
// against this structure so that it stays a library with one seam; `createAuthService` fills it.

export interface AuthService {
  createUser(input: {
    email: string;
    workspace: string;
    role: WorkspaceRole;
    password?: string;
    actor: string;
  }): Promise<{ user: User; oneTimePassword?: string }>;
  signIn(input: {
    email: string;
    password: string;
    address: string;
  }): Promise<{ sessionToken: string; session: Session; user: User }>;
  signOut(sessionToken: string): Promise<void>;
  authenticateSession(sessionToken: string): Promise<{ principal: Principal; session: Session } | undefined>;
  authenticateApiKey(secret: string): Promise<Principal | undefined>;
  createApiKey(input: {
    workspace: string;
    role: WorkspaceRole;
    name: string;
    expiresAt?: Date;
    actor: string;
  }): Promise<{ key: ApiKey; secret: string }>;
  listApiKeys(workspace: string): Promise<ApiKey[]>;
  revokeApiKey(input: { workspace: string; id: string; actor: string }): Promise<boolean>;
  listUsers(workspace: string): Promise<User[]>;
  setRole(input: {
    userId: string;
    workspace: string;
    role: WorkspaceRole | undefined;
    actor: string;
  }): Promise<void>;
  /** Checks the current password, sets the new one, clears the one-time flag and ends every session of the user. */
  changePassword(input: {
    userId: string;
    currentPassword: string;
    newPassword: string;
    address?: string;
  }): Promise<void>;
  /** A user by e-mail, or undefined. */
  findUser(email: string): Promise<User | undefined>;
  audit(event: Omit<AuditEvent, 'id' | 'at'> & { at?: Date }): Promise<void>;
  listAudit(filter: { workspace?: string; limit: number; before?: string }): Promise<AuditEvent[]>;
}

/** How a principal is named in the audit log. */
export function actorOf(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  return principal.kind === 'user' ? `user:${principal.email}` : `api-key:${principal.prefix}`;
}
