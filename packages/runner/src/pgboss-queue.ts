import pg from 'pg';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import { StorageError, parseUserInput, silentLogger, type Logger } from '@tributary/core';
import type { JobHandler, JobOutcome, JobQueue, LocalQueueCounts, SyncJob } from './queue.js';

/** pg-boss's schema unless told otherwise: its own, next to Tributary's and never inside the user's. */
export const DEFAULT_BOSS_SCHEMA = 'tributary_boss';
/** The queue that carries sync jobs. */
export const SYNC_QUEUE = 'tributary-sync';
/**
 * A job's lease: a running job's worker renews it every third of it, so a job whose worker died
 * (SIGKILL, out of memory, the host lost) goes back to the queue within about this long plus a
 * maintenance interval or two and the retry delay, under a minute; a live sync is never cut short.
 */
export const DEFAULT_LEASE_SECONDS = 30;
/** How often pg-boss's maintenance (in one process at a time) expires lapsed leases. */
export const DEFAULT_MAINTENANCE_SECONDS = 10;

export const optionsSchema = z.object({
  connectionString: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,49}$/, 'must be a lower-case identifier of at most 50 characters')
    .default(DEFAULT_BOSS_SCHEMA),
  queueName: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/).default(SYNC_QUEUE),
  concurrency: z.number().int().min(1).max(100).default(4),
  pollIntervalMs: z.number().int().min(10).max(60_000).default(1000),
  expireInSeconds: z.number().int().min(1).max(23 * 3600).default(DEFAULT_LEASE_SECONDS),
  heartbeatSeconds: z.number().min(0).max(3600).optional(),
  retryLimit: z.number().int().min(0).max(100).default(3),
  retryDelaySeconds: z.number().int().min(0).max(3600).default(5),
  dedupeWindowSeconds: z.number().int().min(1).max(24 * 3600).default(60),
  maintenanceIntervalSeconds: z.number().int().min(1).max(3600).default(DEFAULT_MAINTENANCE_SECONDS),
  archiveCompletedAfterSeconds: z.number().int().min(1).default(3600),
  poolSize: z.number().int().min(1).max(100).default(4),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).child === 'function').optional(),
});

/** Options of {@link createPgBossQueue}; every number has a production default. */
export interface PgBossQueueOptions {
  /** The PostgreSQL URL (the store's `TRIBUTARY_DATABASE_URL`); never logged. */
  connectionString: string;
  /** Schema of pg-boss's own tables. Default `tributary_boss`. */
  schema?: string;
  /** Queue name. Default `tributary-sync`. */
  queueName?: string;
  /** Syncs at once in this process. Keep it below the store's pool size: each run holds a connection for its lock. Default 4. */
  concurrency?: number;
  /** How often an idle worker asks for jobs. Default 1 s. */
  pollIntervalMs?: number;
  /**
   * The lease: a job whose worker has not renewed it for this long (the worker died) is failed and
   * retried elsewhere. Default 30 s.
   */
  expireInSeconds?: number;
  /** How often a worker renews the leases of its running jobs; 0 never (a lease then counts from the job's start). Default a third of the lease. */
  heartbeatSeconds?: number;
  /** Retries of a job whose lease ran out or whose handler threw. Default 3. */
  retryLimit?: number;
  /** Wait before such a retry. Default 5 s. */
  retryDelaySeconds?: number;
  /**
   * One job per installation per window of this many seconds, whoever enqueues it: two runners
   * ticking at once create one job. Default 60 s.
   */
  dedupeWindowSeconds?: number;
  /** How often pg-boss expires leases and archives jobs (one process does it per interval). Default 10 s. */
  maintenanceIntervalSeconds?: number;
  /** Completed and failed jobs move to pg-boss's archive after this long. Default 3600 s. */
  archiveCompletedAfterSeconds?: number;
  /** Connections of pg-boss's own pool. Default 4. */
  poolSize?: number;
  logger?: Logger;
}

