import { z } from 'zod';

// Who may do what through the HTTP API. The CLI is for operators with database rights and is not
// checked against these roles; the API is where access control lives.

/** A user's or key's role in one workspace; each includes what the next one may do. */
export const WORKSPACE_ROLES = ['viewer', 'marketer', 'admin'] as const;
/** A role in a workspace. */
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];
export const workspaceRoleSchema = z.enum(WORKSPACE_ROLES);

/** Whether `held` allows what `needed` allows (admin ⊃ marketer ⊃ viewer). */
export function roleAllows(held: WorkspaceRole, needed: WorkspaceRole): boolean {
  return WORKSPACE_ROLES.indexOf(held) >= WORKSPACE_ROLES.indexOf(needed);
}

/** Shortest password a user may set. */
export const MIN_PASSWORD_LENGTH = 12;

/** A user as the API shows it; never the password hash. */
export interface User {
  id: string;
  /** Normalized (trimmed, lower-cased). */
  email: string;
  createdAt: Date;
  /** Set while sign-in is refused after too many failed attempts. */
  lockedUntil?: Date;
  /** True while the password is a one-time password an operator handed out; the user should change it. */
  mustChangePassword?: boolean;
  /** Each workspace the user belongs to, with the role there. */
  memberships: { workspace: string; role: WorkspaceRole }[];
}

/** A stored API key as listed; the secret itself is shown once at creation and stored only hashed. */
export interface ApiKey {
  id: string;
  /** The recognisable start of the key (`trb_` and a few characters), safe to show. */
  prefix: string;
  name: string;
  workspace: string;
  role: WorkspaceRole;
  createdAt: Date;
  expiresAt?: Date;
  revokedAt?: Date;
  lastUsedAt?: Date;
  /** Who created it, as the audit log names actors (`user:<email>`, `cli:<operator>`). */
  createdBy?: string;
}

/** A session of a signed-in user (browser cookie); only the token's hash is stored. */
export interface Session {
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  /** The CSRF token the browser must echo in a header on every change. */
  csrfToken: string;
}

/** Who made a request: a signed-in user or an API key. */
export type Principal =
  | { kind: 'user'; userId: string; email: string; memberships: { workspace: string; role: WorkspaceRole }[] }
  | { kind: 'api-key'; keyId: string; prefix: string; workspace: string; role: WorkspaceRole };

/** The role a principal holds in a workspace, or undefined when it has none there. */
export function roleIn(principal: Principal, workspace: string): WorkspaceRole | undefined {
  if (principal.kind === 'api-key') return principal.workspace === workspace ? principal.role : undefined;
  return principal.memberships.find((m) => m.workspace === workspace)?.role;
}

/** One change, as the audit log keeps it: never a secret, a token or a password. */
export interface AuditEvent {
  id: string;
  at: Date;
  /** `user:<email>`, `api-key:<prefix>`, or `cli:<operator>` for a change made from the CLI. */
  actor: string;
  /** What was done, e.g. `installation.install`, `profile.delete`, `user.login`. */
  action: string;
  workspace?: string;
  /** What it was done to, e.g. an installation id or a profile name. */
  target?: string;
  /** The client address, when the change came over HTTP. */
  address?: string;
  outcome: 'ok' | 'denied' | 'failed';
  /** Extra facts (changed setting names, counts); the store refuses nothing here, the caller redacts. */
  details?: Record<string, unknown>;
}
