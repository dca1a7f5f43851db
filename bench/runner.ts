// Issue 6's benchmark: N installations due in the same hour, two `--distributed` runner processes
// sharing them over PostgreSQL (pg-boss), against a sandbox. Reported per mode:
// - noop: the sync is replaced by a no-op, so the time is the scheduler's own overhead per job
//   (tick + enqueue, fetch, run lock, schedule read, installation read, schedule compare-and-set, complete);
// - sandbox: a real small sync per installation (HTTP to the sandbox, one page, run log).
// Size: BENCH_RUNNER_INSTALLATIONS (default 2000).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { createPostgresTestDatabase } from '@tributary/testing';
import { spawnRunnerProcess, type RunnerProcess } from '../packages/runner/src/test-support/spawn-runner.js';
import { startSandboxProcess, type SandboxProcess } from './support.js';

const PROCESSES = 2;
const CONCURRENCY = 4;

interface ModeResult {
  mode: 'noop' | 'sandbox';
  dispatchSeconds: number;
  finishSeconds: number;
  firstTickMs: number;
  /** From the first job created to the last one fetched, by pg-boss's own timestamps. */
  dispatchWindowSeconds: number;
  /** From the first job fetched to the last one completed. */
  processingSeconds: number;
  jobs: number;
  ran: number;
  perProcess: number[];
}

async function installAll(url: string, secretKey: string, sandbox: SandboxProcess, count: number): Promise<number> {
  const store = await createStore({ url, cipher: createSecretCipher({ keys: { k1: Buffer.from(secretKey, 'base64') }, currentKeyId: 'k1' }) });
  try {
    await store.migrate();
    const config = closeAlertConnector.configSchema.parse({
      projectKey: sandbox.projectKey,
      apiToken: sandbox.token,
      baseUrl: sandbox.url,
      backfillDays: 1,
      pageSize: 250,
    }) as Record<string, unknown>;
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        await store.install({
          workspace: `bench-${String(i).padStart(5, '0')}`,
          app: 'closealert',
          config,
          secretFields: closeAlertConnector.secrets,
          mappings: [...closeAlertConnector.defaultMappings],
          dataModel: closeAlertConnector.dataModel,
        });
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    return (performance.now() - started) / 1000;
  } finally {
    await store.close();
  }
}

