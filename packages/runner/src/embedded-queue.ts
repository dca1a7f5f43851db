import { InternalError, silentLogger, type Logger } from '@tributary/core';
import type { JobHandler, JobQueue, LocalQueueCounts, SyncJob } from './queue.js';

/** Options of {@link createEmbeddedQueue}. */
export interface EmbeddedQueueOptions {
  /** Syncs at once. Default 4. */
  concurrency?: number;
  logger?: Logger;
}

/** The in-process queue of embedded mode: one job per installation, at most `concurrency` running. */
export interface EmbeddedQueue extends JobQueue {
  readonly mode: 'embedded';
  /** Resolves once nothing is waiting or running (tests and benchmarks step on it). */
  idle(): Promise<void>;
}

/** A queue inside this process, for one runner over SQLite or PostgreSQL. */
export function createEmbeddedQueue(options: EmbeddedQueueOptions = {}): EmbeddedQueue {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InternalError('RUNNER_OPTIONS_INVALID', `The runner's concurrency must be a whole number from 1, not ${concurrency}.`);
  const logger = options.logger ?? silentLogger();
  // Keyed by installation: a newer offer replaces a waiting one, and a running one is not offered twice.
  const waiting = new Map<string, SyncJob>();
  const running = new Map<string, Promise<void>>();
  let handler: JobHandler | undefined;
  let stopping = false;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (waiting.size > 0 || running.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const pump = () => {
    while (handler && !stopping && running.size < concurrency && waiting.size > 0) {
      const [installationId, job] = waiting.entries().next().value as [string, SyncJob];
      waiting.delete(installationId);
      const handle = handler;
      const done = (async () => {
        try {
          await handle(job);
        } catch (error) {
          // The schedule was not saved, so the installation stays due and the next tick offers it again.
          logger.error({ installationId, error: (error as Error).message }, 'sync job failed');
        } finally {
          running.delete(installationId);
          pump();
          settleIdle();
        }
      })();
      running.set(installationId, done);
    }
  };

  return {
    mode: 'embedded',
    async start(handle) {
      handler = handle;
      stopping = false;
      pump();
    },
    async enqueue(jobs) {
      if (stopping) return;
      for (const job of jobs) {
        if (running.has(job.installationId)) continue;
        waiting.set(job.installationId, job);
      }
      pump();
    },
    async stop() {
      stopping = true;
      waiting.clear();
      await Promise.all(running.values());
      settleIdle();
    },
    async waiting(atMost) {
      return Math.min(waiting.size, atMost);
    },
    counts(): LocalQueueCounts {
      return { queued: waiting.size, running: running.size };
    },
    idle() {
      if (waiting.size === 0 && running.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
