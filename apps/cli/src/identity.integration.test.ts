import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthService } from '@tributary/auth';
import { createSecretCipher, createStore, generateSecretKey, type TypeOrmStore } from '@tributary/store-typeorm';
import { tempDirectory, testDatabases, type TestDatabase } from '@tributary/testing';
import { openRaw, runCli, type RawConnection } from './test-support/cli.js';

// The bootstrap of the HTTP API from a shell: the first admin and their one-time password, API keys
// shown once, roles, resets, and the audit log that names the operator.

const databases = await testDatabases('cli-identity');
const dir = tempDirectory('cli-identity');

describe.each(databases)('users, API keys and the audit log from the CLI on $dialect', (database: TestDatabase) => {
  const env = {
    TRIBUTARY_DATABASE_URL: database.url,
    TRIBUTARY_SECRET_KEY_FILE: join(dir, `${database.dialect}.key`),
    TRIBUTARY_USER: 'ops-anna',
    LOG_LEVEL: 'silent',
  };
  const cli = (args: string[]) => runCli(args, env);
  let raw: RawConnection;
  let store: TypeOrmStore;
  const shown: string[] = [];

  beforeAll(async () => {
    raw = await openRaw(database);
  });
  afterAll(async () => {
    await store?.close();
    await raw?.close();
  });

  it('creates the first admin of a new workspace and prints a one-time password that signs in', async () => {
    const created = await cli(['users', 'create', '--email', 'Admin@Example.com', '--workspace', 'acme', '--role', 'admin']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('Created user admin@example.com, admin of workspace "acme".');
    const password = created.stdout.trim().split('\n').at(-1)!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    shown.push(password);

    store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k: generateSecretKey() }, currentKeyId: 'k' }) });
    const auth = createAuthService({ store });
    const signedIn = await auth.signIn({ email: 'admin@example.com', password, address: '127.0.0.1' });
    expect(signedIn.user).toMatchObject({ mustChangePassword: true, memberships: [{ workspace: 'acme', role: 'admin' }] });

    const again = await cli(['users', 'create', '--email', 'admin@example.com', '--workspace', 'acme', '--role', 'viewer']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('USER_EXISTS');
    const badRole = await cli(['users', 'create', '--email', 'x@example.com', '--workspace', 'acme', '--role', 'owner']);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/--role/);
  });

  it('names a workspace that has only users among the workspaces there are', async () => {
    // No app was ever installed here: `acme` exists only through its users.
    const typo = await cli(['users', 'list', '--workspace', 'acmee']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('There is no workspace "acmee"; workspaces: acme.');
    expect(typo.stderr).toMatch(/hint: Check the spelling/);
  });

  it('lists users, changes roles, keeps the last admin, and resets a password with --json', async () => {
    const second = await cli(['users', 'create', '--email', 'mark@example.com', '--workspace', 'acme', '--role', 'marketer', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const body = JSON.parse(second.stdout) as { user: { email: string; memberships: unknown }; oneTimePassword: string };
    expect(body.user).toMatchObject({ email: 'mark@example.com', memberships: [{ workspace: 'acme', role: 'marketer' }] });
    shown.push(body.oneTimePassword);

    const listed = JSON.parse((await cli(['users', 'list', '--workspace', 'acme', '--json'])).stdout) as { email: string }[];
    expect(listed.map((u) => u.email)).toEqual(['admin@example.com', 'mark@example.com']);
    expect((await cli(['users', 'list', '--workspace', 'acme'])).stdout).toMatch(/mark@example\.com\s+marketer\s+one-time password/);

    const demote = await cli(['users', 'set-role', '--email', 'admin@example.com', '--workspace', 'acme', '--role', 'viewer']);
    expect(demote.code).toBe(2);
    expect(demote.stderr).toContain('LAST_WORKSPACE_ADMIN');
    expect((await cli(['users', 'set-role', '--email', 'mark@example.com', '--workspace', 'acme', '--role', 'admin'])).code).toBe(0);
    expect((await cli(['users', 'set-role', '--email', 'admin@example.com', '--workspace', 'acme', '--role', 'none'])).code).toBe(0);
    const roles = await raw.query<{ email: string; role: string }>(
      `SELECT u."email", m."role" FROM ${raw.own('memberships')} m JOIN ${raw.own('users')} u ON u."id" = m."user_id" ORDER BY u."email"`,
    );
    expect(roles).toEqual([{ email: 'mark@example.com', role: 'admin' }]);
    const unknown = await cli(['users', 'set-role', '--email', 'ghost@example.com', '--workspace', 'acme', '--role', 'viewer']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('USER_NOT_FOUND');

    const reset = await cli(['users', 'reset-password', '--email', 'mark@example.com', '--json']);
    expect(reset.code, reset.stderr).toBe(0);
    const { oneTimePassword } = JSON.parse(reset.stdout) as { oneTimePassword: string };
    expect(oneTimePassword).not.toBe(body.oneTimePassword);
    shown.push(oneTimePassword);
    const auth = createAuthService({ store });
    await expect(auth.signIn({ email: 'mark@example.com', password: body.oneTimePassword, address: '127.0.0.1' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect((await auth.signIn({ email: 'mark@example.com', password: oneTimePassword, address: '127.0.0.1' })).user.email).toBe('mark@example.com');
  });

  it('creates an API key shown once with an expiry, lists it without the secret, and revokes it', async () => {
    const created = await cli(['api-keys', 'create', '--workspace', 'acme', '--role', 'viewer', '--name', 'nightly export', '--expires', '90d']);
    expect(created.code, created.stderr).toBe(0);
    const secret = created.stdout.trim().split('\n').at(-1)!;
    expect(secret).toMatch(/^trb_[A-Za-z0-9_-]{43}$/);
    shown.push(secret);
    const auth = createAuthService({ store });
    const principal = await auth.authenticateApiKey(secret);
    expect(principal).toMatchObject({ kind: 'api-key', workspace: 'acme', role: 'viewer' });

    const listed = JSON.parse((await cli(['api-keys', 'list', '--workspace', 'acme', '--json'])).stdout) as { id: string; prefix: string; expiresAt: string; createdBy: string }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ prefix: secret.slice(0, 12), createdBy: 'cli:ops-anna' });
    const days = (Date.parse(listed[0]!.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    const table = (await cli(['api-keys', 'list', '--workspace', 'acme'])).stdout;
    expect(table).toContain(`${secret.slice(0, 12)}…`);
    expect(table).not.toContain(secret);

    const badExpiry = await cli(['api-keys', 'create', '--workspace', 'acme', '--role', 'viewer', '--name', 'x', '--expires', 'soon']);
    expect(badExpiry.code).toBe(2);
    expect(badExpiry.stderr).toContain('--expires');

    const elsewhere = await cli(['api-keys', 'revoke', listed[0]!.id, '--workspace', 'other']);
    expect(elsewhere.code).toBe(2);
    const revoked = await cli(['api-keys', 'revoke', listed[0]!.id, '--workspace', 'acme', '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: listed[0]!.id, revoked: true, changed: true });
    expect(await auth.authenticateApiKey(secret)).toBeUndefined();
    const missing = await cli(['api-keys', 'revoke', '6f2d1c2e-8a51-4c1e-9f7a-2b7c4d1e0f00', '--workspace', 'acme']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('API_KEY_NOT_FOUND');
  });

  it('shows the audit log naming the operator, per workspace and as JSON, and no secret in it', async () => {
    const json = await cli(['audit', '--workspace', 'acme', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const events = JSON.parse(json.stdout) as { id: string; actor: string; action: string; outcome: string; target: string | null }[];
    const actions = events.filter((e) => e.actor === 'cli:ops-anna').map((e) => `${e.action} ${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining(['user.create ok', 'user.create failed', 'user.set-role failed', 'user.set-role ok', 'api-key.create ok', 'api-key.revoke ok', 'api-key.revoke failed']),
    );
    expect(events.map((e) => Number(e.id))).toEqual([...events.map((e) => Number(e.id))].sort((a, b) => b - a));
    const page = JSON.parse((await cli(['audit', '--limit', '2', '--before', events[1]!.id, '--json'])).stdout) as { id: string }[];
    expect(page.map((e) => Number(e.id)).every((id) => id < Number(events[1]!.id))).toBe(true);
    expect(page).toHaveLength(2);
    const text = await cli(['audit']);
    expect(text.stdout).toMatch(/cli:ops-anna\s+user\.reset-password/);
    expect(text.stdout).toMatch(/user:admin@example\.com\s+user\.login/);
    for (const secret of shown) {
      expect(json.stdout).not.toContain(secret);
      expect(text.stdout).not.toContain(secret);
    }
    const typo = await cli(['audit', '--workspace', 'acm']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('WORKSPACE_NOT_FOUND');
  });
});
