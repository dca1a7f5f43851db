import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresTestDatabase } from '@tributary/testing';
import { createPgBossQueue, DEFAULT_BOSS_SCHEMA, queueStatements, SYNC_QUEUE, type PgBossQueue } from './pgboss-queue.js';
import type { JobOutcome, SyncJob } from './queue.js';

// The distributed queue against pg-boss's tables in a real PostgreSQL: the order in which jobs are
// taken, what a fetch costs with thousands of jobs waiting, the count a tick asks for, and the
// outcome a completed job keeps.

const postgres = await createPostgresTestDatabase('pgboss-queue');
afterAll(async () => postgres?.drop());

const WAITING = 3000;

/** A handler that holds every job until released, and remembers the order it got them in. */
function heldHandler() {
  const taken: string[] = [];
  let release: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (release = resolve));
  let arrived: () => void = () => undefined;
  let next = new Promise<void>((resolve) => (arrived = resolve));
  return {
    taken,
    handle: async (job: SyncJob): Promise<JobOutcome> => {
      taken.push(job.installationId);
      arrived();
      next = new Promise<void>((resolve) => (arrived = resolve));
      await gate;
      return 'ran';
    },
    /** Resolves at the next job the handler receives. */
    nextJob: () => next,
    open() {
      release();
    },
    close() {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
  };
}

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(postgres)('the pg-boss queue', () => {
  const url = postgres?.url ?? '';
  let db: pg.Client;
  let queue: PgBossQueue;
  const held = heldHandler();
  const statements = queueStatements(DEFAULT_BOSS_SCHEMA);

  beforeAll(async () => {
    db = new pg.Client({ connectionString: url });
    await db.connect();
    queue = createPgBossQueue({ connectionString: url, concurrency: 1, pollIntervalMs: 50 });
    const first = held.nextJob();
    await queue.start(held.handle);
    await queue.enqueue([{ installationId: 'first', version: 0 }]);
    // The one slot is taken: everything enqueued from here waits.
    await first;
  });
  afterAll(async () => {
    held.open();
    await queue?.stop();
    await db?.end();
  });

  it('counts waiting jobs up to the number asked for', async () => {
    // One by one: jobs inserted together share their creation time.
    for (const installationId of ['a', 'b', 'c', 'd']) await queue.enqueue([{ installationId, version: 0 }]);
    expect(await queue.waiting!(3)).toBe(3);
    expect(await queue.waiting!(100)).toBe(4);
  });

  it('takes a handed-over job first, then the others oldest first', async () => {
    await queue.handOver!({ installationId: 'resumed', version: 1 });
    held.open();
    await until(async () => held.taken.length >= 6);
    expect(held.taken).toEqual(['first', 'resumed', 'a', 'b', 'c', 'd']);
    expect(await queue.waiting!(100)).toBe(0);
  });

  it('completes the jobs it ran with their outcome', async () => {
    await until(async () => {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${DEFAULT_BOSS_SCHEMA}.job WHERE state = 'completed'`);
      return rows[0].n === 6;
    });
    const { rows } = await db.query(`SELECT DISTINCT output->>'outcome' AS outcome FROM ${DEFAULT_BOSS_SCHEMA}.job`);
    expect(rows).toEqual([{ outcome: 'ran' }]);
  });

  it(`takes the next job among ${WAITING} waiting through the fetch-order index, sorting nothing`, async () => {
    held.close();
    const blocker = held.nextJob();
    await queue.enqueue([{ installationId: 'blocker', version: 0 }]);
    await blocker;
    const jobs = Array.from({ length: WAITING }, (_, i) => ({ installationId: `w${String(i).padStart(5, '0')}`, version: 0 }));
    await queue.enqueue(jobs);
    expect(await queue.waiting!(WAITING + 10)).toBe(WAITING);
    // As the queue's own connections plan it, with the statistics of a table that never held this
    // many waiting jobs (the planner then expects a handful and would sort them all).
    const planner = new pg.Client({ connectionString: url, options: statements.planner });
    await planner.connect();
    await planner.query('BEGIN');
    try {
      const { rows } = await planner.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, FORMAT TEXT) ${statements.next}`, [SYNC_QUEUE, [], [], 1]);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      // The partition's copy of job_fetch_order.
      expect(plan).toContain('name_priority_created_on_id_idx');
      expect(plan).not.toMatch(/\bSort\b/);
      expect(plan).not.toContain('Seq Scan');
    } finally {
      // The EXPLAIN ANALYZE took a job for real: give it back.
      await planner.query('ROLLBACK');
      await planner.end();
    }
  });
});
