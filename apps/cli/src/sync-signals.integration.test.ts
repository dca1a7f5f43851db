import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { testDatabases, tributaryCliEntry } from '@tributary/testing';
import { openRaw, type RawConnection } from './test-support/cli.js';

// The real `tributary` process, stopped mid-sync: by Ctrl-C (SIGINT) and SIGTERM it ends its run as
// `stopped` with what it committed and exits 130 or 143; by `kill -9` it leaves a run that the next
// look (`runner status`, `doctor`, the next sync) closes as `abandoned`. Every row carries the id of
// the run that stored it, so what each run committed is counted from the rows, and after a clean
// run every response is stored exactly once.

const BIN = tributaryCliEntry();
const databases = await testDatabases('sync-signals');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; with `stopWith`, sends that signal once the sync has committed its first page. */
function runCli(args: string[], env: Record<string, string>, stopWith?: NodeJS.Signals): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: stopWith === undefined ? 'silent' : 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stopWith !== undefined && !sent && stderr.includes('"page stored"')) {
        sent = true;
        child.kill(stopWith);
      }
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

interface LoggedRun {
  id: string;
  status: string;
  inserted: number;
  fetched: number;
}

describe.each(databases)('a sync stopped by a signal or killed on $dialect', (db) => {
  let sandbox: Sandbox;
  let raw: RawConnection;
  const env = { TRIBUTARY_DATABASE_URL: db.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64') };
  const logs = async () => JSON.parse((await runCli(['logs', '--workspace', 'acme', '--limit', '50', '--json'], env)).stdout) as LoggedRun[];
  const rowsOf = async (runId: string) =>
    Number((await raw.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${raw.own('closealert_form_responses')} WHERE run_id = ?`, [runId]))[0]?.n);

  /** New feedback, enough for several committed batches, so that each stopped sync stops mid-way. */
  const moreFeedback = () => sandbox.addResponses({ count: 2500, createdAt: (i) => new Date(Date.now() - 3_000_000 + i * 1000) });

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 3000, spanDays: 80, seed: 21, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
    const install = await runCli(
      ['install', 'closealert', '--workspace', 'acme', '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--page-size', '20'],
      env,
    );
    expect(install.code, install.stderr).toBe(0);
    raw = await openRaw(db);
  });
  afterAll(async () => {
    await raw?.close();
    await sandbox?.close();
  });

  it('logs a stopped sync as stopped with what it committed, exits 130 or 143, marks a killed one abandoned, and resumes exactly', async () => {
    // Slow pages: the signal lands while a request is in flight.
    sandbox.injectFault({ kind: 'slow', delayMs: 10 }, { times: 100_000 });

    const interrupted = await runCli(['sync', '--workspace', 'acme'], env, 'SIGINT');
    expect(interrupted.signal).toBeNull();
    expect(interrupted.code, interrupted.stderr.slice(-2000)).toBe(130);
    expect(interrupted.stdout).toMatch(/ STOPPED /);
    expect(interrupted.stderr).toMatch(/stopped by SIGINT after committing \d+ new response/);
    const [afterInt] = await logs();
    expect(afterInt).toMatchObject({ status: 'stopped' });
    expect(afterInt!.inserted).toBeGreaterThan(0);
    expect(await rowsOf(afterInt!.id)).toBe(afterInt!.inserted);

    moreFeedback();
    const terminated = await runCli(['sync', '--workspace', 'acme'], env, 'SIGTERM');
    expect(terminated.code, terminated.stderr.slice(-2000)).toBe(143);
    const [afterTerm] = await logs();
    expect(afterTerm).toMatchObject({ status: 'stopped' });
    expect(afterTerm!.id).not.toBe(afterInt!.id);
    expect(afterTerm!.inserted).toBeGreaterThan(0);
    expect(await rowsOf(afterTerm!.id)).toBe(afterTerm!.inserted);

    // `apps` and `doctor` show it; a stopped run needs no attention.
    const apps = JSON.parse((await runCli(['apps', '--workspace', 'acme', '--json'], env)).stdout) as { lastRun: { id: string; status: string } }[];
    expect(apps[0]?.lastRun).toMatchObject({ id: afterTerm!.id, status: 'stopped' });
    const healthy = await runCli(['doctor', '--workspace', 'acme'], env);
    expect(healthy.stdout).toMatch(/acme\/closealert: last run stopped at /);
    expect(healthy.code, healthy.stdout).toBe(0);

    // kill -9: the run stays `running` in the database until someone looks.
    moreFeedback();
    const killed = await runCli(['sync', '--workspace', 'acme'], env, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const [dead] = await logs();
    expect(dead).toMatchObject({ status: 'running' });
    // The killed process's connection may take a moment to be gone from the database.
    let status: { installations: { lastRun: { id: string; status: string } | null; running: unknown }[] } | undefined;
    await expect
      .poll(async () => {
        status = JSON.parse((await runCli(['runner', 'status', '--json'], env)).stdout) as typeof status;
        return status?.installations[0]?.lastRun?.status;
      }, { timeout: 20_000, interval: 500 })
      .toBe('abandoned');
    expect(status?.installations[0]).toMatchObject({ lastRun: { id: dead!.id }, running: null });
    const [abandoned] = await logs();
    expect(abandoned).toMatchObject({ id: dead!.id, status: 'abandoned' });
    expect(abandoned!.inserted).toBeGreaterThan(0);
    expect(abandoned!.inserted).toBe(await rowsOf(dead!.id));
    const doctor = await runCli(['doctor', '--workspace', 'acme'], env);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/was abandoned: its process died before it finished, after committing \d+ new response/);

    // Killed again; this time `doctor` finds it, and the one after that is found by the next sync itself.
    moreFeedback();
    const killedAgain = await runCli(['sync', '--workspace', 'acme'], env, 'SIGKILL');
    expect(killedAgain.signal).toBe('SIGKILL');
    const [deadAgain] = await logs();
    expect(deadAgain).toMatchObject({ status: 'running' });
    sandbox.clearFaults();
    let finished: Exit | undefined;
    await expect
      .poll(async () => {
        finished = await runCli(['sync', '--workspace', 'acme'], env);
        return finished.code;
      }, { timeout: 20_000, interval: 500 })
      .toBe(0);
    expect(finished?.stdout).toMatch(/ SUCCEEDED /);
    const runs = await logs();
    expect(runs.find((r) => r.id === deadAgain!.id)).toMatchObject({ status: 'abandoned', inserted: await rowsOf(deadAgain!.id) });
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);

    // Exactly once: what every run committed adds up to every response, each stored once, each with its run.
    const total = sandbox.responses().length;
    expect(runs.reduce((sum, r) => sum + r.inserted, 0)).toBe(total);
    const [stored] = await raw.query<{ n: number | string; distinct_ids: number | string; without_run: number | string }>(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT response_id) AS distinct_ids, SUM(CASE WHEN run_id IS NULL THEN 1 ELSE 0 END) AS without_run
         FROM ${raw.own('closealert_form_responses')}`,
    );
    expect(Number(stored?.n)).toBe(total);
    expect(Number(stored?.distinct_ids)).toBe(total);
    expect(Number(stored?.without_run)).toBe(0);
    for (const run of runs) expect(await rowsOf(run.id)).toBe(run.inserted);
  }, 400_000);
});
