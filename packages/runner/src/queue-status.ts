import PgBoss from 'pg-boss';
import { z } from 'zod';
import { parseUserInput } from '@tributary/core';
import { DEFAULT_MAINTENANCE_SECONDS, RESUME_SLACK_SECONDS, jobDataSchema, optionsSchema } from './pgboss-queue.js';

// What `tributary runner status` shows of the distributed queue, read without working on it.

/** Jobs of the sync queue by state, and the ones an operator looks at. */
export interface QueueStatus {
  schema: string;
  queue: string;
  /** Waiting jobs (created, or waiting for a retry). */
  queued: number;
  running: number;
  failed: number;
  completed: number;
  /** Waiting, running and failed jobs, newest first (at most `limit`). */
  jobs: QueueJob[];
}

/** A job as `tributary runner status` lists it. */
export interface QueueJob {
  id: string;
  state: 'created' | 'retry' | 'active' | 'failed';
  installationId?: string;
  retryCount: number;
  createdOn: Date;
  startedOn: Date | null;
  /** Why it failed, for failed and retried jobs. */
  error?: string;
  /** An active job's lease: its worker renews it while it lives. */
  leaseUntil: Date | null;
  /**
   * Set for a job whose run was cut short (its worker died or stopped) and which waits to be
   * resumed: a lapsed lease or a retry. `resumesBy` is when another runner takes it at the latest.
   */
  interrupted?: { reason: 'worker-gone' | 'retry'; resumesBy: Date };
}

const statusOptionsSchema = optionsSchema.pick({ connectionString: true, schema: true, queueName: true }).extend({
  limit: z.number().int().min(1).max(1000).default(20),
});

const jobRowSchema = z.object({
  id: z.string(),
  state: z.enum(['created', 'retry', 'active', 'failed']),
  data: z.unknown(),
  retry_count: z.coerce.number(),
  created_on: z.date(),
  started_on: z.date().nullable(),
  output: z.unknown(),
  lease_until: z.date().nullable(),
  start_after: z.date(),
  now: z.date(),
});

function errorOf(output: unknown): string | undefined {
  const parsed = z.object({ message: z.string() }).or(z.object({ value: z.object({ message: z.string() }) })).safeParse(output);
  if (!parsed.success) return undefined;
  return 'message' in parsed.data ? parsed.data.message : parsed.data.value.message;
}

/**
 * Reads the sync queue's state without working on it; undefined when no distributed runner ever
 * started on this database (pg-boss's schema does not exist).
 */
export async function readQueueStatus(input: {
  connectionString: string;
  schema?: string;
  queueName?: string;
  limit?: number;
}): Promise<QueueStatus | undefined> {
  const options = parseUserInput(statusOptionsSchema, input, 'queue status options');
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: options.schema,
    application_name: 'tributary-status',
    max: 1,
    schedule: false,
    supervise: false,
    migrate: false,
  });
  boss.on('error', () => undefined);
  try {
    await boss.start();
  } catch (error) {
    // start() opened a pool before it found no schema; pg-boss's Db can close it although its type does not say so.
    await (boss.getDb() as unknown as { close?: () => Promise<void> }).close?.().catch(() => undefined);
    if ((error as Error).message.includes('not installed')) return undefined;
    throw error;
  }
  try {
    const db = boss.getDb();
    const schema = options.schema;
    const counts = await db.executeSql(`SELECT state::text AS "state", count(*)::int AS "n" FROM ${schema}.job WHERE name = $1 GROUP BY state`, [
      options.queueName,
    ]);
    const byState = new Map<string, number>(counts.rows.map((row: { state: string; n: number }) => [row.state, row.n]));
    const rows = await db.executeSql(
      `SELECT id::text AS "id", state::text AS "state", data, retry_count, created_on, started_on, output,
              started_on + expire_in AS "lease_until", start_after, now() AS "now"
         FROM ${schema}.job
        WHERE name = $1 AND state IN ('created', 'retry', 'active', 'failed')
        ORDER BY created_on DESC
        LIMIT $2`,
      [options.queueName, options.limit],
    );
    const jobs: QueueJob[] = [];
    for (const raw of rows.rows) {
      const row = jobRowSchema.safeParse(raw);
      if (!row.success) continue;
      const data = jobDataSchema.safeParse(row.data.data);
      const error = row.data.state === 'failed' || row.data.state === 'retry' ? errorOf(row.data.output) : undefined;
      const leaseUntil = row.data.state === 'active' ? row.data.lease_until : null;
      // A lapsed lease goes back to the queue at the next maintenance pass (any runner's), then after the retry delay.
      const interrupted =
        leaseUntil && leaseUntil.getTime() < row.data.now.getTime()
          ? { reason: 'worker-gone' as const, resumesBy: new Date(row.data.now.getTime() + (2 * DEFAULT_MAINTENANCE_SECONDS + RESUME_SLACK_SECONDS) * 1000) }
          : row.data.state === 'retry'
            ? { reason: 'retry' as const, resumesBy: row.data.start_after }
            : undefined;
      jobs.push({
        id: row.data.id,
        state: row.data.state,
        ...(data.success ? { installationId: data.data.installationId } : {}),
        retryCount: row.data.retry_count,
        createdOn: row.data.created_on,
        startedOn: row.data.started_on,
        ...(error === undefined ? {} : { error }),
        leaseUntil,
        ...(interrupted ? { interrupted } : {}),
      });
    }
    return {
      schema,
      queue: options.queueName,
      queued: (byState.get('created') ?? 0) + (byState.get('retry') ?? 0),
      running: byState.get('active') ?? 0,
      failed: byState.get('failed') ?? 0,
      completed: byState.get('completed') ?? 0,
      jobs,
    };
  } finally {
    await boss.stop({ graceful: false, close: true });
  }
}
