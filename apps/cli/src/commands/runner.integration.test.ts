import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { testDatabases, tributaryCliEntry } from '@tributary/testing';

// `tributary runner` as operators start it: a real process that syncs a freshly installed app at
// once, prints each run, and stops with exit code 0 on SIGTERM; `runner status` reports the result.

const BIN = tributaryCliEntry();
const databases = await testDatabases('cli-runner');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts `tributary runner`, waits until it printed a finished run, then sends SIGTERM. */
function runnerUntilFirstRun(args: string[], env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'runner', ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!signalled && /acme\/closealert {2}(SUCCEEDED|FAILED)/.test(stdout)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe.each(databases)('tributary runner on $dialect', (db) => {
  let sandbox: Sandbox;
  const env = { TRIBUTARY_DATABASE_URL: db.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64') };

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 30, spanDays: 5, seed: 3 });
    const install = await cli(
      ['install', 'closealert', '--workspace', 'acme', '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '10'],
      env,
    );
    expect(install.code, install.stderr).toBe(0);
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  const args = db.dialect === 'postgres' ? ['--distributed', '--concurrency', '2'] : ['--concurrency', '2'];

  it(`syncs a new installation at once and stops with exit code 0 on SIGTERM (${args.join(' ')})`, async () => {
    const exit = await runnerUntilFirstRun(args, env);
    expect(exit.stderr).toBe('');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.stdout).toMatch(/Runner started \((embedded|distributed over PostgreSQL), 2 at once\)/);
    expect(exit.stdout).toMatch(/acme\/closealert {2}SUCCEEDED, next run \d{4}-/);
    expect(exit.stdout).toMatch(/Runner stopped\.\n$/);

    const logs = await cli(['logs', '--workspace', 'acme', '--json'], env);
    const runs = JSON.parse(logs.stdout) as { status: string; inserted: number }[];
    expect(runs.map((r) => [r.status, r.inserted])).toEqual([['succeeded', sandbox.responses().length]]);

    // The runner bills too: the first month of the monthly plan is invoiced in advance.
    const invoices = await cli(['invoices', '--workspace', 'acme', '--json'], env);
    expect(invoices.code, invoices.stderr).toBe(0);
    expect(JSON.parse(invoices.stdout)).toEqual([expect.objectContaining({ plan: 'monthly' })]);
  });

  it('reports the last and next run of every installation, and the queue', async () => {
    const status = await cli(['runner', 'status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      queue: { queued: number; running: number; failed: number; completed: number } | null;
      installations: { workspace: string; app: string; lastStatus: string; nextRunAt: string; due: boolean; attempts: number }[];
    };
    expect(parsed.installations).toHaveLength(1);
    const [acme] = parsed.installations;
    expect(acme).toMatchObject({ workspace: 'acme', app: 'closealert', lastStatus: 'succeeded', attempts: 0 });
    // The next run is the installation's slot within the hour after the run; it is due once that slot
    // has come, which a slow machine may reach between the run and this look (the slot is random).
    const untilNext = Date.parse(acme!.nextRunAt) - Date.now();
    expect(untilNext).toBeLessThanOrEqual(3_600_000);
    if (acme!.due) expect(untilNext).toBeLessThanOrEqual(0);
    else expect(untilNext).toBeGreaterThan(-5_000);
    if (db.dialect === 'postgres') expect(parsed.queue).toMatchObject({ queued: 0, running: 0, failed: 0, completed: 1 });
    else expect(parsed.queue).toBeNull();

    const text = await cli(['runner', 'status'], env);
    expect(text.stdout).toMatch(/acme\/closealert +\d{4}-\S+ +succeeded +\d{4}-/);
  });
});

describe('tributary runner --distributed on SQLite', () => {
  it('refuses, and says why', async () => {
    const sqlite = databases.find((d) => d.dialect === 'sqlite')!;
    const exit = await cli(['runner', '--distributed'], { TRIBUTARY_DATABASE_URL: sqlite.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64') });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toMatch(/RUNNER_NEEDS_POSTGRES/);
    expect(exit.stderr).toMatch(/postgres:\/\//);
  });
});
