import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { closeAlertConnector } from '@tributary/connector-closealert';
import type { Installation } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { createPostgresTestDatabase } from '@tributary/testing';
import { readQueueStatus } from './queue-status.js';
import { spawnRunnerProcess, type RunnerProcess, type SharedClock } from './test-support/spawn-runner.js';

// Two runner processes share 50 installations over PostgreSQL (pg-boss) through five simulated
// hours against one sandbox. The processes follow a clock the test moves hour by hour (and which
// runs in real time in between, the same for every process). One process is SIGKILLed mid-sync
// (the other takes its jobs over once the lease ran out), and a restarted one gets SIGTERM mid-sync
// (it exits 0 with no half-written page); in another hour syncs outlive their lease and the second
// worker handed the same installation skips it. From the run records: one completed run per installation
// per hour, never two runs of one installation at once, and every response stored exactly once.

const postgres = await createPostgresTestDatabase('runner-distributed');
afterAll(async () => postgres?.drop());

const INSTALLATIONS = 50;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-02T00:00:00.000Z');
const secretKey = randomBytes(32).toString('base64');

interface RunRow {
  id: string;
  installation_id: string;
  started_at: Date;
  finished_at: Date | null;
  status: string;
}

/** Epoch ms of a sandbox `created_at` (UTC wall time without offset). */
const createdAt = (text: string) => Date.parse(`${text}Z`);

