import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { openRaw, runCli, type RawConnection } from './test-support/cli.js';

// A failed `tributary sync` exits with the code of whoever must act, as the README documents:
// 3 when CloseAlert refused the run, 4 when the database failed it; each run is still in the log.

const databases = await testDatabases('cli-sync-exit');

describe.each(databases)('sync exit codes on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  let raw: RawConnection;
  const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' };
  const ws = 'exit-ws';
  const cli = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 30, spanDays: 5, seed: 11 });
    const install = await cli('install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '10');
    expect(install.code, install.stderr).toBe(0);
    raw = await openRaw(database);
  });

  afterAll(async () => {
    await raw?.close();
    await sandbox?.close();
  });

  it('exits 3 when CloseAlert refuses the sync (403), and logs the failed run', async () => {
    sandbox.setAllowList(['203.0.113.7']);
    const refused = await cli('sync', '--workspace', ws);
    sandbox.setAllowList(['127.0.0.1', '::1']);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stdout).toContain('403');
    expect(refused.stderr).toContain('The sync failed');
    const logs = await cli('logs', '--workspace', ws, '--json');
    expect(JSON.parse(logs.stdout)[0]).toMatchObject({ status: 'failed', errorCode: 'SOURCE_AUTH_FAILED' });
  });

  it('exits 3 when CloseAlert cannot be reached, after the retries', async () => {
    sandbox.injectFault({ kind: 'reset' }, { times: 50 });
    try {
      const unreachable = await cli('sync', '--workspace', ws);
      expect(unreachable.code, unreachable.stderr).toBe(3);
      expect(unreachable.stdout).toContain('SOURCE_CONNECTION_FAILED');
    } finally {
      sandbox.clearFaults();
    }
  }, 60_000);

  it('says so when the token covers another project than the key, instead of blaming the token', async () => {
    const token = sandbox.issueToken({ projectKey: 'other-company.com' });
    const refused = await cli('install', 'closealert', '--workspace', 'other-ws', '--project', sandbox.projectKey, '--token', token, '--api-url', sandbox.url);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`The API token was issued for project "other-company.com", not for the project key "${sandbox.projectKey}"`);
    expect(refused.stderr).not.toContain(token);
  });

  it('exits 4 when the database fails the sync', async () => {
    // The answers table disappears under the app: every page write fails in the database.
    const answers = raw.own('closealert_answers');
    const moved = database.dialect === 'postgres' ? 'closealert_answers_moved' : 'tributary_closealert_answers_moved';
    await raw.query(`ALTER TABLE ${answers} RENAME TO "${moved}"`);
    try {
      const failed = await cli('sync', '--workspace', ws);
      expect(failed.code, failed.stderr + failed.stdout).toBe(4);
      expect(failed.stdout).toContain('STORE_WRITE_FAILED');
    } finally {
      const schema = database.dialect === 'postgres' ? '"tributary".' : '';
      await raw.query(`ALTER TABLE ${schema}"${moved}" RENAME TO ${database.dialect === 'postgres' ? '"closealert_answers"' : answers}`);
    }
    const healed = await cli('sync', '--workspace', ws);
    expect(healed.code, healed.stderr + healed.stdout).toBe(0);
  });
});
