import { z } from 'zod';
import {
  ConfigError,
  parseUserInput,
  silentLogger,
  workspaceRoleSchema,
  type ApiKey,
  type AuditEvent,
  type Principal,
  type Session,
  type User,
  type WorkspaceRole,
} from '@tributary/core';
import type { AuthService, AuthServiceOptions } from './index.js';
import { checkNewPassword, generateOneTimePassword, hashPassword, MAX_PASSWORD_LENGTH, needsRehash, PASSWORD_HASH_PARAMS, verifyPassword } from './passwords.js';
import { SlidingWindowLimiter, type RateLimit } from './rate-limit.js';
import { PrincipalCache } from './principal-cache.js';
import { redactDetails } from './redact.js';
import { generateApiKey, generateToken, hashSecret, isApiKeyShaped, isTokenShaped } from './tokens.js';

/** How sign-in is guarded and how long a session lasts. */
export interface AuthPolicy {
  /** Failed sign-ins in a row that lock an account. */
  maxFailedLogins: number;
  /** How long a lock lasts, in milliseconds. */
  lockoutMs: number;
  /** Sign-in attempts per account (e-mail), successful or not. */
  accountRateLimit: RateLimit;
  /** Sign-in attempts per client address, successful or not. */
  addressRateLimit: RateLimit;
  /** How long a session lasts after sign-in, in milliseconds. */
  sessionTtlMs: number;
  /** log2 of scrypt's N for new password hashes (at least 15 outside tests). */
  passwordHashLog2N: number;
  /**
   * How long, in milliseconds, a session or API key look-up is reused. Changes made through this
   * service apply at once; changes by another process (a key revoked with the CLI beside a running
   * server) only after this time, so it is off (0) unless the operator trades that delay for
   * cheaper requests (`TRIBUTARY_PRINCIPAL_CACHE_MS` of `tributary serve`).
   */
  principalCacheMs: number;
}

export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  maxFailedLogins: 5,
  lockoutMs: 15 * 60_000,
  accountRateLimit: { attempts: 10, windowMs: 5 * 60_000 },
  addressRateLimit: { attempts: 50, windowMs: 5 * 60_000 },
  sessionTtlMs: 12 * 3_600_000,
  passwordHashLog2N: PASSWORD_HASH_PARAMS.log2N,
  principalCacheMs: 0,
};

/** Credentials remembered at most: far above the callers one server has within a few seconds. */
const PRINCIPAL_CACHE_ENTRIES = 10_000;

/** `LOGIN_RATE_LIMITED`, with how long to wait, for an HTTP `Retry-After`. */
export class LoginRateLimitedError extends ConfigError {
  constructor(readonly retryAfterMs: number) {
    super('LOGIN_RATE_LIMITED', `Too many sign-in attempts; try again in ${Math.ceil(retryAfterMs / 1000)} seconds.`, {
      hint: 'Wait, then sign in again. An operator can reset a forgotten password: tributary users reset-password --email <e>',
    });
  }
}

/** When a failed sign-in locks the account: after the `maxFailedLogins`-th failure in a row, and after every one past it. */
export function lockAfterFailure(failedBefore: number, policy: Pick<AuthPolicy, 'maxFailedLogins' | 'lockoutMs'>, now: Date): Date | undefined {
  return failedBefore + 1 >= policy.maxFailedLogins ? new Date(now.getTime() + policy.lockoutMs) : undefined;
}

const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an e-mail address');
const workspaceSchema = z.string().trim().min(1).max(200);
const actorSchema = z.string().trim().min(1).max(320);
const nameSchema = z.string().trim().min(1).max(200);

function authFailed(): ConfigError {
  // One message for an unknown e-mail and a wrong password: the answer must not tell which.
  return new ConfigError('AUTH_FAILED', 'The e-mail or the password is wrong.', {
    hint: 'Check both and try again; an operator can reset a forgotten password with: tributary users reset-password --email <e>',
  });
}

function accountLocked(until: Date): ConfigError {
  return new ConfigError('ACCOUNT_LOCKED', `The account is locked after too many failed sign-ins, until ${until.toISOString()}.`, {
    hint: 'Wait until then, or ask an operator for a new one-time password: tributary users reset-password --email <e>',
  });
}

function userNotFound(what: string): ConfigError {
  return new ConfigError('USER_NOT_FOUND', `There is no user ${what}.`, { hint: 'List the users of a workspace with: tributary users list --workspace <ws>' });
}