/** The sync queue of distributed mode, shared through PostgreSQL by every runner process. */
export interface PgBossQueue extends JobQueue {
  readonly mode: 'distributed';
}

export const jobDataSchema = z.object({ installationId: z.string().min(1).max(100), version: z.number().int().min(0) });

/** Sleeps until woken or until the time is up, whichever comes first. */
class Waker {
  private wakeUp: (() => void) | undefined;
  private pending = false;

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  notify(): void {
    if (this.wakeUp) this.wakeUp();
    else this.pending = true;
  }
}

const INSERT_CHUNK = 1000;
/** Priority of a run handed over mid-sync; new jobs have 0, and a worker fetches higher ones first. */
const RESUME_PRIORITY = 10;
/** Retry delay and the next worker's poll, on top of the maintenance interval, when a lapsed lease resumes. */
export const RESUME_SLACK_SECONDS = 10;
/** Attempts to create the queue when other runners create it at the same moment. */
const START_ATTEMPTS = 6;

/**
 * The queue's own statements over pg-boss's job table. pg-boss 10's fetch sorts every waiting job of
 * the queue to hand out the first few (its indexes do not follow the fetch order), so each fetch
 * cost O(waiting): at 20,000 jobs due on the hour, most of PostgreSQL's time. The `order` index
 * follows that order exactly (priority, then age), so a fetch reads the rows it takes and the dead
 * entries in front of them; `next` also completes the jobs finished since the last pass, in the
 * same round trip. Exported so that a test can show their plans.
 */
export function queueStatements(schema: string) {
  return {
    /** Settings of the connections that run `next` and `waiting` (see createPgBossQueue). */
    planner: '-c enable_sort=off -c enable_bitmapscan=off -c enable_seqscan=off -c plan_cache_mode=force_custom_plan',
    order: `CREATE INDEX IF NOT EXISTS job_fetch_order ON ${schema}.job (name, priority DESC, created_on, id) WHERE state < 'active'`,
    next: `WITH done AS (
             UPDATE ${schema}.job j
                SET completed_on = now(), state = 'completed', output = jsonb_build_object('outcome', d.outcome)
               FROM unnest($2::uuid[], $3::text[]) AS d(id, outcome)
              WHERE j.name = $1 AND j.id = d.id AND j.state = 'active'
             RETURNING j.id),
           next AS (
             SELECT id FROM ${schema}.job
              WHERE name = $1 AND state < 'active' AND start_after < now()
              ORDER BY priority DESC, created_on, id
              LIMIT $4
              FOR UPDATE SKIP LOCKED)
           UPDATE ${schema}.job j
              SET state = 'active', started_on = now(),
                  retry_count = CASE WHEN j.started_on IS NOT NULL THEN j.retry_count + 1 ELSE j.retry_count END
             FROM next
            WHERE j.name = $1 AND j.id = next.id
           RETURNING j.id, j.data`,
    waiting: `SELECT count(*)::int AS "waiting"
                FROM (SELECT 1 FROM ${schema}.job WHERE name = $1 AND state < 'active' LIMIT $2) w`,
  };
}

/**
 * A queue in PostgreSQL through pg-boss 10, in its own schema. Several runner processes share it:
 * each fetches jobs (`FOR UPDATE SKIP LOCKED`) up to its concurrency, so a job goes to one worker;
 * while it runs, the worker renews the job's lease (`expireInSeconds`) every `heartbeatSeconds`; a
 * worker that dies stops renewing, and once the lease ran out pg-boss's maintenance retries the job
 * elsewhere. A runner that stops mid-sync hands the interrupted installation over at once.
 */
