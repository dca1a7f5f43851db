import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { generateSecretKey } from '@tributary/store-typeorm';
import { tempDirectory, testDatabases, type TestDatabase } from '@tributary/testing';
import { keyIdOf } from './secret-key.js';
import { runCli } from './test-support/cli.js';
import { writeFileSync } from 'node:fs';

// What keeps a token and the database safe at install: no token in clear over the network, no
// system catalog or Tributary table as "customers", and secrets that need not sit in the process list.

const databases = await testDatabases('cli-security');
const dir = tempDirectory('cli-security');

describe.each(databases)('install and secret inputs on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  const pg = database.dialect === 'postgres';
  const env = {
    TRIBUTARY_DATABASE_URL: database.url,
    TRIBUTARY_SECRET_KEY_FILE: join(dir, `${database.dialect}.key`),
    LOG_LEVEL: 'silent',
  };
  const cli = (args: string[], extraEnv: Record<string, string> = {}, stdin?: string) => runCli(args, { ...env, ...extraEnv }, stdin);
  const install = (ws: string, ...rest: string[]) => ['install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, ...rest];
  const installed = async (ws: string) => (await cli(['apps', '--workspace', ws, '--json'])).stdout.includes('closealert');

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 5, spanDays: 2, seed: 3 });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('refuses plain http to another host unless --allow-insecure-http', async () => {
    const port = new URL(sandbox.url).port;
    // 0.0.0.0 reaches this machine on Linux but is not a loopback name: it stands for any remote host.
    const remote = `http://0.0.0.0:${port}/v1`;
    const refused = await cli(install('insecure-ws', '--token', sandbox.token, '--api-url', remote));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/uses plain http to 0\.0\.0\.0, so the API token would travel in clear.*--allow-insecure-http/);
    expect(await installed('insecure-ws')).toBe(false);
    const allowed = await cli(install('insecure-ws', '--token', sandbox.token, '--api-url', remote, '--allow-insecure-http'));
    expect(allowed.code, allowed.stderr).toBe(0);
    // The loopback sandbox itself needs no flag.
    expect((await cli(install('loopback-ws', '--token', sandbox.token, '--api-url', sandbox.url))).code).toBe(0);
  });

  it('refuses system catalogs and Tributary tables as the customers table', async () => {
    const tables = pg
      ? ['pg_catalog.pg_authid', 'pg_catalog.pg_class', 'information_schema.tables', 'pg_toast.pg_toast_1255', 'tributary.installations']
      : ['sqlite_master', 'sqlite_schema', 'tributary_installations', 'TRIBUTARY_secrets'];
    for (const table of tables) {
      const result = await cli(
        install('catalog-ws', '--token', sandbox.token, '--api-url', sandbox.url, '--customers-table', table, '--customers-email-column', 'email', '--customers-id-column', 'id'),
      );
      expect(result.code, `${table}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('CUSTOMER_TABLE_INVALID');
      expect(result.stderr).toContain('must be one of your own tables');
    }
    expect(await installed('catalog-ws')).toBe(false);
  });

  it('takes the token from standard input (--token -) or TRIBUTARY_APP_TOKEN', async () => {
    const fromStdin = await cli(install('stdin-ws', '--token', '-', '--api-url', sandbox.url), {}, `${sandbox.token}\n`);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    const fromEnv = await cli(install('env-ws', '--api-url', sandbox.url), { TRIBUTARY_APP_TOKEN: sandbox.token });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    const replaced = await cli(['app', 'token', 'closealert', '--workspace', 'env-ws', '--token', '-'], {}, sandbox.issueToken({ expiresInDays: 30 }));
    expect(replaced.code, replaced.stderr).toBe(0);
    const none = await cli(install('none-ws', '--api-url', sandbox.url));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--token-file <path>, --token - (read from standard input) or TRIBUTARY_APP_TOKEN');
  });

  it('takes the new key of secrets rotate from --new-key-file, --new-key - or TRIBUTARY_NEW_SECRET_KEY', async () => {
    const current = async () => (await cli(['secrets', 'status'])).stdout.match(/ {2}(\w+) {2}\(current\)/)?.[1];
    const fileKey = generateSecretKey();
    const keyFile = join(dir, `${database.dialect}-new.key`);
    writeFileSync(keyFile, `${fileKey.toString('base64')}\n`, { mode: 0o600 });
    expect((await cli(['secrets', 'rotate', '--new-key-file', keyFile])).code).toBe(0);
    expect(await current()).toBe(keyIdOf(fileKey));
    const stdinKey = generateSecretKey();
    expect((await cli(['secrets', 'rotate', '--new-key', '-'], {}, stdinKey.toString('hex'))).code).toBe(0);
    expect(await current()).toBe(keyIdOf(stdinKey));
    const envKey = generateSecretKey();
    expect((await cli(['secrets', 'rotate'], { TRIBUTARY_NEW_SECRET_KEY: envKey.toString('base64') })).code).toBe(0);
    expect(await current()).toBe(keyIdOf(envKey));
    // Every app still opens its token under the newest key.
    const apps = await cli(['apps', '--json']);
    expect(apps.code, apps.stderr).toBe(0);
  });
});
