import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  isTributaryError,
  type ConnectorDefinition,
  type Installation,
  type Logger,
  type Store,
} from '@tributary/core';
import { remapStoredRecords, runSync, type SyncResult } from '@tributary/runner';
import type { ApiMetrics } from './metrics.js';

// Syncs and remaps asked for over HTTP run here, in the background, one at a time per installation
// and under its run lock: the request answers 202 with a job at once, the client polls the job.

export type JobKind = 'sync' | 'remap';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface Job {
  id: string;
  kind: JobKind;
  workspace: string;
  app: string;
  installationId: string;
  status: JobStatus;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** Records done so far, and of how many when known. */
  progress: { done: number; total?: number };
  /** The run a sync job made. */
  runId?: string;
  error?: { code: string; message: string };
  /** Why a job did nothing (another worker held the installation's run lock). */
  note?: string;
  result?: Record<string, unknown>;
}

export interface JobQueue {
  enqueue(kind: JobKind, installation: Installation): Job;
  get(id: string): Job | undefined;
  /** Jobs waiting to start. */
  depth(): number;
  /** Stops taking jobs, asks running ones to stop between pages, and waits for them. */
  close(): Promise<void>;
}

const MAX_KEPT = 1000;

export function createJobQueue(options: {
  store: Store;
  connectorFor(app: string): ConnectorDefinition | undefined;
  logger: Logger;
  metrics: ApiMetrics;
  now: () => Date;
}): JobQueue {
  const { store, logger, metrics, now } = options;
  const jobs = new Map<string, Job>();
  const chains = new Map<string, Promise<void>>();
  const controller = new AbortController();
  let waiting = 0;
  let closed = false;

  const execute = async (job: Job, installation: Installation) => {
    const connector = options.connectorFor(installation.app);
    if (!connector)
      throw new ConfigError(
        'CONNECTOR_MISSING',
        `No connector "${installation.app}" is loaded in this server.`,
      );
    job.status = 'running';
    job.startedAt = now();
    const locked = await store.withRunLock(installation.id, async () => {
      const fresh = (await store.getInstallation(installation.id)) ?? installation;
      if (job.kind === 'sync') {
        const result: SyncResult = await runSync({
          store,
          connector,
          installation: fresh,
          now,
          logger,
          signal: controller.signal,
          onProgress: (p) => {
            job.progress = { done: p.fetched };
          },
          onWait: (wait) => metrics.sourceWait(installation.app, wait.code),
          onRequest: (status) => metrics.sourceRequest(installation.app, String(status)),
        });
        job.runId = result.runId;
        metrics.runFinished(installation.app, result, (now().getTime() - job.startedAt!.getTime()) / 1000);
        if (result.status !== 'succeeded')
          job.error = { code: result.errorCode ?? 'INTERNAL', message: result.error ?? 'The run failed.' };
        job.result = {
          runId: result.runId,
          status: result.status,
          fetched: result.fetched,
          inserted: result.inserted,
          unchanged: result.unchanged,
          rejected: result.rejected,
        };
        return result.status === 'succeeded';
      }
      const counts = await store.countRows(installation.id);
      const primary = fresh.dataModel.primaryTable;
      const total = Object.entries(counts).find(([table]) => table.endsWith(primary))?.[1];
      job.progress = { done: 0, ...(total !== undefined ? { total } : {}) };
      const result = await remapStoredRecords({
        store,
        installation: fresh,
        connector,
        logger,
        signal: controller.signal,
        onProgress: (records) => {
          job.progress = { done: records, ...(total !== undefined ? { total } : {}) };
        },
      });
      job.result = {
        records: result.records,
        skipped: result.skipped,
        newContacts: result.newContacts,
        interrupted: result.interrupted,
        tables: result.tables,
      };
      return !result.interrupted;
    });
    if (!locked.acquired) {
      job.status = 'skipped';
      job.note =
        'Another sync or remap of this installation was running; nothing was done. Try again when it has finished.';
    } else job.status = locked.value ? 'succeeded' : 'failed';
  };

  const remember = (job: Job) => {
    jobs.set(job.id, job);
    if (jobs.size > MAX_KEPT) {
      const oldest = [...jobs.values()].find((j) => j.status !== 'queued' && j.status !== 'running');
      if (oldest) jobs.delete(oldest.id);
    }
  };

  return {
    enqueue(kind, installation) {
      if (closed)
        throw new ConfigError('API_REQUEST_INVALID', 'The server is shutting down and takes no new jobs.', {
          hint: 'Try again once it is back.',
        });
      const job: Job = {
        id: randomUUID(),
        kind,
        workspace: installation.workspace,
        app: installation.app,
        installationId: installation.id,
        status: 'queued',
        createdAt: now(),
        progress: { done: 0 },
      };
      remember(job);
      waiting += 1;
      const previous = chains.get(installation.id) ?? Promise.resolve();
      const next = previous.then(async () => {
        waiting -= 1;
        if (closed) {
          job.status = 'skipped';
          job.note = 'The server shut down before the job started.';
          return;
        }
        try {
          await execute(job, installation);
        } catch (error) {
          job.status = 'failed';
          job.error = isTributaryError(error)
            ? { code: error.code, message: error.message }
            : { code: 'INTERNAL', message: 'An unexpected failure; see the server log.' };
          logger.error({ err: error, jobId: job.id }, 'job failed');
        } finally {
          job.finishedAt = now();
        }
      });
      chains.set(installation.id, next);
      void next.finally(() => {
        if (chains.get(installation.id) === next) chains.delete(installation.id);
      });
      return job;
    },
    get: (id) => jobs.get(id),
    depth: () => waiting,
    async close() {
      closed = true;
      controller.abort();
      await Promise.allSettled([...chains.values()]);
    },
  };
}