describe.runIf(postgres)('two distributed runner processes', () => {
  const url = postgres?.url ?? '';
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  let db: pg.Client;
  let installations: Installation[];
  let clock: SharedClock = { simBase: T0, wallBase: Date.now() };
  const simNow = () => clock.simBase + (Date.now() - clock.wallBase);
  const live = new Set<RunnerProcess>();
  /** Runs that a signal cut short, which the hourly count leaves out. */
  const cutShort = new Set<string>();
  let killedAt = 0;

  const settings = {
    url,
    secretKey,
    concurrency: 3,
    tickMs: 150,
    pollIntervalMs: 100,
    // A small lease, so that the killed process's jobs come back quickly.
    expireInSeconds: 2,
    // No lease renewal: hour 3 lets live syncs outlive their lease on purpose.
    heartbeatSeconds: 0,
    dedupeWindowSeconds: 1,
    maintenanceIntervalSeconds: 1,
    retryDelaySeconds: 0,
    slotsOnTheHour: true,
  };

  async function startRunner(): Promise<RunnerProcess> {
    const runner = await spawnRunnerProcess({ ...settings, clock });
    live.add(runner);
    void runner.exited.then(() => live.delete(runner));
    return runner;
  }

  function moveClock(to: number) {
    clock = { simBase: to, wallBase: Date.now() };
    for (const runner of live) runner.setClock(clock);
  }

  async function runs(): Promise<RunRow[]> {
    return (await db.query<RunRow>('SELECT id, installation_id, started_at, finished_at, status FROM tributary.runs ORDER BY started_at')).rows;
  }

  /** Moves to minute 1 of hour `k` and waits until every installation has a finished run in it. */
  async function hour(k: number, during?: () => Promise<void>) {
    const start = T0 + k * HOUR;
    moveClock(start + 60_000);
    await during?.();
    await expect
      .poll(
        async () => {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(DISTINCT installation_id)::int AS n FROM tributary.runs
              WHERE started_at >= $1 AND finished_at IS NOT NULL AND status = 'succeeded' AND NOT (id = ANY($2::uuid[]))`,
            [new Date(start), [...cutShort]],
          );
          return rows[0]!.n;
        },
        { timeout: 60_000, interval: 100 },
      )
      .toBe(INSTALLATIONS);
  }

  /** Waits until a runner has started `n` syncs since `from` (an index into its events). */
  async function syncsStarted(runner: RunnerProcess, from: number, n: number) {
    await expect
      .poll(() => runner.events.slice(from).filter((e) => e.type === 'sync-started').length, { timeout: 30_000, interval: 20 })
      .toBeGreaterThanOrEqual(n);
  }

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 0, now: () => new Date(simNow()), seed: 17, rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 } });
    // Responses of the day before: the first runs backfill them.
    sandbox.addResponses({ count: 12, createdAt: (i) => new Date(T0 - 20 * HOUR + i * 37 * 60_000) });
    store = await createStore({ url, cipher: createSecretCipher({ keys: { k1: Buffer.from(secretKey, 'base64') }, currentKeyId: 'k1' }) });
    await store.migrate();
    const config = closeAlertConnector.configSchema.parse({
      projectKey: sandbox.projectKey,
      apiToken: sandbox.token,
      baseUrl: sandbox.url,
      backfillDays: 1,
      pageSize: 3,
    }) as Record<string, unknown>;
    installations = [];
    for (let i = 0; i < INSTALLATIONS; i++) {
      installations.push(
        await store.install({
          workspace: `ws-${String(i).padStart(2, '0')}`,
          app: 'closealert',
          config,
          secretFields: closeAlertConnector.secrets,
          mappings: [...closeAlertConnector.defaultMappings],
          dataModel: closeAlertConnector.dataModel,
        }),
      );
    }
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });

  afterAll(async () => {
    for (const runner of live) runner.child.kill('SIGKILL');
    await db?.end();
    await store?.close();
    await sandbox?.close();
  });

  it('syncs every installation once per hour, takes over a killed worker, and stops cleanly on SIGTERM', async () => {
    const a = await startRunner();
    const b = await startRunner();

    // Hour 0: the first runs backfill the day before. Hour 1: new responses of hour 0.
    await hour(0);
    sandbox.addResponses({ count: 3, createdAt: (i) => new Date(T0 + 10 * 60_000 + i * 60_000) });
    await hour(1);
    const perRunner = [a, b].map((r) => r.events.filter((e) => e.type === 'job-done' && e.outcome === 'ran').length);
    // Both processes took part.
    expect(Math.min(...perRunner)).toBeGreaterThan(0);

    // Hour 2: slow answers keep syncs in flight; process A is killed in the middle of its syncs.
    sandbox.addResponses({ count: 4, createdAt: (i) => new Date(T0 + HOUR + 5 * 60_000 + i * 60_000) });
    sandbox.injectFault({ kind: 'slow', delayMs: 250 }, { times: 80 });
    const aFrom = a.events.length;
    await hour(2, async () => {
      await syncsStarted(a, aFrom, 2);
      killedAt = simNow();
      a.child.kill('SIGKILL');
      const exit = await a.exited;
      expect(exit.signal).toBe('SIGKILL');
    });
    const killedRuns = (await runs()).filter((r) => r.finished_at === null);
    expect(killedRuns.length).toBeGreaterThan(0);
    for (const run of killedRuns) cutShort.add(run.id);
    // The killed process's jobs ran out their lease and were retried by pg-boss.
    const { rows: retried } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT retry_count FROM tributary_boss.job UNION ALL SELECT retry_count FROM tributary_boss.archive) j WHERE retry_count > 0`,
    );
    expect(retried[0]!.n).toBeGreaterThan(0);
    sandbox.clearFaults();

    // Hour 3: a restarted process joins again. The first answers are slower than the lease: pg-boss
    // expires those live jobs and hands them to other workers, which find the run lock taken.
    const c = await startRunner();
    sandbox.addResponses({ count: 2, createdAt: (i) => new Date(T0 + 2 * HOUR + 30 * 60_000 + i * 60_000) });
    sandbox.injectFault({ kind: 'slow', delayMs: 4000 }, { times: 6 });
    const busyBefore = [b, c].flatMap((r) => r.events).filter((e) => e.type === 'job-done' && e.outcome === 'busy').length;
    await hour(3);
    const busyAfter = [b, c].flatMap((r) => r.events).filter((e) => e.type === 'job-done' && e.outcome === 'busy').length;
    expect(busyAfter).toBeGreaterThan(busyBefore);

    // Hour 4: SIGTERM in the middle of C's syncs: the page in flight commits, C exits 0.
    sandbox.addResponses({ count: 5, createdAt: (i) => new Date(T0 + 3 * HOUR + 20 * 60_000 + i * 60_000) });
    sandbox.injectFault({ kind: 'slow', delayMs: 250 }, { times: 80 });
    const cFrom = c.events.length;
    let snapshot: { rows: Map<string, Set<number>>; cursors: Map<string, number> } | undefined;
    await hour(4, async () => {
      await syncsStarted(c, cFrom, 2);
      c.child.kill('SIGTERM');
      const exit = await c.exited;
      expect(exit).toMatchObject({ code: 0, signal: null, stopped: true });
      for (const e of c.events.slice(cFrom)) {
        if (e.type === 'job-done' && e.status === 'interrupted' && e.runId) cutShort.add(e.runId);
      }
      expect(c.events.slice(cFrom).some((e) => e.type === 'job-done' && e.status === 'interrupted')).toBe(true);
      // One consistent snapshot of rows and checkpoints while B keeps working.
      await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const stored = await db.query<{ installation_id: string; response_id: string }>('SELECT installation_id, response_id FROM tributary.closealert_form_responses');
      const checkpoints = await db.query<{ installation_id: string; value: { cursor: string } }>(
        `SELECT installation_id, value FROM tributary.checkpoints WHERE stream = 'form_responses'`,
      );
      await db.query('COMMIT');
      const rows = new Map<string, Set<number>>();
      for (const row of stored.rows) {
        if (!rows.has(row.installation_id)) rows.set(row.installation_id, new Set());
        rows.get(row.installation_id)!.add(Number(row.response_id));
      }
      snapshot = { rows, cursors: new Map(checkpoints.rows.map((r) => [r.installation_id, Date.parse(r.value.cursor)])) };
    });
    sandbox.clearFaults();

    // No half-written page at the moment C stopped: for every installation, the stored responses are
    // exactly those up to its checkpoint.
    for (const installation of installations) {
      const cursor = snapshot!.cursors.get(installation.id)!;
      const expected = sandbox
        .responses()
        .filter((r) => createdAt(r.created_at) <= cursor)
        .map((r) => r.id)
        .sort((x, y) => x - y);
      expect([...(snapshot!.rows.get(installation.id) ?? [])].sort((x, y) => x - y)).toEqual(expected);
    }

    const bExit = b.exited;
    b.child.kill('SIGTERM');
    expect(await bExit).toMatchObject({ code: 0, signal: null, stopped: true });

    // Every run, per installation.
    const all = await runs();
    const byInstallation = new Map<string, RunRow[]>();
    for (const run of all) {
      if (!byInstallation.has(run.installation_id)) byInstallation.set(run.installation_id, []);
      byInstallation.get(run.installation_id)!.push(run);
    }
    for (const installation of installations) {
      const list = byInstallation.get(installation.id) ?? [];
      // Exactly one completed run in each simulated hour.
      const completedPerHour = [0, 1, 2, 3, 4].map(
        (k) => list.filter((r) => !cutShort.has(r.id) && r.finished_at !== null && Math.floor((r.started_at.getTime() - T0) / HOUR) === k).length,
      );
      expect(completedPerHour, installation.workspace).toEqual([1, 1, 1, 1, 1]);
      // Completed runs succeeded; a cut-short one is left running (killed) or closed by its own process.
      expect(list.filter((r) => !cutShort.has(r.id)).map((r) => r.status), installation.workspace).toEqual(list.filter((r) => !cutShort.has(r.id)).map(() => 'succeeded'));
      // Never two at once: each run starts after the previous one ended (a killed run ended with its process).
      for (let i = 1; i < list.length; i++) {
        const previous = list[i - 1]!;
        const previousEnd = previous.finished_at?.getTime() ?? killedAt;
        expect(list[i]!.started_at.getTime(), installation.workspace).toBeGreaterThanOrEqual(previousEnd);
      }
      // Nothing lost, nothing doubled: every sandbox response once, per installation.
      const { rows } = await db.query<{ n: number; distinct: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT response_id)::int AS distinct FROM tributary.closealert_form_responses WHERE installation_id = $1',
        [installation.id],
      );
      expect(rows[0], installation.workspace).toEqual({ n: sandbox.responses().length, distinct: sandbox.responses().length });
    }

    // pg-boss lives in its own schema; nothing else appeared next to the user's tables.
    const { rows: schemas } = await db.query<{ schema: string }>(
      `SELECT DISTINCT table_schema AS schema FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    expect(schemas.map((s) => s.schema)).toEqual(['tributary', 'tributary_boss']);

    const status = await readQueueStatus({ connectionString: url });
    expect(status).toMatchObject({ schema: 'tributary_boss', queue: 'tributary-sync', running: 0 });
  });
});
