import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { readEnv } from './env.js';
import { cipherFor, loadSecretKeys } from './secret-key.js';
import { runCli } from './test-support/cli.js';

// Late feedback through the CLI: the look-back and reconciliation range chosen at install and shown
// by `apps`, `sync --reconcile` storing a response later than the look-back, and the run log's
// counts of late responses and of responses without a usable e-mail.

const databases = await testDatabases('cli-late-feedback');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(databases)('late feedback through the CLI on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' };
  const cli = (...args: string[]) => runCli(args, env);
  const installIn = (ws: string, ...extra: string[]) =>
    cli('install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '10', ...extra);

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 40, spanDays: 5, seed: 3 });
    store = await createStore({ url: database.url, cipher: cipherFor(loadSecretKeys(readEnv(env))) });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await sandbox?.close();
  });

  it('stores the look-back and reconciliation range chosen at install, and `apps` shows them', async () => {
    const install = await installIn('lookback', '--lookback', '2h', '--reconcile-days', '3');
    expect(install.code, install.stderr).toBe(0);
    const installation = await store.findInstallation('lookback', 'closealert');
    expect(installation?.config).toMatchObject({ lookbackMinutes: 120, reconcileDays: 3 });

    const apps = await cli('apps', '--workspace', 'lookback');
    expect(apps.code, apps.stderr).toBe(0);
    expect(apps.stdout).toContain('late feedback: look-back 2h, daily reconciliation of the past 3 days');
    const json = await cli('apps', '--workspace', 'lookback', '--json');
    expect(JSON.parse(json.stdout)[0].lateFeedback).toEqual({ lookbackMinutes: 120, reconcileDays: 3 });

    const defaults = await installIn('lookback-default');
    expect(defaults.code, defaults.stderr).toBe(0);
    expect((await cli('apps', '--workspace', 'lookback-default')).stdout).toContain('late feedback: look-back 1h, daily reconciliation of the past 7 days');
  });

  it('refuses a look-back that is not a duration, and installs nothing', async () => {
    const bad = await installIn('lookback-bad', '--lookback', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--lookback must be a duration such as 90 (minutes), 90m, 2h or 1h30m');
    expect(await store.findInstallation('lookback-bad', 'closealert')).toBeUndefined();
  });

  it('`sync --reconcile` stores a response later than the look-back now, and the log counts it', async () => {
    const ws = 'reconcile';
    expect((await installIn(ws)).code).toBe(0);
    const first = await cli('sync', '--workspace', ws);
    expect(first.code, first.stderr).toBe(0);

    // Two days late: beyond the hour of look-back, within the 7 days of reconciliation.
    const [late] = sandbox.addResponses({ count: 1, createdAt: new Date(Date.now() - 2 * DAY) });
    const plain = await cli('sync', '--workspace', ws);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain(' 0 new,');
    expect(plain.stdout).not.toContain('reconciliation pass');

    const reconciled = await cli('sync', '--workspace', ws, '--reconcile');
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(reconciled.stdout).toContain(' 1 new,');
    expect(reconciled.stdout).toMatch(/reconciliation pass: read \S+ to \S+ again/);
    expect(reconciled.stdout).toContain('late responses found: 1');

    const logs = await cli('logs', '--workspace', ws, '--limit', '1', '--json');
    const [run] = JSON.parse(logs.stdout) as { late: number; reconciled?: unknown; inserted: number }[];
    expect(run).toMatchObject({ late: 1, inserted: 1 });
    expect(run?.reconciled).toBeDefined();
    const stored = await store.query<{ id: string | number }>(
      `SELECT response_id AS id FROM ${store.appTable('closealert', 'form_responses')} WHERE response_id = ${database.dialect === 'postgres' ? '$1' : '?'}`,
      [late!.id],
    );
    expect(stored).toHaveLength(1);
  });

  it('`logs` shows how many responses came without a usable e-mail and what was read twice', async () => {
    const ws = 'odd-emails';
    expect((await installIn(ws)).code).toBe(0);
    expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    const [shape] = sandbox.addResponses({ count: 1, createdAt: new Date(Date.now() - 60 * DAY) });
    const at = new Date(Date.now() - 10 * 60_000).toISOString().slice(0, 19);
    sandbox.addResponses(['+31612345678', '=HYPERLINK("x")'].map((email, i) => ({ ...structuredClone(shape!), id: shape!.id + 1 + i, email, created_at: at })));
    const sync = await cli('sync', '--workspace', ws);
    expect(sync.code, sync.stderr).toBe(0);
    const logs = await cli('logs', '--workspace', ws, '--limit', '1');
    expect(logs.stdout).toContain('2 new responses without a usable e-mail: stored, but linked to no customer');
    const line = /responses: (\d+) fetched, (\d+) new, (\d+) already stored, (\d+) rejected/.exec(logs.stdout);
    expect(line).not.toBeNull();
    const [fetched, fresh, stored, rejected] = line!.slice(1).map(Number) as [number, number, number, number];
    const twice = Number(/, (\d+) read twice in this run/.exec(logs.stdout)?.[1] ?? 0);
    expect(fetched).toBe(fresh + stored + rejected + twice);
    expect(fresh).toBe(2);
  });
});
