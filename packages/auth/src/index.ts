import type {
  ApiKey,
  AuditEvent,
  AuditStore,
  CredentialStore,
  IdentityStore,
  Logger,
  Principal,
  Session,
  User,
  WorkspaceRole,
} from '@tributary/core';
import { createAuthServiceWith, type AuthPolicy } from './service.js';

/**
 * Who may use the HTTP API and what they did: users with passwords and sessions, API keys for
 * scripts, roles per workspace, and the audit log. Every change is audited; no secret ever reaches
 * the store, a log line, an error or the audit log.
 */
export interface AuthService {
  createUser(input: { email: string; workspace: string; role: WorkspaceRole; password?: string; actor: string }): Promise<{ user: User; oneTimePassword?: string }>;
  signIn(input: { email: string; password: string; address: string }): Promise<{ sessionToken: string; session: Session; user: User }>;
  signOut(sessionToken: string): Promise<void>;
  authenticateSession(sessionToken: string): Promise<{ principal: Principal; session: Session } | undefined>;
  authenticateApiKey(secret: string): Promise<Principal | undefined>;
  createApiKey(input: { workspace: string; role: WorkspaceRole; name: string; expiresAt?: Date; actor: string }): Promise<{ key: ApiKey; secret: string }>;
  listApiKeys(workspace: string): Promise<ApiKey[]>;
  revokeApiKey(input: { workspace: string; id: string; actor: string }): Promise<boolean>;
  listUsers(workspace: string): Promise<User[]>;
  setRole(input: { userId: string; workspace: string; role: WorkspaceRole | undefined; actor: string }): Promise<void>;
  audit(event: Omit<AuditEvent, 'id' | 'at'> & { at?: Date }): Promise<void>;
  listAudit(filter: { workspace?: string; limit: number; before?: string }): Promise<AuditEvent[]>;
  // ---- Additions beyond the first contract ----
  /**
   * Replaces a user's password after checking the current one (`PASSWORD_INVALID` when it is wrong
   * or the new one is too short); clears the one-time flag and ends every session of the user.
   */
  changePassword(input: { userId: string; currentPassword: string; newPassword: string; address?: string }): Promise<void>;
  /** Gives a user a new one-time password (shown once), lifts a lock and ends their sessions; `USER_NOT_FOUND` for an unknown e-mail. */
  resetPassword(input: { email: string; actor: string }): Promise<{ user: User; oneTimePassword: string }>;
  /** A user by e-mail, or undefined. */
  findUser(email: string): Promise<User | undefined>;
}

/** Options of {@link createAuthService}. */
export interface AuthServiceOptions {
  store: IdentityStore & CredentialStore & AuditStore;
  /** Defaults to a silent logger. */
  logger?: Logger;
  /** The clock (tests move it). */
  now?: () => Date;
  /** Lockout, rate limits, session lifetime and hashing cost; see {@link DEFAULT_AUTH_POLICY}. */
  policy?: Partial<AuthPolicy>;
}

export function createAuthService(options: AuthServiceOptions): AuthService {
  return createAuthServiceWith(options);
}

export { DEFAULT_AUTH_POLICY, LoginRateLimitedError, type AuthPolicy } from './service.js';
export {
  PASSWORD_HASH_PARAMS,
  MAX_PASSWORD_LENGTH,
  checkNewPassword,
  generateOneTimePassword,
  hashPassword,
  verifyPassword,
} from './passwords.js';
export { API_KEY_PREFIX, generateApiKey, hashSecret, isApiKeyShaped } from './tokens.js';
export { SlidingWindowLimiter, type RateDecision, type RateLimit } from './rate-limit.js';
