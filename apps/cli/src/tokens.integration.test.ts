import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { closeAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition } from '@tributary/core';
import { runSync } from '@tributary/runner';
import { createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { cipherFor, loadSecretKeys } from './secret-key.js';
import { readEnv } from './env.js';
import { openRaw, runCli, type CliRun, type RawConnection } from './test-support/cli.js';

// Tokens through the app's life: expiry warnings in `apps` and `doctor`, replacing a token while a
// sync is running, a rejected replacement that keeps the old token, and an expired token that
// fails the sync with a message saying how to replace it.

const databases = await testDatabases('cli-tokens');
const DAY = 24 * 60 * 60 * 1000;

interface AppJson {
  workspace: string;
  token: { state: string; daysLeft: number | null; message: string | null };
  attention: string[];
  lastRun: { status: string; errorCode?: string } | null;
  nextRunAt: string | null;
}

describe.each(databases)('app tokens on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  let raw: RawConnection;
  let store: TypeOrmStore;
  const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' };
  const cli = (...args: string[]) => runCli(args, env);
  const installIn = (ws: string, token: string, ...extra: string[]) =>
    cli('install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', token, '--api-url', sandbox.url, ...extra);
  const appsJson = async (ws: string): Promise<AppJson[]> => {
    const run = await cli('apps', '--workspace', ws, '--json');
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as AppJson[];
  };
  const secretRow = (installationId: string) =>
    raw.query<{ ciphertext: string; key_id: string }>(`SELECT ciphertext, key_id FROM ${raw.own('installation_secrets')} WHERE installation_id = ?`, [installationId]);

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 400, spanDays: 20, seed: 5, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
    raw = await openRaw(database);
    // The test's own store on the same database and key, for a sync running beside the CLI.
    store = await createStore({ url: database.url, cipher: cipherFor(loadSecretKeys(readEnv(env))) });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await raw?.close();
    await sandbox?.close();
  });

  it.each([
    [30, 'valid', 0],
    [10, 'expiring', 1],
    [5, 'expiring', 1],
  ] as const)('shows a token valid for %i days as %s in apps, and doctor exits %i', async (days, state, doctorExit) => {
    const ws = `expiry-${days}`;
    expect((await installIn(ws, sandbox.issueToken({ expiresInDays: days }))).code).toBe(0);
    const [app] = await appsJson(ws);
    expect(app!.token.state).toBe(state);
    expect(app!.token.daysLeft).toBe(days);
    const text = await cli('apps', '--workspace', ws);
    expect(text.stdout).toContain(`(${days} days left)`);
    const doctor = await cli('doctor', '--workspace', ws);
    expect(doctor.code).toBe(doctorExit);
    if (state === 'expiring') {
      expect(app!.attention).toEqual([expect.stringContaining(`${days} days left`)]);
      expect(app!.attention[0]).toContain(`tributary app token --workspace ${ws} closealert --token-file <file>`);
      expect(text.stdout).toContain('warning: The API token is valid until');
      expect(doctor.stdout).toMatch(new RegExp(`ATTENTION\\s+${ws}/closealert: The API token is valid until .*\\(${days} days left\\)`));
      expect(doctor.stderr).toContain('need attention');
    } else {
      expect(app!.attention).toEqual([]);
      expect(doctor.stdout).toMatch(new RegExp(`ok\\s+${ws}/closealert`));
    }
  });

  it('replaces the token while a sync is running: the sync completes, the next one uses the new token', async () => {
    const ws = 'replace-live';
    const oldToken = sandbox.issueToken({ expiresInDays: 10 });
    const newToken = sandbox.issueToken();
    expect((await installIn(ws, oldToken, '--page-size', '20', '--backfill-days', '30')).code).toBe(0);
    const installation = (await store.findInstallation(ws, 'closealert'))!;
    const before = await secretRow(installation.id);

    let replacement: Promise<CliRun> | undefined;
    let fetchedWhenReplaced = 0;
    const sync = await runSync({
      store,
      connector: closeAlertConnector as unknown as ConnectorDefinition,
      installation,
      // Small batches: many commits, so that the replacement happens between them.
      batchRecords: 20,
      onProgress: (progress) => {
        // The first stored page proves the sync is under way; the token is replaced while it goes on.
        if (replacement) return;
        fetchedWhenReplaced = progress.fetched;
        replacement = cli('app', 'token', 'closealert', '--workspace', ws, '--token', newToken);
      },
    });
    const replaced = await replacement!;
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout).toContain('Replaced the API token');
    expect(sync.status).toBe('succeeded');
    expect(sync.fetched).toBe(sandbox.responses().length);
    expect(fetchedWhenReplaced).toBeLessThan(sync.fetched / 4);
    expect(sync.warnings).toEqual([expect.stringContaining('10 days left')]);

    const stored = (await store.findInstallation(ws, 'closealert'))!;
    expect(stored.config.apiToken).toBe(newToken);
    expect((await secretRow(installation.id))[0]!.ciphertext).not.toBe(before[0]!.ciphertext);

    sandbox.addResponses(4);
    const next = await cli('sync', '--workspace', ws);
    expect(next.code, next.stdout).toBe(0);
    expect(next.stdout).toContain('4 new');
    // The old token expired in 10 days and was warned about; the new one has no expiry.
    expect(next.stdout).not.toContain('warning:');
    const [app] = await appsJson(ws);
    expect(app!.token.state).toBe('no-expiry');
  });

  it('keeps the old token when the new one fails the check', async () => {
    const ws = 'replace-refused';
    const token = sandbox.issueToken();
    expect((await installIn(ws, token)).code).toBe(0);
    const installation = (await store.findInstallation(ws, 'closealert'))!;
    const before = await secretRow(installation.id);
    const forged = sandbox.issueToken({ signingSecret: randomBytes(32).toString('base64url') });
    const refused = await cli('app', 'token', 'closealert', '--workspace', ws, '--token', forged);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('SOURCE_AUTH_FAILED');
    expect(refused.stderr).not.toContain(forged);
    const malformed = await cli('app', 'token', 'closealert', '--workspace', ws, '--token', 'not-a-jwt');
    expect(malformed.code).toBe(2);
    expect(await secretRow(installation.id)).toEqual(before);
    expect((await store.findInstallation(ws, 'closealert'))!.config.apiToken).toBe(token);
    const beforeSync = Date.now();
    expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    // Synced by hand only: the runner has no schedule for it yet and would sync it at its next tick,
    // so the next run is now, not an hour after the manual run.
    const [app] = await appsJson(ws);
    expect(app!.lastRun).toMatchObject({ status: 'succeeded' });
    expect(Date.parse(app!.nextRunAt!)).toBeGreaterThanOrEqual(beforeSync);
    expect(Date.parse(app!.nextRunAt!)).toBeLessThanOrEqual(Date.now());
  });

  it('fails the sync of an expired token with how to replace it, flags it everywhere, and recovers after a replacement', async () => {
    const ws = 'expired';
    expect((await installIn(ws, sandbox.issueToken({ expiresInDays: 3 }))).code).toBe(0);
    const installation = (await store.findInstallation(ws, 'closealert'))!;
    // Time passes: the stored token is now one that expired yesterday.
    const expired = sandbox.issueToken({ expiresAt: new Date(Date.now() - DAY) });
    await store.updateInstallation(installation.id, { config: { ...installation.config, apiToken: expired }, secretFields: ['apiToken'] });
    const requests = sandbox.stats().requests;

    // At the default log level, as an operator runs it.
    const sync = await runCli(['sync', '--workspace', ws], { ...env, LOG_LEVEL: 'warn' });
    // The operator must act (replace the token): a configuration failure, exit 2.
    expect(sync.code).toBe(2);
    expect(sync.stdout).toContain('error [TOKEN_EXPIRED]: The CloseAlert API token expired on');
    expect(sync.stdout).toContain('tributary app token --workspace expired closealert --token-file <file>');
    expect(sync.stdout).not.toContain('<ws>');
    // Said once, in the run entry; and no promise that waiting for the next run helps.
    expect(`${sync.stdout}${sync.stderr}`.match(/expired on/g)).toHaveLength(1);
    expect(sync.stderr).toContain('fix what the run log above says, then sync again');
    expect(sync.stderr).not.toContain('next run resumes');
    expect(sandbox.stats().requests).toBe(requests);

    const logs = JSON.parse((await cli('logs', '--workspace', ws, '--json')).stdout) as { status: string; errorCode: string; error: string }[];
    expect(logs[0]).toMatchObject({ status: 'failed', errorCode: 'TOKEN_EXPIRED' });
    const [app] = await appsJson(ws);
    expect(app!.token.state).toBe('expired');
    expect(app!.lastRun).toMatchObject({ status: 'failed', errorCode: 'TOKEN_EXPIRED' });
    expect(app!.attention).toHaveLength(2);
    const doctor = await cli('doctor', '--workspace', ws);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/ATTENTION\s+expired\/closealert: The CloseAlert API token expired/);
    expect(doctor.stdout).toMatch(/ATTENTION\s+expired\/closealert: The last run .* failed \[TOKEN_EXPIRED\]/);
    const doctorJson = JSON.parse((await cli('doctor', '--workspace', ws, '--json')).stdout) as { ok: boolean; checks: { status: string }[] };
    expect(doctorJson.ok).toBe(false);

    expect((await cli('app', 'token', 'closealert', '--workspace', ws, '--token', sandbox.issueToken())).code).toBe(0);
    expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    expect((await cli('doctor', '--workspace', ws)).code).toBe(0);
  });

  it('tells an unreachable database apart: exit 4 with a clear line and no password', async () => {
    const doctor = await runCli(['doctor'], { ...env, TRIBUTARY_DATABASE_URL: 'postgres://tributary:hunter2@127.0.0.1:1/nowhere' });
    expect(doctor.code).toBe(4);
    expect(doctor.stdout).toMatch(/FAILED\s+database: Could not reach the PostgreSQL database "nowhere" at 127\.0\.0\.1:1/);
    expect(doctor.stdout + doctor.stderr).not.toContain('hunter2');
  });
});
