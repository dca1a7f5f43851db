// Issue 17's "hourly sync that finds nothing new": installations already backfilled from a real
// CloseAlert sandbox (an HTTP server in another process), then the next hour's scheduled job of each
// one run through the runner's own job handler, one after another, and timed: run lock, schedule and
// installation read, run record, checkpoint, a request to the sandbox with `since`, the (empty)
// page and checkpoint, the run closed, retention, the schedule saved.
import type pg from 'pg';
import type { ConnectorDefinition } from '@tributary/core';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { createRunner, runSync, type RunnerEvent } from '@tributary/runner';
import type { SandboxProcess } from './support.js';
import { resetSchedules } from './runner.js';

const HOUR = 3_600_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/**
 * The first `count` installations of the seeded fleet: one backfill pass, then the hourly pass
 * measured. Returns the benchmark's row.
 */
export async function benchHourlyNoop(url: string, secretKey: string, sandbox: SandboxProcess, count: number, db: pg.Client) {
  await resetSchedules(db);
  const { rows } = await db.query<{ id: string }>(`SELECT "id" FROM tributary.installations WHERE "status" = 'active' ORDER BY "created_at", "id" LIMIT $1`, [count]);
  const store = await createStore({ url, cipher: createSecretCipher({ keys: { k1: Buffer.from(secretKey, 'base64') }, currentKeyId: 'k1' }) });
  // Just past the hour with every slot on the hour: the backfill pass at T, the hourly one at T + 1 h.
  let now = new Date(sandbox.now.getTime() + 1000);
  let syncMs = 0;
  const done: Extract<RunnerEvent, { type: 'job-done' }>[] = [];
  const runner = createRunner({
    store,
    connectorFor: (app) => (app === closeAlertConnector.id ? (closeAlertConnector as unknown as ConnectorDefinition) : undefined),
    now: () => now,
    // Never fires: the benchmark calls the job handler itself.
    timers: { repeat: () => () => undefined },
    policy: { slotOffsetMs: () => 0 },
    // The sync alone, timed inside the job, to tell it from the scheduler's part.
    sync: async (options) => {
      const began = performance.now();
      try {
        return await runSync(options);
      } finally {
        syncMs += performance.now() - began;
      }
    },
    onEvent: (event) => {
      if (event.type === 'job-done') done.push(event);
    },
  });
  try {
    for (const { id } of rows) await runner.handle({ installationId: id, version: 0 });
    const backfilled = done.filter((e) => e.outcome === 'ran' && e.status === 'succeeded').length;
    if (backfilled !== rows.length) throw new Error(`${backfilled} of ${rows.length} backfills succeeded`);
    done.length = 0;
    syncMs = 0;
    now = new Date(now.getTime() + HOUR);
    const times: number[] = [];
    const cpu = process.cpuUsage();
    const began = performance.now();
    for (const { id } of rows) {
      const start = performance.now();
      await runner.handle({ installationId: id, version: 1 });
      times.push(performance.now() - start);
    }
    const wallMs = performance.now() - began;
    const used = process.cpuUsage(cpu);
    const ran = done.filter((e) => e.outcome === 'ran' && e.status === 'succeeded').length;
    if (ran !== rows.length) throw new Error(`${ran} of ${rows.length} hourly syncs succeeded: ${JSON.stringify(done.find((e) => e.status !== 'succeeded'))}`);
    const found = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM tributary.runs WHERE "installation_id" = ANY($1::uuid[]) AND "started_at" >= $2 AND "inserted" > 0`,
      [rows.map((r) => r.id), new Date(now.getTime() - 1000)],
    );
    if (Number(found.rows[0]!.n) !== 0) throw new Error(`${found.rows[0]!.n} hourly syncs found something new`);
    const sorted = [...times].sort((a, b) => a - b);
    return {
      benchmark: 'runner hourly no-op sync',
      installations: rows.length,
      'wall per installation p50 ms': Number(percentile(sorted, 50).toFixed(1)),
      'wall per installation p95 ms': Number(percentile(sorted, 95).toFixed(1)),
      'wall per installation mean ms': Number((wallMs / rows.length).toFixed(1)),
      // Of that, inside runSync (run record, checkpoint, request, page, run closed).
      'sync part mean ms': Number((syncMs / rows.length).toFixed(1)),
      // This process only (runner and store); the sandbox and PostgreSQL run in their own.
      'runner CPU per installation ms': Number(((used.user + used.system) / 1000 / rows.length).toFixed(1)),
    };
  } finally {
    await runner.stop();
    await store.close();
  }
}
