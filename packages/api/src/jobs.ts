import { hostname } from 'node:os';
import {
  ConfigError,
  isTributaryError,
  type ConnectorDefinition,
  type Job,
  type JobOutcome,
  type Logger,
  type Store,
} from '@tributary/core';
import { remapStoredRecords, runSync, type SyncResult } from '@tributary/runner';
import type { ApiMetrics } from './metrics.js';

// Syncs and remaps asked for over HTTP: the request queues a job in the store and answers 202 at
// once; every server on the database polls the queue and runs jobs one at a time per installation,
// under its run lock, so that a job outlives the server that took it and any server can report on it.

export type { Job, JobKind, JobStatus } from '@tributary/core';

export interface JobQueue {
  enqueue(kind: Job['kind'], installation: { id: string; workspace: string; app: string }): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  /** Stops taking jobs, asks running ones to stop between pages (they go back to the queue), and waits for them. */
  close(): Promise<void>;
}

export interface JobQueueOptions {
  store: Store;
  connectorFor(app: string): ConnectorDefinition | undefined;
  logger: Logger;
  metrics: ApiMetrics;
  now: () => Date;
  /** How often an idle server looks for queued jobs (another server's, or its own it could not start). Default 1 s. */
  pollMs?: number;
  /** Least time between two progress writes of a running job. Default 1 s. */
  progressEveryMs?: number;
  /** Jobs at once in this process (each holds a store connection for its run lock). Default 2. */
  concurrency?: number;
}

const BUSY_NOTE =
  'Waiting: another sync or remap of this installation is running (here, in another server or in a runner). It starts when that one has finished.';
const STOPPED_NOTE =
  'The server stopped while this job ran; it stopped between pages and went back to the queue. A server on the same database runs it again (a sync from its last checkpoint).';
/** Look for jobs of dead processes every this many polls. */
const SWEEP_EVERY = 30;