export function createAuthServiceWith(options: AuthServiceOptions): AuthService {
  const { store } = options;
  const now = options.now ?? (() => new Date());
  const logger = (options.logger ?? silentLogger()).child({ component: 'auth' });
  const policy: AuthPolicy = { ...DEFAULT_AUTH_POLICY, ...options.policy };
  const hashParams = { ...PASSWORD_HASH_PARAMS, log2N: policy.passwordHashLog2N };
  const perAccount = new SlidingWindowLimiter(policy.accountRateLimit);
  const perAddress = new SlidingWindowLimiter(policy.addressRateLimit);
  let dummyHash: Promise<string> | undefined;
  const principals = new PrincipalCache<{ principal: Principal; session?: Session }>({ ttlMs: policy.principalCacheMs, maxEntries: PRINCIPAL_CACHE_ENTRIES });

  async function audit(event: Omit<AuditEvent, 'id' | 'at'> & { at?: Date }): Promise<void> {
    const { at, details, ...rest } = event;
    await store.recordAudit({ ...rest, at: at ?? now(), ...(details === undefined ? {} : { details: redactDetails(details) }) });
  }

  async function withMemberships(user: User): Promise<User> {
    return (await store.getUser(user.id)) ?? user;
  }

  function principalOf(user: User): Principal {
    return { kind: 'user', userId: user.id, email: user.email, memberships: user.memberships };
  }

  /** Refuses to leave a workspace without a user who administers it. */
  async function keepAnAdmin(userId: string, workspace: string, role: WorkspaceRole | undefined): Promise<void> {
    if (role === 'admin') return;
    const admins = (await store.listUsers(workspace)).filter((u) => u.memberships.some((m) => m.workspace === workspace && m.role === 'admin'));
    if (admins.length === 1 && admins[0]!.id === userId) {
      throw new ConfigError('LAST_WORKSPACE_ADMIN', `${admins[0]!.email} is the last administrator of workspace "${workspace}" and stays one.`, {
        hint: `Make another user an administrator first: tributary users set-role --email <e> --workspace ${workspace} --role admin`,
      });
    }
  }

  const service: AuthService = {
    async createUser(input) {
      const email = parseUserInput(emailSchema, input.email, 'e-mail');
      const workspace = parseUserInput(workspaceSchema, input.workspace, 'workspace');
      const role = parseUserInput(workspaceRoleSchema, input.role, 'role');
      const actor = parseUserInput(actorSchema, input.actor, 'actor');
      if (input.password !== undefined) checkNewPassword(input.password);
      const oneTimePassword = input.password === undefined ? generateOneTimePassword() : undefined;
      const passwordHash = await hashPassword(input.password ?? oneTimePassword!, hashParams);
      let user: User;
      try {
        user = await store.createUser({ email, passwordHash, mustChangePassword: oneTimePassword !== undefined });
      } catch (error) {
        await audit({ actor, action: 'user.create', workspace, target: email, outcome: 'failed', details: { role, code: (error as { code?: unknown }).code } });
        throw error;
      }
      await store.setMembership(user.id, workspace, role);
      await audit({ actor, action: 'user.create', workspace, target: email, outcome: 'ok', details: { role, oneTimePassword: oneTimePassword !== undefined } });
      logger.info({ userId: user.id, workspace, role }, 'user created');
      return { user: await withMemberships(user), ...(oneTimePassword === undefined ? {} : { oneTimePassword }) };
    },

    async signIn(input) {
      const address = typeof input.address === 'string' ? input.address.slice(0, 100) : '';
      const parsedEmail = emailSchema.safeParse(input.email);
      const email = parsedEmail.success ? parsedEmail.data : '';
      const password = typeof input.password === 'string' ? input.password : '';
      const at = now();
      for (const [limiter, key] of [[perAddress, `address:${address}`], [perAccount, `account:${email}`]] as const) {
        const decision = limiter.attempt(key, at.getTime());
        if (!decision.allowed) {
          await audit({ actor: 'anonymous', action: 'user.login', target: email || undefined, address, outcome: 'denied', details: { reason: 'rate-limited' } });
          throw new LoginRateLimitedError(decision.retryAfterMs);
        }
      }
      const found = email && password.length <= MAX_PASSWORD_LENGTH ? await store.findUserByEmail(email) : undefined;
      if (!found) {
        // Hash all the same, so that an unknown e-mail answers as slowly as a wrong password.
        dummyHash ??= hashPassword(generateToken(), hashParams);
        await verifyPassword(password, await dummyHash);
        await audit({ actor: 'anonymous', action: 'user.login', address, outcome: 'denied', details: { reason: 'unknown-user' } });
        logger.info({ address }, 'sign-in refused: unknown user');
        throw authFailed();
      }
      const { user } = found;
      const actor = `user:${user.email}`;
      const matches = await verifyPassword(password, found.passwordHash);
      if (user.lockedUntil && user.lockedUntil > at) {
        await audit({ actor, action: 'user.login', address, outcome: 'denied', details: { reason: 'locked' } });
        throw accountLocked(user.lockedUntil);
      }
      if (!matches) {
        const lockUntil = lockAfterFailure(found.failedLogins, policy, at);
        await store.recordFailedLogin(user.id, lockUntil);
        await audit({ actor, action: 'user.login', address, outcome: 'denied', details: { reason: 'wrong-password', ...(lockUntil ? { lockedUntil: lockUntil.toISOString() } : {}) } });
        logger.info({ userId: user.id, address, locked: lockUntil !== undefined }, 'sign-in refused: wrong password');
        if (lockUntil) {
          await audit({ actor: 'system', action: 'user.lock', target: user.email, address, outcome: 'ok', details: { until: lockUntil.toISOString() } });
          throw accountLocked(lockUntil);
        }
        throw authFailed();
      }
      if (needsRehash(found.passwordHash, hashParams)) {
        // The password is at hand only now: a hash made at an older, lower cost is made again at today's.
        await store.setPassword(user.id, await hashPassword(password, hashParams), { mustChangePassword: user.mustChangePassword === true });
      } else if (found.failedLogins > 0 || user.lockedUntil) {
        await store.clearFailedLogins(user.id);
      }
      perAccount.reset(`account:${email}`);
      const sessionToken = generateToken();
      const session = await store.createSession({
        userId: user.id,
        tokenHash: hashSecret(sessionToken),
        csrfToken: generateToken(),
        expiresAt: new Date(at.getTime() + policy.sessionTtlMs),
      });
      await audit({ actor, action: 'user.login', address, outcome: 'ok' });
      logger.info({ userId: user.id, address }, 'signed in');
      const { lockedUntil: _lockedUntil, ...unlocked } = user;
      return { sessionToken, session, user: unlocked };
    },

    async signOut(sessionToken) {
      if (typeof sessionToken !== 'string' || !isTokenShaped(sessionToken)) return;
      const tokenHash = hashSecret(sessionToken);
      const session = await store.findSession(tokenHash, now());
      await store.deleteSession(tokenHash);
      principals.forgetHash(tokenHash);
      if (!session) return;
      const user = await store.getUser(session.userId);
      await audit({ actor: user ? `user:${user.email}` : 'anonymous', action: 'user.logout', outcome: 'ok' });
    },

    async authenticateSession(sessionToken) {
      if (typeof sessionToken !== 'string' || !isTokenShaped(sessionToken)) return undefined;
      const tokenHash = hashSecret(sessionToken);
      const at = now();
      const found = await principals.get(tokenHash, at, async () => {
        const session = await store.findSession(tokenHash, at);
        const user = session ? await store.getUser(session.userId) : undefined;
        return session && user ? { value: { principal: principalOf(user), session }, userId: user.id, expiresAt: session.expiresAt } : undefined;
      });
      return found?.session ? { principal: found.principal, session: found.session } : undefined;
    },

    async authenticateApiKey(secret) {
      if (typeof secret !== 'string' || !isApiKeyShaped(secret)) return undefined;
      const secretHash = hashSecret(secret);
      const at = now();
      const found = await principals.get(secretHash, at, async () => {
        const key = await store.findApiKey(secretHash, at);
        if (!key) return undefined;
        const principal: Principal = { kind: 'api-key', keyId: key.id, prefix: key.prefix, workspace: key.workspace, role: key.role };
        return { value: { principal }, keyId: key.id, ...(key.expiresAt ? { expiresAt: key.expiresAt } : {}) };
      });
      return found?.principal;
    },

    async createApiKey(input) {
      const workspace = parseUserInput(workspaceSchema, input.workspace, 'workspace');
      const role = parseUserInput(workspaceRoleSchema, input.role, 'role');
      const name = parseUserInput(nameSchema, input.name, 'key name');
      const actor = parseUserInput(actorSchema, input.actor, 'actor');
      if (input.expiresAt !== undefined && !(input.expiresAt instanceof Date && input.expiresAt.getTime() > now().getTime())) {
        throw new ConfigError('CONFIG_INVALID', 'An API key must expire in the future.', { hint: 'Give a later date, or none for a key that does not expire.' });
      }
      const generated = generateApiKey();
      const key = await store.createApiKey({
        prefix: generated.prefix,
        secretHash: generated.secretHash,
        name,
        workspace,
        role,
        createdBy: actor,
        ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
      });
      await audit({
        actor,
        action: 'api-key.create',
        workspace,
        target: key.id,
        outcome: 'ok',
        details: { name, role, prefix: key.prefix, ...(key.expiresAt ? { expiresAt: key.expiresAt.toISOString() } : {}) },
      });
      logger.info({ keyId: key.id, prefix: key.prefix, workspace, role }, 'API key created');
      return { key, secret: generated.secret };
    },

    listApiKeys(workspace) {
      return store.listApiKeys(parseUserInput(workspaceSchema, workspace, 'workspace'));
    },

    async revokeApiKey(input) {
      const workspace = parseUserInput(workspaceSchema, input.workspace, 'workspace');
      const actor = parseUserInput(actorSchema, input.actor, 'actor');
      // Only a key of this workspace: an id from another one is as unknown as a made-up one.
      const key: ApiKey | undefined = (await store.listApiKeys(workspace)).find((k) => k.id === input.id);
      const revoked = key !== undefined && key.revokedAt === undefined && (await store.revokeApiKey(key.id, now()));
      if (key) principals.forgetKey(key.id);
      await audit({
        actor,
        action: 'api-key.revoke',
        workspace,
        target: String(input.id).slice(0, 100),
        outcome: revoked ? 'ok' : 'failed',
        ...(key ? { details: { prefix: key.prefix, name: key.name, ...(revoked ? {} : { reason: 'already revoked' }) } } : { details: { reason: 'unknown key' } }),
      });
      if (revoked) logger.info({ keyId: key.id, workspace }, 'API key revoked');
      return revoked;
    },

    listUsers(workspace) {
      return store.listUsers(parseUserInput(workspaceSchema, workspace, 'workspace'));
    },

    async setRole(input) {
      const workspace = parseUserInput(workspaceSchema, input.workspace, 'workspace');
      const actor = parseUserInput(actorSchema, input.actor, 'actor');
      const role = input.role === undefined ? undefined : parseUserInput(workspaceRoleSchema, input.role, 'role');
      const user = await store.getUser(input.userId);
      if (!user) throw userNotFound(String(input.userId).slice(0, 100));
      try {
        await keepAnAdmin(user.id, workspace, role);
        await store.setMembership(user.id, workspace, role);
      } catch (error) {
        principals.forgetUser(user.id);
        await audit({ actor, action: 'user.set-role', workspace, target: user.email, outcome: 'failed', details: { role: role ?? null, code: (error as { code?: unknown }).code } });
        throw error;
      }
      principals.forgetUser(user.id);
      const previous = user.memberships.find((m) => m.workspace === workspace)?.role ?? null;
      await audit({ actor, action: 'user.set-role', workspace, target: user.email, outcome: 'ok', details: { role: role ?? null, previous } });
      logger.info({ userId: user.id, workspace, role: role ?? null }, 'role changed');
    },

    audit,

    listAudit(filter) {
      return store.listAudit(filter);
    },

    async changePassword(input) {
      const user = await store.getUser(input.userId);
      const found = user ? await store.findUserByEmail(user.email) : undefined;
      if (!user || !found) throw userNotFound(String(input.userId).slice(0, 100));
      const actor = `user:${user.email}`;
      if (!(await verifyPassword(String(input.currentPassword), found.passwordHash))) {
        await audit({ actor, action: 'user.change-password', target: user.email, ...(input.address ? { address: input.address } : {}), outcome: 'denied', details: { reason: 'wrong current password' } });
        throw new ConfigError('PASSWORD_INVALID', 'The current password is wrong.', { hint: 'Give the password you signed in with (or the one-time password you were given).' });
      }
      checkNewPassword(input.newPassword);
      await store.setPassword(user.id, await hashPassword(input.newPassword, hashParams));
      const ended = await store.deleteUserSessions(user.id);
      principals.forgetUser(user.id);
      await audit({ actor, action: 'user.change-password', target: user.email, ...(input.address ? { address: input.address } : {}), outcome: 'ok', details: { sessionsEnded: ended } });
      logger.info({ userId: user.id }, 'password changed');
    },

    async resetPassword(input) {
      const email = parseUserInput(emailSchema, input.email, 'e-mail');
      const actor = parseUserInput(actorSchema, input.actor, 'actor');
      const found = await store.findUserByEmail(email);
      if (!found) {
        await audit({ actor, action: 'user.reset-password', target: email, outcome: 'failed', details: { reason: 'unknown user' } });
        throw userNotFound(`with the e-mail "${email}"`);
      }
      const oneTimePassword = generateOneTimePassword();
      await store.setPassword(found.user.id, await hashPassword(oneTimePassword, hashParams), { mustChangePassword: true });
      const ended = await store.deleteUserSessions(found.user.id);
      principals.forgetUser(found.user.id);
      await audit({ actor, action: 'user.reset-password', target: email, outcome: 'ok', details: { sessionsEnded: ended } });
      logger.info({ userId: found.user.id }, 'password reset');
      const user = (await store.getUser(found.user.id)) ?? found.user;
      return { user, oneTimePassword };
    },

    async findUser(email) {
      const parsed = emailSchema.safeParse(email);
      return parsed.success ? (await store.findUserByEmail(parsed.data))?.user : undefined;
    },
  };
  return service;
}