async function runMode(mode: 'noop' | 'sandbox', url: string, secretKey: string, sandbox: SandboxProcess, count: number, db: pg.Client): Promise<ModeResult> {
  // Every installation due again, and an empty queue.
  await db.query('DELETE FROM tributary.schedules');
  await db.query(`DO $$ BEGIN IF to_regclass('tributary_boss.job') IS NOT NULL THEN DELETE FROM tributary_boss.job; END IF; END $$`);
  // Just past the hour, with every slot on the hour: all installations are new (due at once) and
  // none reaches its next slot during the benchmark, so each syncs exactly once.
  const clock = { simBase: sandbox.now.getTime() + 1000, wallBase: Date.now() };
  const started = performance.now();
  const runners: RunnerProcess[] = await Promise.all(
    Array.from({ length: PROCESSES }, () =>
      spawnRunnerProcess({
        url,
        secretKey,
        clock,
        concurrency: CONCURRENCY,
        tickMs: 1000,
        pollIntervalMs: 1000,
        expireInSeconds: 900,
        dedupeWindowSeconds: 60,
        maintenanceIntervalSeconds: 30,
        noopSync: mode === 'noop',
        slotsOnTheHour: true,
      }),
    ),
  );
  const count$ = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
  let dispatchSeconds = 0;
  for (;;) {
    const dispatched = await count$(`SELECT count(DISTINCT data->>'installationId') AS n FROM tributary_boss.job WHERE started_on IS NOT NULL`);
    if (dispatchSeconds === 0 && dispatched >= count) dispatchSeconds = (performance.now() - started) / 1000;
    const finished = await count$('SELECT count(*) AS n FROM tributary.schedules');
    if (finished >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const finishSeconds = (performance.now() - started) / 1000;
  if (dispatchSeconds === 0) dispatchSeconds = finishSeconds;
  const jobs = await count$('SELECT count(*) AS n FROM tributary_boss.job');
  const { rows } = await db.query<{ dispatch: number; processing: number }>(
    `SELECT extract(epoch FROM max(started_on) - min(created_on))::float AS dispatch,
            extract(epoch FROM max(completed_on) - min(started_on))::float AS processing
       FROM tributary_boss.job`,
  );
  for (const runner of runners) runner.child.kill('SIGTERM');
  const exits = await Promise.all(runners.map((r) => r.exited));
  if (exits.some((e) => e.code !== 0)) throw new Error(`a runner process did not stop cleanly: ${JSON.stringify(exits)}`);
  const perProcess = runners.map((r) => r.events.filter((e) => e.type === 'job-done' && e.outcome === 'ran').length);
  const failed = runners.flatMap((r) => r.events).filter((e) => e.type === 'job-done' && e.outcome === 'ran' && e.status !== 'succeeded').length;
  if (failed > 0) throw new Error(`${failed} syncs did not succeed`);
  const firstTicks = runners.map((r) => r.events.find((e) => e.type === 'tick' && e.due > 0)).filter((e) => e !== undefined);
  const firstTickMs = Math.max(...firstTicks.map((e) => (e.type === 'tick' ? e.durationMs : 0)));
  return {
    mode,
    dispatchSeconds,
    finishSeconds,
    firstTickMs,
    dispatchWindowSeconds: rows[0]!.dispatch,
    processingSeconds: rows[0]!.processing,
    jobs, ran: perProcess.reduce((a, b) => a + b, 0), perProcess };
}

export async function benchRunner(installations: number): Promise<Record<string, string | number>[]> {
  const database = await createPostgresTestDatabase('bench-runner');
  if (!database) throw new Error('The runner benchmark needs PostgreSQL (set TEST_POSTGRES_URL).');
  const sandbox = await startSandboxProcess(20, 2);
  const db = new pg.Client({ connectionString: database.url });
  try {
    const secretKey = randomBytes(32).toString('base64');
    const installSeconds = await installAll(database.url, secretKey, sandbox, installations);
    await db.connect();
    const results: Record<string, string | number>[] = [];
    for (const mode of ['noop', 'sandbox'] as const) {
      const r = await runMode(mode, database.url, secretKey, sandbox, installations, db);
      const slots = PROCESSES * CONCURRENCY;
      results.push({
        benchmark: `runner ${mode}`,
        installations,
        processes: PROCESSES,
        'concurrency/process': CONCURRENCY,
        'setup: install s': Number(installSeconds.toFixed(1)),
        'first tick (list + enqueue all) ms': Math.round(r.firstTickMs),
        // Wall clock from spawning both processes (about 1-2 s of it is starting Node and tsx).
        'all dispatched s (wall)': Number(r.dispatchSeconds.toFixed(2)),
        'all finished s (wall)': Number(r.finishSeconds.toFixed(2)),
        // pg-boss's timestamps: first job created -> last job fetched, and first fetched -> last completed.
        'dispatch window s': Number(r.dispatchWindowSeconds.toFixed(2)),
        'processing s': Number(r.processingSeconds.toFixed(2)),
        'jobs/s': Math.round(installations / r.processingSeconds),
        // What one job costs a worker slot, end to end: for noop, the scheduler's overhead per job.
        'ms per job per slot': Number(((r.processingSeconds * 1000 * slots) / installations).toFixed(1)),
        'syncs run': r.ran,
        'syncs per process': r.perProcess.join(' / '),
        'jobs created (duplicates skipped)': r.jobs,
      });
      if (r.ran !== installations) throw new Error(`${r.ran} syncs ran for ${installations} installations`);
    }
    return results;
  } finally {
    await db.end().catch(() => undefined);
    await sandbox.stop();
    await database.drop();
  }
}