export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { store, logger, metrics, now } = options;
  const pollMs = options.pollMs ?? 1000;
  const progressEveryMs = options.progressEveryMs ?? 1000;
  const concurrency = options.concurrency ?? 2;
  const owner = `${hostname()}:${process.pid}`;
  const controller = new AbortController();
  /** Jobs running in this process, by installation. */
  const active = new Map<string, Promise<void>>();
  let closed = false;
  let polls = 0;
  let polling: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  /** Writes progress at most every `progressEveryMs`, never two writes at once; the last one wins at the end. */
  const progressWriter = (id: string) => {
    let last = 0;
    let inFlight: Promise<void> | undefined;
    return (progress: { done: number; total?: number }) => {
      if (inFlight || Date.now() - last < progressEveryMs) return;
      last = Date.now();
      inFlight = store
        .updateJobProgress(id, progress)
        .catch((error: unknown) =>
          logger.warn({ jobId: id, error: (error as Error).message }, 'could not record job progress'),
        )
        .finally(() => (inFlight = undefined));
    };
  };

  const execute = async (job: Job): Promise<JobOutcome> => {
    const connector = options.connectorFor(job.app);
    if (!connector)
      throw new ConfigError('CONNECTOR_MISSING', `No connector "${job.app}" is loaded in this server.`, {
        hint: 'Start the server with the connector installed, then queue the job again.',
      });
    const installation = await store.getInstallation(job.installationId);
    if (!installation || installation.status !== 'active')
      throw new ConfigError(
        'INSTALLATION_NOT_ACTIVE',
        `${job.app} was uninstalled from workspace "${job.workspace}" before this job started.`,
        {
          hint: 'Install it again to sync it.',
        },
      );
    const write = progressWriter(job.id);
    const startedAt = now();
    if (job.kind === 'sync') {
      let progress = { done: 0 };
      const result: SyncResult = await runSync({
        store,
        connector,
        installation,
        now,
        logger,
        signal: controller.signal,
        onProgress: (p) => {
          progress = { done: p.fetched };
          write(progress);
        },
        onWait: (wait) => metrics.sourceWait(installation.app, wait.code),
        onRequest: (status) => metrics.sourceRequest(installation.app, String(status)),
      });
      metrics.runFinished(installation.app, result, (now().getTime() - startedAt.getTime()) / 1000);
      const outcome = {
        at: now(),
        progress,
        runId: result.runId,
        result: {
          runId: result.runId,
          status: result.status,
          fetched: result.fetched,
          inserted: result.inserted,
          unchanged: result.unchanged,
          rejected: result.rejected,
        },
      };
      if (result.status === 'stopped' && closed)
        return { status: 'queued', at: outcome.at, progress, note: STOPPED_NOTE };
      if (result.status === 'succeeded') return { ...outcome, status: 'succeeded' };
      return {
        ...outcome,
        status: 'failed',
        error: { code: result.errorCode ?? 'INTERNAL', message: result.error ?? 'The run failed.' },
      };
    }
    const counts = await store.countRows(installation.id);
    const primary = installation.dataModel.primaryTable;
    const total = Object.entries(counts).find(([table]) => table.endsWith(primary))?.[1];
    let progress: { done: number; total?: number } = { done: 0, ...(total !== undefined ? { total } : {}) };
    write(progress);
    const result = await remapStoredRecords({
      store,
      installation,
      connector,
      logger,
      signal: controller.signal,
      onProgress: (records) => {
        progress = { done: records, ...(total !== undefined ? { total } : {}) };
        write(progress);
      },
    });
    const outcome = {
      at: now(),
      progress,
      result: {
        records: result.records,
        skipped: result.skipped,
        newContacts: result.newContacts,
        interrupted: result.interrupted,
        tables: result.tables,
      },
    };
    // Remapping again rewrites nothing already right, so an interrupted remap simply runs again.
    if (result.interrupted && closed)
      return { status: 'queued', at: outcome.at, progress, note: STOPPED_NOTE };
    return { ...outcome, status: result.interrupted ? 'failed' : 'succeeded' };
  };

  /** Runs one queued job if its installation's run lock is free (true); the job stays queued otherwise. */
  const run = async (queued: Job): Promise<boolean> => {
    const locked = await store.withRunLock(queued.installationId, async () => {
      // Shutting down: leave it queued for the next server rather than start a run only to stop it.
      if (closed) return;
      // Claimed, run and finished under the lock: a `running` job with a free lock is a dead process's.
      const job = await store.claimJob(queued.id, { at: now(), owner });
      if (!job) return;
      let outcome: JobOutcome;
      try {
        outcome = await execute(job);
      } catch (error) {
        logger.error({ err: error, jobId: job.id }, 'job failed');
        outcome = {
          status: 'failed',
          at: now(),
          progress: job.progress,
          error: isTributaryError(error)
            ? { code: error.code, message: error.message }
            : { code: 'INTERNAL', message: 'An unexpected failure; see the server log.' },
        };
      }
      await store.finishJob(job.id, outcome);
    });
    if (locked.acquired) return true;
    if (queued.note !== BUSY_NOTE) await store.noteQueuedJob(queued.id, BUSY_NOTE);
    return false;
  };

  const poll = async (): Promise<void> => {
    polls += 1;
    if (polls % SWEEP_EVERY === 1) {
      const marked = await store.markInterruptedJobs(now());
      if (marked.length > 0)
        logger.warn({ jobs: marked.map((j) => j.id) }, 'jobs whose server died marked interrupted');
    }
    const seen = new Set<string>();
    for (const job of await store.listQueuedJobs({ limit: 100 })) {
      if (closed || active.size >= concurrency) break;
      // Jobs of one installation run in the order they were queued.
      if (seen.has(job.installationId) || active.has(job.installationId)) {
        seen.add(job.installationId);
        continue;
      }
      seen.add(job.installationId);
      const running = run(job)
        .catch((error: unknown) => {
          logger.error({ err: error, jobId: job.id }, 'could not run a queued job');
          return false;
        })
        .then((ran) => {
          active.delete(job.installationId);
          // The next job of this installation may start at once; a busy one waits for the next poll.
          if (ran) wake();
        });
      active.set(job.installationId, running);
    }
  };

  /** Polls now (or right after the poll under way), then every `pollMs`. */
  const wake = () => {
    if (closed) return;
    if (polling) {
      again = true;
      return;
    }
    clearTimeout(timer);
    polling = poll()
      .catch((error: unknown) =>
        logger.warn({ error: (error as Error).message }, 'could not read the job queue; trying again'),
      )
      .finally(() => {
        polling = undefined;
        if (closed) return;
        if (again) {
          again = false;
          wake();
        } else {
          timer = setTimeout(wake, pollMs);
          timer.unref();
        }
      });
  };

  wake();

  return {
    async enqueue(kind, installation) {
      if (closed)
        throw new ConfigError('API_REQUEST_INVALID', 'The server is shutting down and takes no new jobs.', {
          hint: 'Try again once it is back.',
        });
      const job = await store.createJob({
        kind,
        installationId: installation.id,
        workspace: installation.workspace,
        app: installation.app,
        createdAt: now(),
      });
      wake();
      return job;
    },
    get: (id) => store.getJob(id),
    async close() {
      closed = true;
      clearTimeout(timer);
      controller.abort();
      await polling;
      await Promise.allSettled([...active.values()]);
    },
  };
}
