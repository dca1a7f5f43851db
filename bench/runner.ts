// Issue 6's benchmark: N installations due in the same hour, two `--distributed` runner processes
// sharing them over PostgreSQL (pg-boss), against a sandbox. Reported per mode:
// - noop: the sync is replaced by a no-op, so the time is the scheduler's own overhead per job
//   (tick + enqueue, fetch, run lock, schedule read, installation read, schedule compare-and-set, complete);
// - sandbox: a real small sync per installation (HTTP to the sandbox, one page, run log).
// - hourly: the hour after a backfill, when the sync finds nothing new, per installation (runner-hourly.ts).
// Size: BENCH_RUNNER_INSTALLATIONS (default 2000); BENCH_RUNNER_MODES (default noop,sandbox,hourly);
// BENCH_RUNNER_HOURLY (installations of the hourly mode, default 300).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { secretContext } from '../packages/store-typeorm/src/installations.js';
import { dueScheduleStatements } from '../packages/store-typeorm/src/scheduling.js';
import { dialectFor } from '../packages/store-typeorm/src/dialect.js';
import { createPostgresTestDatabase } from '@tributary/testing';
import { spawnRunnerProcess, type RunnerProcess } from '../packages/runner/src/test-support/spawn-runner.js';
import { startSandboxProcess, type SandboxProcess } from './support.js';
import { benchHourlyNoop } from './runner-hourly.js';

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
  /** Jobs by what their worker did (`ran`, `stale`, `busy` …). */
  outcomes: string;
  ran: number;
  perProcess: number[];
  runnerCpuSeconds: number;
  postgresCpuSeconds: number;
}

/**
 * One installation through the store (which provisions the app's tables), then the others copied
 * from it in bulk SQL: workspaces and installations by `generate_series`, each secret sealed for
 * its own row (a sealed value is bound to its installation id). Installing 20,000 one by one would
 * time the install path, not the runner.
 */
