import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@tributary/core';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';
import { openRawDatabase, type RawDatabase } from './test-support/raw-database.js';

const databases = await testDatabases('identity');
const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
const HOUR = 3_600_000;

describe.each(databases)('users, sessions, API keys and the audit log in the store on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let raw: RawDatabase;
  const pg = database.dialect === 'postgres';
  const table = (name: string) => (pg ? `"tributary"."${name}"` : `"tributary_${name}"`);

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher });
    await store.migrate();
    raw = await openRawDatabase(database);
  });
  afterAll(async () => {
    await raw?.close();
    await store?.close();
  });

  it('creates a user under the normalized e-mail and refuses the same address twice', async () => {
    const user = await store.createUser({ email: '  Ada@Example.COM ', passwordHash: 'scrypt$hash-1', mustChangePassword: true });
    expect(user).toMatchObject({ email: 'ada@example.com', memberships: [], mustChangePassword: true });
    const found = await store.findUserByEmail('ADA@example.com');
    expect(found?.user.id).toBe(user.id);
    expect(found?.passwordHash).toBe('scrypt$hash-1');
    await expect(store.createUser({ email: 'ada@EXAMPLE.com', passwordHash: 'x' })).rejects.toMatchObject({ code: 'USER_EXISTS' });
    await expect(store.createUser({ email: 'ada@EXAMPLE.com', passwordHash: 'x' })).rejects.toBeInstanceOf(ConfigError);
    expect(await store.findUserByEmail('nobody@example.com')).toBeUndefined();
    expect(await store.getUser('not-an-id')).toBeUndefined();
  });

  it('grants, changes and removes roles per workspace, creating a workspace named for the first time', async () => {
    const user = await store.createUser({ email: 'roles@example.com', passwordHash: 'h' });
    await store.setMembership(user.id, 'north', 'admin');
    await store.setMembership(user.id, 'south', 'viewer');
    await store.setMembership(user.id, 'south', 'marketer');
    expect((await store.getUser(user.id))?.memberships).toEqual([
      { workspace: 'north', role: 'admin' },
      { workspace: 'south', role: 'marketer' },
    ]);
    expect((await store.listUsers('south')).map((u) => u.email)).toEqual(['roles@example.com']);
    await store.setMembership(user.id, 'south', undefined);
    expect(await store.listUsers('south')).toEqual([]);
    expect(await store.listUsers('no-such-workspace')).toEqual([]);
    await store.setMembership(user.id, 'no-such-workspace', undefined);
    await expect(store.setMembership('6f2d1c2e-8a51-4c1e-9f7a-2b7c4d1e0f00', 'north', 'admin')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    // The database refuses a role outside the three.
    const [row] = await raw.query<{ id: string }>(`SELECT "id" FROM ${table('workspaces')} WHERE "name" = 'north'`);
    await expect(
      raw.query(`INSERT INTO ${table('memberships')} ("user_id", "workspace_id", "role", "created_at") VALUES ('${user.id}', '${row!.id}', 'owner', '2026-01-01T00:00:00.000Z')`),
    ).rejects.toThrow();
  });

  it('counts failed sign-ins, locks until a time, and clears both', async () => {
    const user = await store.createUser({ email: 'lock@example.com', passwordHash: 'h' });
    expect(await store.recordFailedLogin(user.id)).toBe(1);
    const until = new Date(Date.now() + HOUR);
    expect(await store.recordFailedLogin(user.id, until)).toBe(2);
    expect((await store.findUserByEmail('lock@example.com'))?.failedLogins).toBe(2);
    expect((await store.getUser(user.id))?.lockedUntil?.toISOString()).toBe(until.toISOString());
    await store.clearFailedLogins(user.id);
    const cleared = await store.getUser(user.id);
    expect(cleared?.lockedUntil).toBeUndefined();
    expect(await store.recordFailedLogin(user.id)).toBe(1);
    await store.setPassword(user.id, 'h2', { mustChangePassword: true });
    const changed = await store.findUserByEmail('lock@example.com');
    expect(changed?.passwordHash).toBe('h2');
    expect(changed?.user.mustChangePassword).toBe(true);
    expect(changed?.failedLogins).toBe(0);
    expect(await store.recordFailedLogin(user.id)).toBe(1);
    await store.setPassword(user.id, 'h3');
    expect((await store.getUser(user.id))?.mustChangePassword).toBeUndefined();
  });

  it('finds a session by its token hash until it expires, and ends one or all of a user', async () => {
    const user = await store.createUser({ email: 'session@example.com', passwordHash: 'h' });
    const now = new Date();
    const session = await store.createSession({ userId: user.id, tokenHash: 'hash-a', csrfToken: 'csrf-a', expiresAt: new Date(now.getTime() + HOUR) });
    await store.createSession({ userId: user.id, tokenHash: 'hash-b', csrfToken: 'csrf-b', expiresAt: new Date(now.getTime() + HOUR) });
    expect(await store.findSession('hash-a', now)).toMatchObject({ id: session.id, userId: user.id, csrfToken: 'csrf-a' });
    expect(await store.findSession('hash-a', new Date(now.getTime() + 2 * HOUR))).toBeUndefined();
    expect(await store.findSession('unknown', now)).toBeUndefined();
    await store.deleteSession('hash-a');
    expect(await store.findSession('hash-a', now)).toBeUndefined();
    expect(await store.deleteUserSessions(user.id)).toBe(1);
    expect(await store.findSession('hash-b', now)).toBeUndefined();
  });

  it('keeps API keys by their hash, finds only live ones, marks them used and revokes them once', async () => {
    const now = new Date();
    const key = await store.createApiKey({ prefix: 'trb_abcd1234', name: 'nightly export', workspace: 'keys-ws', role: 'marketer', secretHash: 'key-hash-1', createdBy: 'cli:ops' });
    const expired = await store.createApiKey({ prefix: 'trb_old', name: 'old', workspace: 'keys-ws', role: 'viewer', secretHash: 'key-hash-2', expiresAt: new Date(now.getTime() - 1000) });
    await store.createApiKey({ prefix: 'trb_other', name: 'other', workspace: 'other-ws', role: 'admin', secretHash: 'key-hash-3' });
    const found = await store.findApiKey('key-hash-1', now);
    expect(found).toMatchObject({ id: key.id, workspace: 'keys-ws', role: 'marketer', createdBy: 'cli:ops' });
    expect(found?.lastUsedAt?.toISOString()).toBe(now.toISOString());
    expect(await store.findApiKey('key-hash-2', now)).toBeUndefined();
    expect(await store.findApiKey('nope', now)).toBeUndefined();
    const listed = await store.listApiKeys('keys-ws');
    expect(listed.map((k) => k.id).sort()).toEqual([key.id, expired.id].sort());
    expect(listed.find((k) => k.id === key.id)?.lastUsedAt?.toISOString()).toBe(now.toISOString());
    expect(JSON.stringify(listed)).not.toContain('key-hash');
    expect(await store.revokeApiKey(key.id, now)).toBe(true);
    expect(await store.revokeApiKey(key.id, now)).toBe(false);
    expect(await store.findApiKey('key-hash-1', now)).toBeUndefined();
    expect((await store.listApiKeys('keys-ws')).find((k) => k.id === key.id)?.revokedAt?.toISOString()).toBe(now.toISOString());
    expect(await store.revokeApiKey('not-an-id', now)).toBe(false);
  });

  it('appends audit events and pages through them newest first, per workspace', async () => {
    const at = new Date('2026-06-01T12:00:00.000Z');
    for (let i = 0; i < 5; i++) {
      await store.recordAudit({
        at: new Date(at.getTime() + i * 1000),
        actor: 'cli:ops',
        action: `thing.change-${i}`,
        workspace: i % 2 === 0 ? 'audit-a' : 'audit-b',
        target: `t${i}`,
        ...(i === 0 ? { address: '203.0.113.9' } : {}),
        outcome: i === 4 ? 'denied' : 'ok',
        details: { index: i, names: ['x', 'y'], note: 'with\u0000nul' },
      });
    }
    const all = await store.listAudit({ limit: 10 });
    expect(all.slice(0, 5).map((e) => e.action)).toEqual(['thing.change-4', 'thing.change-3', 'thing.change-2', 'thing.change-1', 'thing.change-0']);
    const a = await store.listAudit({ workspace: 'audit-a', limit: 2 });
    expect(a.map((e) => e.target)).toEqual(['t4', 't2']);
    expect(a[0]).toMatchObject({ actor: 'cli:ops', outcome: 'denied', workspace: 'audit-a', details: { index: 4, names: ['x', 'y'], note: 'withnul' } });
    expect(a[0]?.at.toISOString()).toBe('2026-06-01T12:00:04.000Z');
    const next = await store.listAudit({ workspace: 'audit-a', limit: 2, before: a[1]!.id });
    expect(next.map((e) => [e.target, e.address])).toEqual([['t0', '203.0.113.9']]);
    await expect(store.listAudit({ limit: 2, before: "1; DROP TABLE x" })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