export function createPgBossQueue(input: PgBossQueueOptions): PgBossQueue {
  const options = parseUserInput(optionsSchema, input, 'distributed queue options');
  const logger = (options.logger ?? silentLogger()).child({ component: 'queue' });
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: options.schema,
    application_name: 'tributary-runner',
    max: options.poolSize,
    // Cron scheduling is not used: the runner's own tick decides what is due.
    schedule: false,
    supervise: true,
    migrate: true,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds,
    archiveCompletedAfterSeconds: options.archiveCompletedAfterSeconds,
  });
  boss.on('error', (error: Error) => logger.error({ error: error.message }, 'pg-boss error'));
  const statements = queueStatements(options.schema);
  // The fetch and the waiting count run on connections of their own whose planner may neither sort
  // nor scan the whole table: it plans pg-boss's table by statistics that lag far behind a queue
  // filled by the thousand (the first fetches after a big enqueue saw "2 rows" and sorted every
  // waiting job through a bitmap scan), while walking the fetch-order index is right at any size.
  // Planned for each pass with its own values: a generic plan, made once from the statistics of an
  // empty table, joined the finished jobs by scanning every job of the queue.
  const own = new pg.Pool({
    connectionString: options.connectionString,
    max: 2,
    application_name: 'tributary-runner',
    options: statements.planner,
  });
  own.on('error', (error: Error) => logger.error({ error: error.message }, 'queue connection error'));
  const inFlight = new Map<string, Promise<void>>();
  /** Jobs whose handler has finished, marked completed by the work loop's next pass. */
  const finished = new Map<string, JobOutcome>();
  /**
   * What this process offered within the dedupe window, by installation: a tick offers the same
   * due installations again and again while they wait (up to thousands), and asking the database
   * each time what is already queued cost more than the jobs themselves. Insertion order is time order.
   */
  const offeredAt = new Map<string, { version: number; at: number }>();
  const windowMs = options.dedupeWindowSeconds * 1000;
  const waker = new Waker();
  let handler: JobHandler | undefined;
  let loop: Promise<void> | undefined;
  let stopping = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const heartbeatMs = (options.heartbeatSeconds ?? options.expireInSeconds / 3) * 1000;

  // pg-boss 10 has no heartbeat of its own: a lease is `started_on + expire_in`. Renewing moves
  // expire_in so that the lease ends one full lease from now, and keeps started_on for operators.
  const renewLeases = async () => {
    try {
      // A job back from a lapsed lease resumes a sync cut short: it goes ahead of jobs that wait
      // to start, or a backlog of backfills would hold it for minutes.
      await boss.getDb().executeSql(
        `UPDATE ${options.schema}.job SET priority = $2 WHERE name = $1 AND state = 'retry' AND priority < $2`,
        [options.queueName, RESUME_PRIORITY],
      );
      if (inFlight.size === 0) return;
      await boss.getDb().executeSql(
        `UPDATE ${options.schema}.job
            SET expire_in = (now() - started_on) + make_interval(secs => $3)
          WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`,
        [options.queueName, [...inFlight.keys()], options.expireInSeconds],
      );
    } catch (error) {
      // The next beat tries again; a lease runs several beats.
      logger.warn({ error: (error as Error).message }, 'could not renew the leases of running jobs');
    }
  };

  // Several runners starting at once on a fresh database each create the queue; pg-boss's
  // create_queue attaches a partition, and two of them at once can deadlock. An existing queue is
  // left alone, and a creation the database aborted for a conflict is tried again.
  const ensureQueue = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = await boss.getDb().executeSql(`SELECT 1 FROM ${options.schema}.queue WHERE name = $1`, [options.queueName]);
        // On the partitioned job table, so that every queue's partition has it. Built once; a queue
        // made by an older runner gets it at the first start of this one.
        if (existing.rows.length > 0) {
          await boss.getDb().executeSql(statements.order, []);
          return;
        }
        await boss.createQueue(options.queueName, {
          name: options.queueName,
          // Standard, not singleton: pg-boss 10 drops a whole fetch when one row of it would break a
          // singleton index, which would stall every worker. Exclusivity comes from the run lock instead.
          policy: 'standard',
          expireInSeconds: options.expireInSeconds,
          retryLimit: options.retryLimit,
          retryDelay: options.retryDelaySeconds,
        });
        await boss.getDb().executeSql(statements.order, []);
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        // 42P07: another runner created the index in the same moment.
        if (attempt >= START_ATTEMPTS || !(code === '40P01' || code === '40001' || code === '23505' || code === '42P07')) throw error;
        const delay = Math.round(100 * 2 ** attempt * (0.5 + Math.random()));
        logger.warn({ attempt, delayMs: delay, code }, 'creating the job queue collided with another runner; trying again');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };

  const runJob = (job: { id: string; data: unknown }, handle: JobHandler) => {
    const done = (async () => {
      try {
        const data = jobDataSchema.safeParse(job.data);
        if (!data.success) {
          await boss.fail(options.queueName, job.id, { message: 'The job does not name an installation and a version.' });
          return;
        }
        const outcome = await handle(data.data);
        finished.set(job.id, outcome);
        // Still due (another worker held the lock, or this runner was stopping): offered again at the next tick.
        if (outcome === 'busy' || outcome === 'not-started') offeredAt.delete(data.data.installationId);
      } catch (error) {
        const data = jobDataSchema.safeParse(job.data);
        if (data.success) offeredAt.delete(data.data.installationId);
        // The schedule was not saved: pg-boss retries the job, and the installation stays due anyway.
        logger.error({ jobId: job.id, error: (error as Error).message }, 'sync job failed');
        await boss.fail(options.queueName, job.id, { message: (error as Error).message }).catch(() => undefined);
      } finally {
        inFlight.delete(job.id);
        waker.notify();
      }
    })();
    inFlight.set(job.id, done);
  };

  // One pass: the jobs finished since the last pass are marked completed, as pg-boss's own complete()
  // would one by one (the output carries the outcome, which enqueue reads), and up to `free` waiting
  // jobs are taken, in one statement. Until then a finished job stays active, so no runner offers its
  // installation again; should the statement fail, the next pass completes them, and should the
  // process die first, the lease lapses and the retry finds the schedule moved on (a stale job).
  const pass = async (free: number): Promise<{ id: string; data: unknown }[]> => {
    const done = [...finished];
    if (free === 0 && done.length === 0) return [];
    try {
      // Prepared once per connection (by name): parsing and planning it cost more than running it.
      const { rows } = await own.query({
        name: 'tributary-queue-next',
        text: statements.next,
        values: [options.queueName, done.map(([id]) => id), done.map(([, outcome]) => outcome), free],
      });
      for (const [id] of done) finished.delete(id);
      return rows as { id: string; data: unknown }[];
    } catch (error) {
      logger.error({ error: (error as Error).message, finished: done.length }, 'could not complete finished jobs and fetch new ones; trying again');
      return [];
    }
  };

  const work = async (handle: JobHandler) => {
    while (!stopping) {
      const jobs = await pass(Math.max(0, options.concurrency - inFlight.size));
      for (const job of jobs) {
        if (stopping) {
          // Fetched while stopping: hand it back at once rather than wait for its lease to run out.
          await boss.fail(options.queueName, job.id, { message: 'The runner stopped before starting the job.' }).catch(() => undefined);
          continue;
        }
        runJob(job, handle);
      }
      if (jobs.length === 0 || inFlight.size >= options.concurrency) await waker.wait(options.pollIntervalMs);
    }
  };

  return {
    mode: 'distributed',
    async start(handle) {
      handler = handle;
      try {
        await boss.start();
        await ensureQueue();
      } catch (error) {
        // pg-boss's pool and timers would keep the process alive after a failed start.
        await boss.stop({ graceful: false, close: true, wait: true, timeout: 1000 }).catch(() => undefined);
        await (boss.getDb() as unknown as { close?: () => Promise<void> }).close?.().catch(() => undefined);
        await own.end().catch(() => undefined);
        throw new StorageError('QUEUE_START_FAILED', `Could not start the distributed job queue: ${(error as Error).message}`, {
          cause: Object.assign(new Error((error as Error).message), { code: (error as { code?: unknown }).code }),
          hint: 'Check that PostgreSQL is reachable and that this user may create the schema of the queue; then start the runner again.',
        });
      }
      stopping = false;
      loop = work(handler);
      if (heartbeatMs > 0) {
        heartbeat = setInterval(() => void renewLeases(), heartbeatMs);
        heartbeat.unref();
      }
      logger.info({ schema: options.schema, queue: options.queueName, concurrency: options.concurrency }, 'distributed queue started');
    },
    async enqueue(all: readonly SyncJob[]) {
      if (stopping || all.length === 0) return;
      const now = Date.now();
      for (const [installationId, offer] of offeredAt) {
        if (now - offer.at < windowMs) break;
        offeredAt.delete(installationId);
      }
      // Offered by this process within the window at this version: queued, running or done already.
      const offered = all.filter((job) => offeredAt.get(job.installationId)?.version !== job.version);
      if (offered.length === 0) return;
      // No second job for an installation whose job still waits or runs (or whose worker died and
      // whose lease has not run out yet): a backlog longer than the dedupe window would otherwise
      // fill the queue with jobs that are only dropped as stale. Nor for an offer made from a
      // schedule read just before a job of that version ran and completed.
      const live = await boss.getDb().executeSql(
        `SELECT DISTINCT j.singleton_key AS "key"
           FROM ${options.schema}.job j
           JOIN unnest($2::text[], $3::int[]) AS offer(installation_id, version) ON offer.installation_id = j.singleton_key
          WHERE j.name = $1
            AND (j.state < 'completed'
                 OR (j.state = 'completed' AND j.output->>'outcome' = 'ran' AND (j.data->>'version')::int >= offer.version))`,
        [options.queueName, offered.map((job) => job.installationId), offered.map((job) => job.version)],
      );
      const busy = new Set<string>(live.rows.map((row: { key: string }) => row.key));
      const jobs = offered.filter((job) => !busy.has(job.installationId));
      const remember = (made: readonly SyncJob[]) => {
        for (const job of made) {
          offeredAt.delete(job.installationId);
          offeredAt.set(job.installationId, { version: job.version, at: now });
        }
      };
      remember(offered.filter((job) => busy.has(job.installationId)));
      for (let i = 0; i < jobs.length; i += INSERT_CHUNK) {
        const chunk = jobs.slice(i, i + INSERT_CHUNK);
        await boss.insert(
          chunk.map((job) => ({
            name: options.queueName,
            data: { installationId: job.installationId, version: job.version },
            singletonKey: job.installationId,
            singletonSeconds: options.dedupeWindowSeconds,
            expireInSeconds: options.expireInSeconds,
            retryLimit: options.retryLimit,
            retryDelay: options.retryDelaySeconds,
          })),
        );
        remember(chunk);
      }
      if (jobs.length > 0) waker.notify();
    },
    async handOver(job) {
      // Another runner takes it at its next poll, ahead of jobs that wait to start (a backlog of
      // backfills would otherwise hold it for minutes). No dedupe slot: one was most likely used
      // already in this window, and the job of the stopped run is about to complete.
      await boss.insert([
        {
          name: options.queueName,
          priority: RESUME_PRIORITY,
          data: { installationId: job.installationId, version: job.version },
          singletonKey: job.installationId,
          expireInSeconds: options.expireInSeconds,
          retryLimit: options.retryLimit,
          retryDelay: options.retryDelaySeconds,
        },
      ]);
    },
    async stop() {
      stopping = true;
      waker.notify();
      await loop;
      await Promise.all(inFlight.values());
      await pass(0);
      if (heartbeat) clearInterval(heartbeat);
      await boss.stop({ graceful: true, wait: true, timeout: 1000 });
      await own.end();
    },
    async waiting(atMost) {
      const { rows } = await own.query({ name: 'tributary-queue-waiting', text: statements.waiting, values: [options.queueName, atMost] });
      return Number((rows[0] as { waiting: number }).waiting);
    },
    counts(): LocalQueueCounts {
      return { queued: 0, running: inFlight.size };
    },
  };
}