async function installAll(url: string, secretKey: string, sandbox: SandboxProcess, count: number, db: pg.Client): Promise<number> {
  const cipher = createSecretCipher({ keys: { k1: Buffer.from(secretKey, 'base64') }, currentKeyId: 'k1' });
  const store = await createStore({ url, cipher });
  const started = performance.now();
  let template: string;
  const config = closeAlertConnector.configSchema.parse({
    projectKey: sandbox.projectKey,
    apiToken: sandbox.token,
    baseUrl: sandbox.url,
    backfillDays: 1,
    pageSize: 250,
  }) as Record<string, unknown>;
  try {
    await store.migrate();
    template = (
      await store.install({
        workspace: 'bench-00000',
        app: 'closealert',
        config,
        secretFields: closeAlertConnector.secrets,
        mappings: [...closeAlertConnector.defaultMappings],
        dataModel: closeAlertConnector.dataModel,
        // As `tributary install` records it: otherwise every first job rewrites the installation.
        connectorVersion: closeAlertConnector.version,
      })
    ).id;
  } finally {
    await store.close();
  }
  if (count <= 1) return (performance.now() - started) / 1000;
  const { rows: columns } = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = 'tributary' AND table_name = 'installations' ORDER BY ordinal_position`,
  );
  const names = columns.map((c) => c.column_name);
  const pick = names.map((n) => (n === 'id' ? 'gen_random_uuid()' : n === 'workspace_id' ? 'ws."id"' : `t."${n}"`));
  await db.query('BEGIN');
  try {
    const { rows } = await db.query<{ id: string }>(
      `WITH ws AS (
         INSERT INTO tributary.workspaces ("id", "name", "created_at")
         SELECT gen_random_uuid(), 'bench-' || lpad(g::text, 5, '0'), now() FROM generate_series(1, $1::int) g
         RETURNING "id")
       INSERT INTO tributary.installations (${names.map((n) => `"${n}"`).join(', ')})
       SELECT ${pick.join(', ')} FROM ws CROSS JOIN tributary.installations t WHERE t."id" = $2
       RETURNING "id"`,
      [count - 1, template],
    );
    const secrets = closeAlertConnector.secrets.map((name) => [name, JSON.stringify(config[name])] as const);
    const sealed = rows.flatMap(({ id }) => secrets.map(([name, plain]) => ({ id, name, ...cipher.encrypt(plain, secretContext(id, name)) })));
    for (let i = 0; i < sealed.length; i += 5000) {
      const part = sealed.slice(i, i + 5000);
      await db.query(
        `INSERT INTO tributary.installation_secrets ("installation_id", "name", "key_id", "iv", "ciphertext", "tag", "updated_at")
         SELECT s.id, s.name, s.key_id, s.iv, s.ciphertext, s.tag, now()
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS s(id, name, key_id, iv, ciphertext, tag)`,
        [part.map((x) => x.id), part.map((x) => x.name), part.map((x) => x.keyId), part.map((x) => x.iv), part.map((x) => x.ciphertext), part.map((x) => x.tag)],
      );
    }
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
  await resetSchedules(db);
  return (performance.now() - started) / 1000;
}

/**
 * Every installation back to never synced: the row an install writes (see the store's
 * scheduling.ts), due since its install time moved back 1,000 years, and found by the tick's index.
 */
export async function resetSchedules(db: pg.Client): Promise<void> {
  await db.query('DELETE FROM tributary.schedules');
  // A store from before those rows (to measure a baseline with this benchmark) finds them by an anti-join.
  const { rows } = await db.query(`SELECT 1 FROM tributary.migrations WHERE name = 'ScheduleAtInstall1764800100000'`);
  if (rows.length > 0) {
    await db.query(
      `INSERT INTO tributary.schedules ("installation_id", "next_run_at", "attempts", "version", "updated_at")
       SELECT "id", "created_at" - interval '1000 years', 0, 1, now() FROM tributary.installations`,
    );
  }
  await db.query('ANALYZE tributary.installations, tributary.schedules');
}

/** Installations synced at least once (a never-synced row is due before 1900). */
const SYNCED = `SELECT count(*) AS n FROM tributary.schedules WHERE "next_run_at" >= '1900-01-01T00:00:00Z'`;

async function runMode(mode: 'noop' | 'sandbox', url: string, secretKey: string, sandbox: SandboxProcess, count: number, db: pg.Client): Promise<ModeResult> {
  // Every installation due again, and an empty queue.
  await resetSchedules(db);
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
        // BENCH_RUNNER_CPU_PROF=<dir>: each runner process writes its CPU profile there.
        ...(process.env.BENCH_RUNNER_CPU_PROF ? { cpuProfileDir: process.env.BENCH_RUNNER_CPU_PROF } : {}),
      }),
    ),
  );
  const count$ = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
  let dispatchSeconds = 0;
  // Polled four times a second, and cheaply: the watching must not take the CPU the runners share.
  for (;;) {
    const finished = await count$(SYNCED);
    if (dispatchSeconds === 0 && finished >= count - PROCESSES * CONCURRENCY) {
      const waiting = await count$(`SELECT count(*) AS n FROM tributary_boss.job WHERE state < 'active'`);
      if (waiting === 0) dispatchSeconds = (performance.now() - started) / 1000;
    }
    if (finished >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const finishSeconds = (performance.now() - started) / 1000;
  if (dispatchSeconds === 0) dispatchSeconds = finishSeconds;
  const jobs = await count$('SELECT count(*) AS n FROM tributary_boss.job');
  const { rows: byOutcome } = await db.query<{ outcome: string | null; n: string }>(
    `SELECT coalesce(output->>'outcome', state::text) AS outcome, count(*) AS n FROM tributary_boss.job GROUP BY 1 ORDER BY 1`,
  );
  const outcomes = byOutcome.map((r) => `${r.outcome} ${r.n}`).join(', ');
  const { rows } = await db.query<{ dispatch: number; processing: number }>(
    `SELECT extract(epoch FROM max(started_on) - min(created_on))::float AS dispatch,
            extract(epoch FROM max(completed_on) - min(started_on))::float AS processing
       FROM tributary_boss.job`,
  );
  // CPU of the two runner processes and of this database's PostgreSQL backends (the runners' pools
  // and pg-boss's), read before they stop: the figure to compare on a machine shared with other work.
  const runnerCpuSeconds = runners.reduce((sum, r) => sum + cpuSecondsOf(r.pid), 0);
  const { rows: backends } = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  const postgresCpuSeconds = backends.reduce((sum, b) => sum + cpuSecondsOf(b.pid), 0);
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
    jobs, outcomes, ran: perProcess.reduce((a, b) => a + b, 0), perProcess, runnerCpuSeconds, postgresCpuSeconds };
}

/** User + system CPU seconds a process of this machine has used so far (Linux /proc; 0 when unreadable). */
function cpuSecondsOf(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Median wall time of a few runs of `work`, in ms. */
async function medianMs(work: () => Promise<unknown>, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const began = performance.now();
    await work();
    times.push(performance.now() - began);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/**
 * What one tick's read costs: the full listing filtered in memory (the tick before issue #17) against
 * the due query, at `now`; and the due query's plan, for the store README.
 */
async function tickCost(url: string, secretKey: string, now: Date, db: pg.Client) {
  const store = await createStore({ url, cipher: createSecretCipher({ keys: { k1: Buffer.from(secretKey, 'base64') }, currentKeyId: 'k1' }) });
  try {
    const dueNow = await store.listDueSchedules(now, 5000);
    const due = dueScheduleStatements(dialectFor({ dialect: 'postgres', schema: 'tributary', tablePrefix: 'tributary_' }), now, 5000).due;
    const listMs = await medianMs(async () => (await store.listSchedules()).filter((e) => e.state === undefined || e.state.nextRunAt <= now));
    const dueMs = await medianMs(() => store.listDueSchedules(now, 5000));
    const plan = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN ANALYZE ${due.sql}`,
      due.params,
    );
    if (process.env.BENCH_RUNNER_PLAN) console.error(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
    return { due: dueNow.length, listMs, dueMs };
  } finally {
    await store.close();
  }
}

