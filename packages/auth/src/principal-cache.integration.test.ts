import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { hashSecret } from './tokens.js';
import { createAuthService, type AuthService } from './index.js';

const databases = await testDatabases('auth-cache');
const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
const TTL = 3_000;

describe.each(databases)('remembered principals on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let auth: AuthService;
  let clock = new Date('2026-05-01T10:00:00.000Z');
  const lookups = { findApiKey: 0, findSession: 0, getUser: 0 };

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher });
    await store.migrate();
    // The store, with its credential look-ups counted.
    const counted = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (typeof property === 'string' && property in lookups) lookups[property as keyof typeof lookups] += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    auth = createAuthService({ store: counted, now: () => clock, policy: { passwordHashLog2N: 12, principalCacheMs: TTL } });
    await auth.createUser({ email: 'admin@example.com', workspace: 'acme', role: 'admin', password: 'the admin password', actor: 'cli:ops' });
  });
  afterAll(async () => {
    await store?.close();
  });

  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };
  const signIn = async (email: string, password: string) => (await auth.signIn({ email, password, address: '198.51.100.1' })).sessionToken;

  it('looks an API key and a session up once within the time-to-live', async () => {
    const { secret } = await auth.createApiKey({ workspace: 'acme', role: 'viewer', name: 'script', actor: 'cli:ops' });
    const before = { ...lookups };
    for (let i = 0; i < 5; i += 1) expect(await auth.authenticateApiKey(secret)).toMatchObject({ kind: 'api-key', role: 'viewer' });
    expect(lookups.findApiKey - before.findApiKey).toBe(1);
    advance(TTL);
    expect(await auth.authenticateApiKey(secret)).toBeDefined();
    expect(lookups.findApiKey - before.findApiKey).toBe(2);

    const token = await signIn('admin@example.com', 'the admin password');
    const sessionBefore = { ...lookups };
    for (let i = 0; i < 5; i += 1) expect((await auth.authenticateSession(token))?.principal).toMatchObject({ email: 'admin@example.com' });
    expect(lookups.findSession - sessionBefore.findSession).toBe(1);
    expect(lookups.getUser - sessionBefore.getUser).toBe(1);
  });

  it('stops a revoked key, a signed-out session, a changed role and a changed password at once in this process', async () => {
    const { key, secret } = await auth.createApiKey({ workspace: 'acme', role: 'marketer', name: 'to revoke', actor: 'cli:ops' });
    expect(await auth.authenticateApiKey(secret)).toBeDefined();
    await auth.revokeApiKey({ workspace: 'acme', id: key.id, actor: 'cli:ops' });
    expect(await auth.authenticateApiKey(secret)).toBeUndefined();

    const leaving = await signIn('admin@example.com', 'the admin password');
    expect(await auth.authenticateSession(leaving)).toBeDefined();
    await auth.signOut(leaving);
    expect(await auth.authenticateSession(leaving)).toBeUndefined();

    const { user } = await auth.createUser({ email: 'viewer@example.com', workspace: 'acme', role: 'viewer', password: 'a viewer password', actor: 'cli:ops' });
    const token = await signIn('viewer@example.com', 'a viewer password');
    expect((await auth.authenticateSession(token))?.principal).toMatchObject({ memberships: [{ workspace: 'acme', role: 'viewer' }] });
    await auth.setRole({ userId: user.id, workspace: 'acme', role: 'marketer', actor: 'user:admin@example.com' });
    expect((await auth.authenticateSession(token))?.principal).toMatchObject({ memberships: [{ workspace: 'acme', role: 'marketer' }] });
    await auth.setRole({ userId: user.id, workspace: 'acme', role: undefined, actor: 'user:admin@example.com' });
    expect((await auth.authenticateSession(token))?.principal).toMatchObject({ memberships: [] });

    await auth.setRole({ userId: user.id, workspace: 'acme', role: 'viewer', actor: 'user:admin@example.com' });
    expect(await auth.authenticateSession(token)).toBeDefined();
    await auth.changePassword({ userId: user.id, currentPassword: 'a viewer password', newPassword: 'a new viewer password' });
    expect(await auth.authenticateSession(token)).toBeUndefined();

    const again = await signIn('viewer@example.com', 'a new viewer password');
    expect(await auth.authenticateSession(again)).toBeDefined();
    await auth.resetPassword({ email: 'viewer@example.com', actor: 'cli:ops' });
    expect(await auth.authenticateSession(again)).toBeUndefined();
  });

  it('sees a change another process made (straight in the store) once the time-to-live has passed', async () => {
    const { key, secret } = await auth.createApiKey({ workspace: 'acme', role: 'viewer', name: 'revoked elsewhere', actor: 'cli:ops' });
    expect(await auth.authenticateApiKey(secret)).toBeDefined();
    await store.revokeApiKey(key.id, clock);
    advance(TTL - 1);
    expect(await auth.authenticateApiKey(secret)).toBeDefined();
    advance(1);
    expect(await auth.authenticateApiKey(secret)).toBeUndefined();

    const token = await signIn('admin@example.com', 'the admin password');
    expect(await auth.authenticateSession(token)).toBeDefined();
    await store.deleteSession(hashSecret(token));
    advance(TTL);
    expect(await auth.authenticateSession(token)).toBeUndefined();
  });

  it('never outlives the session it remembers', async () => {
    const shortLived = createAuthService({ store, now: () => clock, policy: { passwordHashLog2N: 12, sessionTtlMs: 1_000, principalCacheMs: TTL } });
    const { sessionToken } = await shortLived.signIn({ email: 'admin@example.com', password: 'the admin password', address: '198.51.100.1' });
    expect(await shortLived.authenticateSession(sessionToken)).toBeDefined();
    advance(1_000);
    expect(await shortLived.authenticateSession(sessionToken)).toBeUndefined();
  });
});
