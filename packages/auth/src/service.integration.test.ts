import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { createAuthService, LoginRateLimitedError, type AuthService } from './index.js';

const databases = await testDatabases('auth');
const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
const MINUTE = 60_000;

describe.each(databases)('the auth service over the store on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let auth: AuthService;
  let clock = new Date('2026-05-01T10:00:00.000Z');
  const logLines: string[] = [];
  const handedOut: string[] = [];

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher });
    await store.migrate();
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) }));
    // A cheaper hash keeps the file fast; the default cost is checked in passwords.test.ts.
    auth = createAuthService({ store, logger, now: () => clock, policy: { passwordHashLog2N: 12 } });
  });
  afterAll(async () => {
    await store?.close();
  });

  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };

  it('creates a user with a one-time password shown once, who signs in and gets a session with a CSRF token', async () => {
    const { user, oneTimePassword } = await auth.createUser({ email: 'Admin@Example.com', workspace: 'acme', role: 'admin', actor: 'cli:ops' });
    expect(oneTimePassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    handedOut.push(oneTimePassword!);
    expect(user).toMatchObject({ email: 'admin@example.com', mustChangePassword: true, memberships: [{ workspace: 'acme', role: 'admin' }] });
    const signedIn = await auth.signIn({ email: ' ADMIN@example.com', password: oneTimePassword!, address: '198.51.100.7' });
    handedOut.push(signedIn.sessionToken);
    expect(signedIn.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signedIn.session.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signedIn.session.csrfToken).not.toBe(signedIn.sessionToken);
    expect(signedIn.session.expiresAt.getTime() - clock.getTime()).toBe(12 * 60 * MINUTE);
    const authenticated = await auth.authenticateSession(signedIn.sessionToken);
    expect(authenticated?.principal).toEqual({ kind: 'user', userId: user.id, email: 'admin@example.com', memberships: [{ workspace: 'acme', role: 'admin' }] });
    expect(authenticated?.session.id).toBe(signedIn.session.id);
    expect(await auth.authenticateSession('x'.repeat(43))).toBeUndefined();
    expect(await auth.authenticateSession('')).toBeUndefined();

    const [login] = await auth.listAudit({ limit: 1 });
    expect(login).toMatchObject({ actor: 'user:admin@example.com', action: 'user.login', address: '198.51.100.7', outcome: 'ok' });

    advance(13 * 60 * MINUTE);
    expect(await auth.authenticateSession(signedIn.sessionToken)).toBeUndefined();
  });

  it('signs out: the session no longer authenticates', async () => {
    const { oneTimePassword } = await auth.createUser({ email: 'leaver@example.com', workspace: 'acme', role: 'viewer', actor: 'cli:ops' });
    handedOut.push(oneTimePassword!);
    const { sessionToken } = await auth.signIn({ email: 'leaver@example.com', password: oneTimePassword!, address: '198.51.100.8' });
    await auth.signOut(sessionToken);
    expect(await auth.authenticateSession(sessionToken)).toBeUndefined();
    expect((await auth.listAudit({ limit: 1 }))[0]).toMatchObject({ actor: 'user:leaver@example.com', action: 'user.logout' });
  });

  it('answers a wrong password and an unknown e-mail alike, and locks the account after five failures for fifteen minutes', async () => {
    const password = 'a long enough password';
    await auth.createUser({ email: 'target@example.com', workspace: 'acme', role: 'marketer', password, actor: 'cli:ops' });
    const wrong = await auth.signIn({ email: 'target@example.com', password: 'wrong password!!', address: '203.0.113.1' }).catch((e: unknown) => e);
    const unknown = await auth.signIn({ email: 'nobody@example.com', password: 'wrong password!!', address: '203.0.113.1' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'AUTH_FAILED' });
    expect(unknown).toMatchObject({ code: 'AUTH_FAILED', message: (wrong as Error).message });
    for (let i = 2; i <= 4; i++) {
      await expect(auth.signIn({ email: 'target@example.com', password: `wrong ${i} password`, address: `203.0.113.${i}` })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    }
    const fifth = auth.signIn({ email: 'target@example.com', password: 'wrong 5 password', address: '203.0.113.5' });
    await expect(fifth).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    // Locked: even the right password is refused until the lock ends.
    advance(10 * MINUTE);
    await expect(auth.signIn({ email: 'target@example.com', password, address: '203.0.113.6' })).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    advance(6 * MINUTE);
    const ok = await auth.signIn({ email: 'target@example.com', password, address: '203.0.113.6' });
    expect(ok.user.lockedUntil).toBeUndefined();
    // A success clears the count: four more failures do not lock again.
    for (let i = 0; i < 4; i++) {
      await expect(auth.signIn({ email: 'target@example.com', password: 'wrong again!!', address: `192.0.2.${i}` })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    }
    const audit = await auth.listAudit({ limit: 50 });
    expect(audit.find((e) => e.action === 'user.lock')).toMatchObject({ target: 'target@example.com', outcome: 'ok' });
    expect(audit.filter((e) => e.action === 'user.login' && e.outcome === 'denied').length).toBeGreaterThanOrEqual(10);
  });

  it('rate-limits sign-in per account and per address, without counting refused attempts', async () => {
    const limited = createAuthService({
      store,
      now: () => clock,
      policy: { passwordHashLog2N: 12, accountRateLimit: { attempts: 3, windowMs: MINUTE }, addressRateLimit: { attempts: 4, windowMs: MINUTE }, maxFailedLogins: 100 },
    });
    const password = 'rate limited password';
    await limited.createUser({ email: 'rate@example.com', workspace: 'acme', role: 'viewer', password, actor: 'cli:ops' });
    for (let i = 0; i < 3; i++) {
      await expect(limited.signIn({ email: 'rate@example.com', password: 'not the password', address: `10.0.0.${i}` })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    }
    const refused = await limited.signIn({ email: 'rate@example.com', password, address: '10.0.0.9' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LoginRateLimitedError);
    expect(refused).toMatchObject({ code: 'LOGIN_RATE_LIMITED' });
    expect((refused as LoginRateLimitedError).retryAfterMs).toBeGreaterThan(0);
    // One address trying many accounts.
    for (let i = 0; i < 4; i++) {
      await expect(limited.signIn({ email: `user${i}@example.com`, password: 'whatever it is', address: '10.9.9.9' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    }
    await expect(limited.signIn({ email: 'rate@example.com', password, address: '10.9.9.9' })).rejects.toMatchObject({ code: 'LOGIN_RATE_LIMITED' });
    advance(MINUTE + 1);
    expect((await limited.signIn({ email: 'rate@example.com', password, address: '10.9.9.9' })).user.email).toBe('rate@example.com');
  });

  it('creates API keys shown once, authenticates them as workspace-scoped principals, and stops on revocation and expiry', async () => {
    const { key, secret } = await auth.createApiKey({ workspace: 'acme', role: 'marketer', name: 'nightly export', actor: 'user:admin@example.com' });
    handedOut.push(secret);
    expect(secret).toMatch(/^trb_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({ prefix: secret.slice(0, 12), name: 'nightly export', workspace: 'acme', role: 'marketer', createdBy: 'user:admin@example.com' });
    expect(await auth.authenticateApiKey(secret)).toEqual({ kind: 'api-key', keyId: key.id, prefix: key.prefix, workspace: 'acme', role: 'marketer' });
    expect(await auth.authenticateApiKey(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await auth.authenticateApiKey('Bearer nonsense')).toBeUndefined();
    expect((await auth.listApiKeys('acme')).find((k) => k.id === key.id)?.lastUsedAt).toEqual(clock);

    // Another workspace cannot revoke it, even knowing its id.
    expect(await auth.revokeApiKey({ workspace: 'other', id: key.id, actor: 'cli:ops' })).toBe(false);
    expect(await auth.authenticateApiKey(secret)).toBeDefined();
    expect(await auth.revokeApiKey({ workspace: 'acme', id: key.id, actor: 'cli:ops' })).toBe(true);
    expect(await auth.revokeApiKey({ workspace: 'acme', id: key.id, actor: 'cli:ops' })).toBe(false);
    expect(await auth.authenticateApiKey(secret)).toBeUndefined();

    const shortLived = await auth.createApiKey({ workspace: 'acme', role: 'viewer', name: 'short', expiresAt: new Date(clock.getTime() + MINUTE), actor: 'cli:ops' });
    handedOut.push(shortLived.secret);
    expect(await auth.authenticateApiKey(shortLived.secret)).toBeDefined();
    advance(MINUTE);
    expect(await auth.authenticateApiKey(shortLived.secret)).toBeUndefined();
    await expect(auth.createApiKey({ workspace: 'acme', role: 'viewer', name: 'past', expiresAt: new Date(clock.getTime() - 1), actor: 'cli:ops' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

    const events = (await auth.listAudit({ workspace: 'acme', limit: 20 })).filter((e) => e.action.startsWith('api-key.'));
    expect(events.map((e) => [e.action, e.outcome])).toEqual(
      expect.arrayContaining([
        ['api-key.create', 'ok'],
        ['api-key.revoke', 'ok'],
        ['api-key.revoke', 'failed'],
      ]),
    );
  });

  it('changes roles, refuses to drop the last administrator, and lists a workspace’s users', async () => {
    const admin = (await auth.findUser('admin@example.com'))!;
    await expect(auth.setRole({ userId: admin.id, workspace: 'acme', role: 'viewer', actor: 'cli:ops' })).rejects.toMatchObject({ code: 'LAST_WORKSPACE_ADMIN' });
    const { user: second } = await auth.createUser({ email: 'second@example.com', workspace: 'acme', role: 'viewer', password: 'second admin password', actor: 'cli:ops' });
    await auth.setRole({ userId: second.id, workspace: 'acme', role: 'admin', actor: 'user:admin@example.com' });
    await auth.setRole({ userId: admin.id, workspace: 'acme', role: undefined, actor: 'user:second@example.com' });
    await auth.setRole({ userId: admin.id, workspace: 'beta', role: 'viewer', actor: 'cli:ops' });
    expect((await auth.findUser('admin@example.com'))?.memberships).toEqual([{ workspace: 'beta', role: 'viewer' }]);
    const users = await auth.listUsers('acme');
    expect(users.map((u) => u.email)).not.toContain('admin@example.com');
    expect(users.map((u) => u.email)).toContain('second@example.com');
    await expect(auth.setRole({ userId: '00000000-0000-4000-8000-000000000000', workspace: 'acme', role: 'admin', actor: 'cli:ops' })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await expect(auth.createUser({ email: 'second@example.com', workspace: 'beta', role: 'viewer', actor: 'cli:ops' })).rejects.toMatchObject({ code: 'USER_EXISTS' });
    const [removed] = (await auth.listAudit({ workspace: 'acme', limit: 10 })).filter((e) => e.action === 'user.set-role');
    expect(removed).toMatchObject({ actor: 'user:second@example.com', target: 'admin@example.com', outcome: 'ok', details: { role: null, previous: 'admin' } });
  });

  it('lets a user change a one-time password, and an operator reset a forgotten one, ending their sessions', async () => {
    const { user, oneTimePassword } = await auth.createUser({ email: 'changer@example.com', workspace: 'acme', role: 'viewer', actor: 'cli:ops' });
    handedOut.push(oneTimePassword!);
    const { sessionToken } = await auth.signIn({ email: 'changer@example.com', password: oneTimePassword!, address: '198.51.100.20' });
    await expect(auth.changePassword({ userId: user.id, currentPassword: 'not it at all', newPassword: 'my own long password' })).rejects.toMatchObject({ code: 'PASSWORD_INVALID' });
    await expect(auth.changePassword({ userId: user.id, currentPassword: oneTimePassword!, newPassword: 'short' })).rejects.toMatchObject({ code: 'PASSWORD_INVALID' });
    await auth.changePassword({ userId: user.id, currentPassword: oneTimePassword!, newPassword: 'my own long password' });
    expect(await auth.authenticateSession(sessionToken)).toBeUndefined();
    await expect(auth.signIn({ email: 'changer@example.com', password: oneTimePassword!, address: '198.51.100.20' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    const signedIn = await auth.signIn({ email: 'changer@example.com', password: 'my own long password', address: '198.51.100.20' });
    expect(signedIn.user.mustChangePassword).toBeUndefined();

    const reset = await auth.resetPassword({ email: 'changer@example.com', actor: 'cli:ops' });
    handedOut.push(reset.oneTimePassword);
    expect(reset.user.mustChangePassword).toBe(true);
    expect(await auth.authenticateSession(signedIn.sessionToken)).toBeUndefined();
    await expect(auth.signIn({ email: 'changer@example.com', password: 'my own long password', address: '198.51.100.20' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect((await auth.signIn({ email: 'changer@example.com', password: reset.oneTimePassword, address: '198.51.100.20' })).user.email).toBe('changer@example.com');
    await expect(auth.resetPassword({ email: 'ghost@example.com', actor: 'cli:ops' })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
  });

  it('hashes a password made at a lower cost again at the current one when the user signs in', async () => {
    const password = 'an older cheaper hash';
    await auth.createUser({ email: 'rehash@example.com', workspace: 'acme', role: 'viewer', password, actor: 'cli:ops' });
    expect((await store.findUserByEmail('rehash@example.com'))?.passwordHash).toMatch(/^scrypt\$12\$/);
    const current = createAuthService({ store, now: () => clock });
    await current.signIn({ email: 'rehash@example.com', password, address: '198.51.100.30' });
    expect((await store.findUserByEmail('rehash@example.com'))?.passwordHash).toMatch(/^scrypt\$15\$8\$1\$/);
    expect((await current.signIn({ email: 'rehash@example.com', password, address: '198.51.100.30' })).user.email).toBe('rehash@example.com');
  });

  it('audits what callers report, blanking secrets, and never lets a password, token or key reach the log, the audit or the database', async () => {
    await auth.audit({ actor: 'api-key:trb_abcdefgh', action: 'installation.token', workspace: 'acme', target: 'closealert', outcome: 'ok', details: { token: 'eyJhbGciOi.secret', fields: ['token'] } });
    const [event] = await auth.listAudit({ workspace: 'acme', limit: 1 });
    expect(event).toMatchObject({ action: 'installation.token', details: { token: '[redacted]', fields: ['token'] } });
    const audit = JSON.stringify(await auth.listAudit({ limit: 1000 }));
    const rows = JSON.stringify(
      await Promise.all(['users', 'sessions', 'api_keys', 'audit_events'].map((t) => store.query(`SELECT * FROM ${store.dialect === 'postgres' ? `"tributary"."${t}"` : `"tributary_${t}"`}`))),
    );
    expect(handedOut.length).toBeGreaterThanOrEqual(7);
    for (const secret of [...handedOut, 'eyJhbGciOi.secret', 'a long enough password', 'my own long password']) {
      expect(logLines.join('\n')).not.toContain(secret);
      expect(audit).not.toContain(secret);
      expect(rows).not.toContain(secret);
    }
    expect(logLines.length).toBeGreaterThan(5);
  });
});