export async function benchRunner(installations: number): Promise<Record<string, string | number>[]> {
  const database = await createPostgresTestDatabase('bench-runner');
  if (!database) throw new Error('The runner benchmark needs PostgreSQL (set TEST_POSTGRES_URL).');
  const sandbox = await startSandboxProcess(20, 2);
  const db = new pg.Client({ connectionString: database.url });
  try {
    const secretKey = randomBytes(32).toString('base64');
    await db.connect();
    const installSeconds = await installAll(database.url, secretKey, sandbox, installations, db);
    const results: Record<string, string | number>[] = [];
    const atStart = await tickCost(database.url, secretKey, new Date(sandbox.now.getTime() + 1000), db);
    // BENCH_RUNNER_MODES=noop skips the sandbox pass (on a loaded machine it is the long one).
    const given = (process.env.BENCH_RUNNER_MODES ?? 'noop,sandbox,hourly').split(',');
    const modes = given.filter((m): m is 'noop' | 'sandbox' => m === 'noop' || m === 'sandbox');
    for (const mode of modes) {
      const r = await runMode(mode, database.url, secretKey, sandbox, installations, db);
      // Every installation synced once and none due again this hour: the tick's steady state.
      const settled = await tickCost(database.url, secretKey, new Date(sandbox.now.getTime() + 60_000), db);
      const slots = PROCESSES * CONCURRENCY;
      results.push({
        benchmark: `runner ${mode}`,
        installations,
        processes: PROCESSES,
        'concurrency/process': CONCURRENCY,
        'setup: seed s (bulk SQL)': Number(installSeconds.toFixed(1)),
        'first tick (due query + enqueue) ms': Math.round(r.firstTickMs),
        // Wall clock from spawning both processes (about 1-2 s of it is starting Node and tsx).
        'all dispatched s (wall)': Number(r.dispatchSeconds.toFixed(2)),
        'all finished s (wall)': Number(r.finishSeconds.toFixed(2)),
        // pg-boss's timestamps: first job created -> last job fetched, and first fetched -> last completed.
        'dispatch window s': Number(r.dispatchWindowSeconds.toFixed(2)),
        'processing s': Number(r.processingSeconds.toFixed(2)),
        'jobs/s': Math.round(installations / r.processingSeconds),
        // What one job costs a worker slot, end to end: for noop, the scheduler's overhead per job.
        'ms per job per slot': Number(((r.processingSeconds * 1000 * slots) / installations).toFixed(1)),
        // CPU, not wall: the machine is shared. PostgreSQL: this database's backends at the end.
        'runner processes CPU s': Number(r.runnerCpuSeconds.toFixed(1)),
        'PostgreSQL backends CPU s': Number(r.postgresCpuSeconds.toFixed(1)),
        'CPU ms per job (runners + PostgreSQL)': Number((((r.runnerCpuSeconds + r.postgresCpuSeconds) * 1000) / installations).toFixed(2)),
        'syncs run': r.ran,
        'syncs per process': r.perProcess.join(' / '),
        'jobs created (duplicates skipped)': r.jobs,
        'jobs by outcome': r.outcomes,
        // One tick's read, median of 5, old full listing against the due query: all never synced, then none due.
        'tick read, all new: list ms / due ms': `${Math.round(atStart.listMs)} / ${Math.round(atStart.dueMs)} (${atStart.due} due)`,
        'tick read, none due: list ms / due ms': `${Math.round(settled.listMs)} / ${Math.round(settled.dueMs)} (${settled.due} due)`,
      });
      if (r.ran !== installations) throw new Error(`${r.ran} syncs ran for ${installations} installations`);
    }
    if (given.includes('hourly')) {
      const hourly = await benchHourlyNoop(database.url, secretKey, sandbox, Math.min(installations, Number(process.env.BENCH_RUNNER_HOURLY ?? 300)), db);
      results.push({ ...hourly, 'load (1 min) at end': Number(loadavg()[0]!.toFixed(2)) });
    }
    return results;
  } finally {
    await db.end().catch(() => undefined);
    await sandbox.stop();
    await database.drop();
  }
}
