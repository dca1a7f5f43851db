import { z } from 'zod';
import {
  InternalError,
  isTributaryError,
  parseUserInput,
  silentLogger,
  adoptDeclaredModel,
  type ConnectorDefinition,
  type DestinationDefinition,
  type DestinationLimits,
  type DestinationStore,
  type InstallationStore,
  type ProfileStore,
  type Logger,
  type RetentionStore,
  type ScheduleStore,
  type SyncStore,
} from '@tributary/core';
import { createEmbeddedQueue } from './embedded-queue.js';
import type { JobOutcome, JobQueue, SyncJob } from './queue.js';
import { runSync, type RunSyncOptions, type SyncResult } from './run-sync.js';
import { applyRetentionAfterRun } from './retention.js';
import { deliverDue, type DeliveryEvent, type DeliveryPolicy } from './deliveries.js';
import { evaluateWorkspaceProfiles, type WorkspaceEvaluation } from './profile-evaluation.js';
import { DEFAULT_SCHEDULE_POLICY, scheduleAfterRun, type RunReport, type SchedulePolicy } from './schedule.js';

/** Work that must happen every so often (monthly invoices, say), in one runner process per period. */
export interface PeriodicTask {
  /** Unique name; the store remembers the last period claimed under it. */
  name: string;
  /** Length of a period; periods start at multiples of it since the epoch. */
  everyMs: number;
  /**
   * Runs once per period, in whichever runner claims it first. A run that throws gives the period
   * back, so that a later tick tries again; a process that dies mid-run loses that period, so a task
   * should catch up on what earlier periods left undone (and be idempotent).
   */
  run(now: Date): Promise<void>;
}

/** Repeats the scheduler's tick; tests pass timers that never fire and call `tick()` themselves. */
export interface RunnerTimers {
  /** Calls `fn` every `ms` milliseconds until the returned function is called. */
  repeat(fn: () => void, ms: number): () => void;
}

/** What the runner reports as it works (logs, tests, benchmarks). */
export type RunnerEvent =
  | {
      type: 'tick';
      at: Date;
      due: number;
      /** Jobs found waiting in the queue (counted up to the refill mark); at or past it, the schedules were not read. */
      waiting: number;
      /** Real time the pass took (schedules read, jobs offered). */
      durationMs: number;
    }
  | { type: 'sync-started'; installationId: string; version: number }
  | {
      type: 'job-done';
      installationId: string;
      version: number;
      outcome: JobOutcome;
      /** Set when a sync ran. */
      workspace?: string;
      app?: string;
      runId?: string;
      status?: RunReport['status'];
      errorCode?: string;
      nextRunAt?: Date;
    }
  | { type: 'periodic-task'; name: string; periodStart: Date; ok: boolean }
  | ({ type: 'profiles-evaluated' } & WorkspaceEvaluation)
  | DeliveryEvent;

/** Profiles that act: evaluated after each sync and as time passes, their changes delivered. */
export interface ActivationOptions {
  store: ProfileStore & DestinationStore;
  /** The destination definition of a type, or undefined when its package is not loaded. */
  destinationFor: (type: string) => DestinationDefinition | undefined;
  /** How often every workspace's profiles are evaluated even without a sync (time-based conditions). Default 1 h. */
  evaluateEveryMs?: number;
  deliveryPolicy?: Partial<DeliveryPolicy>;
  /** The operator's limits on where destinations reach, checked at each delivery. */
  destinationLimits?: DestinationLimits;
}

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  /** Schedules and locks, the installation each job syncs, and what the sync itself writes. */
  store: ScheduleStore & InstallationStore & SyncStore & Partial<RetentionStore>;
  /** The connector of an app id, or undefined for an unknown app. */
  connectorFor: (app: string) => ConnectorDefinition | undefined;
  /** Where due syncs wait; default an embedded queue with concurrency 4. */
  queue?: JobQueue;
  /** The clock of scheduling decisions and of every run. Default the real clock. */
  now?: () => Date;
  /** Default real `setInterval`. */
  timers?: RunnerTimers;
  /** How often the scheduler looks for due installations. Default 30 s. */
  tickMs?: number;
  /**
   * How many due installations one tick reads and offers at most; a tick reads none while half as
   * many jobs still wait in the queue. Default 5,000.
   */
  duePerTick?: number;
  /** Interval, backoff and jitter. */
  policy?: Partial<SchedulePolicy>;
  periodicTasks?: readonly PeriodicTask[];
  logger?: Logger;
  /** The sync itself; default {@link runSync}. Benchmarks pass a no-op to measure the scheduler alone. */
  sync?: (options: RunSyncOptions) => Promise<SyncResult>;
  onEvent?: (event: RunnerEvent) => void;
  /** Evaluate profiles after syncs and hourly, and deliver their changes; off when left out. */
  activation?: ActivationOptions;
  /** Told after each request a sync makes to its source, with the app and the status (`error`: none came); for metrics. */
  onSourceRequest?: (app: string, status: number | 'error') => void;
}

/** Scheduling and running syncs for every installation. */
export interface Runner {
  readonly mode: JobQueue['mode'];
  /** Starts the queue's workers and the periodic tick; resolves after the first tick. */
  start(): Promise<void>;
  /** One scheduler pass: offers every due installation to the queue and runs due periodic tasks. */
  tick(): Promise<{ due: number }>;
  /** Runs one job now (what a queue's worker calls). */
  handle(job: SyncJob): Promise<JobOutcome>;
  /**
   * Stops: no new tick and no new job; a running sync stops between pages (the page in flight
   * commits) and its installation stays due. Resolves when every sync in this process has ended.
   */
  stop(): Promise<void>;
}

/**
 * How many due installations one tick offers the queue at most: enough to keep two processes busy
 * for many ticks, few enough that a backlog of a whole fleet stays one bounded query per tick.
 */
const DUE_PER_TICK = 5_000;

const policySchema = z.object({
  everyMs: z.number().int().min(1000).max(366 * 24 * 3_600_000),
  backoffBaseMs: z.number().int().min(0),
  backoffMaxMs: z.number().int().min(0),
  slotOffsetMs: z.custom<SchedulePolicy['slotOffsetMs']>((v) => typeof v === 'function', 'must be a function'),
});

const taskSchema = z.object({
  name: z.string().min(1).max(200),
  everyMs: z.number().int().min(1000),
  run: z.custom<PeriodicTask['run']>((v) => typeof v === 'function', 'must be a function'),
});

const realTimers: RunnerTimers = {
  repeat(fn, ms) {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};

/** How a sync went, in the scheduler's terms. */
function reportOf(result: SyncResult, startedAt: Date, finishedAt: Date): RunReport {
  if (result.interrupted) return { startedAt, finishedAt, status: 'interrupted' };
  if (result.status === 'succeeded') return { startedAt, finishedAt, status: 'succeeded' };
  const failure = result.failure;
  const retryAfter = retryAfterOf(failure);
  return {
    startedAt,
    finishedAt,
    status: 'failed',
    ...(result.errorCode === undefined ? {} : { errorCode: result.errorCode }),
    // By what the error says, not its class: a plugin's errors come from its own copy of core.
    ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
  };
}

/**
 * The runner: every tick it reads the schedules from the store and offers each due installation to
 * the queue; a worker then takes the installation's run lock, checks that the job is not stale,
 * syncs, and saves the next due time (regular slot, backoff, or the source's Retry-After) with a
 * compare-and-set on the schedule's version.
 */
export function createRunner(options: RunnerOptions): Runner {
  const given = Object.fromEntries(Object.entries(options.policy ?? {}).filter(([, value]) => value !== undefined));
  const policy = parseUserInput(policySchema, { ...DEFAULT_SCHEDULE_POLICY, ...given }, 'schedule policy') as SchedulePolicy;
  const tasks = (options.periodicTasks ?? []).map((task) => parseUserInput(taskSchema, task, `periodic task`) as PeriodicTask);
  const activation = options.activation;
  if (activation) {
    // Time-based conditions ("within 10 days") change membership with no new feedback at all.
    tasks.push({
      name: 'profile-evaluation',
      everyMs: activation.evaluateEveryMs ?? 3_600_000,
      run: async (now) => {
        const workspaces = [...new Set((await options.store.listSchedules()).map((entry) => entry.workspace))].sort();
        for (const workspace of workspaces) await evaluateProfilesOf(workspace, now);
        await deliverNow();
      },
    });
  }
  const names = new Set<string>();
  for (const task of tasks) {
    if (names.has(task.name)) throw new InternalError('RUNNER_OPTIONS_INVALID', `Two periodic tasks are named "${task.name}".`);
    names.add(task.name);
  }
  const tickMs = options.tickMs ?? 30_000;
  const duePerTick = options.duePerTick ?? DUE_PER_TICK;
  if (!Number.isInteger(duePerTick) || duePerTick < 1 || duePerTick > 100_000) {
    throw new InternalError('RUNNER_OPTIONS_INVALID', `The runner's due installations per tick must be a whole number from 1 to 100000, not ${duePerTick}.`);
  }
  // The due read returns the oldest due installations first, and those are the ones already
  // queued: while a backlog waits, every tick read the same thousands of rows only for the queue to
  // drop them. Half a tick's worth still waiting keeps every worker busy until a later tick refills.
  const refillBelow = Math.max(1, Math.floor(duePerTick / 2));
  const { store } = options;
  const queue = options.queue ?? createEmbeddedQueue({ logger: options.logger });
  const clock = options.now ?? (() => new Date());
  const timers = options.timers ?? realTimers;
  const logger = (options.logger ?? silentLogger()).child({ component: 'runner' });
  const sync = options.sync ?? runSync;
  const emit = (event: RunnerEvent) => options.onEvent?.(event);
  const shutdown = new AbortController();
  /** The last period each task ran for in this process, so that a tick does not ask the store again. */
  const claimedPeriods = new Map<string, number>();
  let cancelTimer: (() => void) | undefined;
  let delivering: Promise<unknown> | undefined;

  const evaluateProfilesOf = async (workspace: string, at: Date) => {
    if (!activation) return;
    const result = await evaluateWorkspaceProfiles({
      store: {
        listProfiles: (w) => activation.store.listProfiles(w),
        evaluateProfile: (w, n, o) => activation.store.evaluateProfile(w, n, o),
        claimPeriodicTask: (n, p, c) => store.claimPeriodicTask(n, p, c),
      },
      workspace,
      at,
      claimedAt: clock(),
      logger,
    });
    if (result.claimed) emit({ type: 'profiles-evaluated', ...result });
  };

  /** Delivers due batches; a pass already under way in this process is joined rather than doubled. */
  const deliverNow = async () => {
    if (!activation || shutdown.signal.aborted) return;
    if (!delivering) {
      delivering = deliverDue({
        store: activation.store,
        destinationFor: activation.destinationFor,
        now: clock,
        logger,
        signal: shutdown.signal,
        ...(activation.deliveryPolicy ? { policy: activation.deliveryPolicy } : {}),
        ...(activation.destinationLimits ? { limits: activation.destinationLimits } : {}),
        onEvent: emit,
      })
        .catch((error: unknown) => logger.error({ error: (error as Error).message }, 'delivering batches failed; the next tick tries again'))
        .finally(() => (delivering = undefined));
    }
    await delivering;
  };
  let ticking: Promise<unknown> | undefined;
  let started = false;

  const runPeriodicTasks = async (now: Date) => {
    for (const task of tasks) {
      const periodStart = Math.floor(now.getTime() / task.everyMs) * task.everyMs;
      if ((claimedPeriods.get(task.name) ?? -Infinity) >= periodStart) continue;
      const period = new Date(periodStart);
      if (!(await store.claimPeriodicTask(task.name, period, now))) {
        claimedPeriods.set(task.name, periodStart);
        continue;
      }
      try {
        await task.run(now);
        claimedPeriods.set(task.name, periodStart);
        emit({ type: 'periodic-task', name: task.name, periodStart: period, ok: true });
      } catch (error) {
        logger.error({ task: task.name, error: (error as Error).message }, 'periodic task failed; it runs again at the next tick');
        await store.releasePeriodicTask(task.name, period);
        emit({ type: 'periodic-task', name: task.name, periodStart: period, ok: false });
      }
    }
  };

  const tick = async (): Promise<{ due: number }> => {
    if (shutdown.signal.aborted) return { due: 0 };
    const began = performance.now();
    const now = clock();
    const waiting = queue.waiting ? await queue.waiting(refillBelow) : 0;
    // Only what is due, through the index on the next run: a tick costs O(due), not O(installed).
    // Past the limit the rest waits for a later tick, while the queue works through these.
    const due = waiting >= refillBelow ? [] : await store.listDueSchedules(now, duePerTick);
    if (due.length > 0) await queue.enqueue(due);
    emit({ type: 'tick', at: now, due: due.length, waiting, durationMs: performance.now() - began });
    if (due.length > 0) logger.debug({ due: due.length }, 'due installations offered to the queue');
    await runPeriodicTasks(now);
    await deliverNow();
    return { due: due.length };
  };

  const safeTick = () => {
    if (ticking) return;
    ticking = tick()
      .catch((error: unknown) => logger.error({ error: (error as Error).message }, 'scheduler tick failed'))
      .finally(() => (ticking = undefined));
  };

  type JobResult = Omit<Extract<RunnerEvent, { type: 'job-done' }>, 'type' | 'installationId' | 'version'> & {
    /** Whether the schedule after the run was saved (this worker's compare-and-set won). */
    saved?: boolean;
  };

  const syncLocked = async (job: SyncJob): Promise<JobResult> => {
    // Read after the lock is taken, so that a run that finished meanwhile shows in the schedule.
    const { schedule: state, installation } = await store.readScheduledRun(job.installationId);
    // A job made for an older state of the schedule: another worker synced since, or the run was moved.
    if ((state?.version ?? 0) !== job.version) return { outcome: 'stale' };
    if (state && state.nextRunAt.getTime() > clock().getTime()) return { outcome: 'stale' };
    if (!installation || installation.status !== 'active') return { outcome: 'inactive' };
    if (shutdown.signal.aborted) return { outcome: 'not-started' };
    const connector = options.connectorFor(installation.app);
    emit({ type: 'sync-started', installationId: job.installationId, version: job.version });
    let report: RunReport;
    let runId: string | undefined;
    if (!connector) {
      const at = clock();
      report = { startedAt: at, finishedAt: at, status: 'failed', errorCode: 'CONNECTOR_MISSING' };
      logger.error(
        { installationId: installation.id, workspace: installation.workspace, app: installation.app, code: 'CONNECTOR_MISSING' },
        `no connector "${installation.app}" is loaded, so this installation cannot sync; the operator must name its package in TRIBUTARY_CONNECTORS or the config file's "connectors" list and restart the runner, or uninstall it; backing off`,
      );
    } else {
      const startedAt = clock();
      // An upgraded connector takes the installation over: record which version syncs it now.
      // One made before its connector declared a feedback view, or indexes it declares now, takes them now, for profiles.
      const adopted = adoptDeclaredModel(installation.dataModel, connector.dataModel);
      const current =
        installation.connectorVersion === connector.version && !adopted
          ? installation
          : await store.updateInstallation(installation.id, { connectorVersion: connector.version, ...(adopted ? { dataModel: adopted } : {}) });
      const onSourceRequest = options.onSourceRequest;
      const onRequest = onSourceRequest ? (status: number | 'error') => onSourceRequest(current.app, status) : undefined;
      const result = await sync({ store, connector, installation: current, now: clock, logger, signal: shutdown.signal, ...(onRequest ? { onRequest } : {}) });
      report = reportOf(result, startedAt, clock());
      // The run log keeps its warnings (an expiring token); a scheduled run says them here, once.
      const where = { workspace: installation.workspace, app: installation.app, runId: result.runId };
      for (const warning of result.warnings) logger.warn(where, warning.replaceAll('<ws>', installation.workspace));
      // So is its failure: a manual sync prints it in the run entry instead.
      if (result.status === 'failed' && result.error) logger.error({ ...where, code: result.errorCode }, result.error.replaceAll('<ws>', installation.workspace));
      runId = result.runId;
      // Within the run lock, so that no page of this installation is being written meanwhile.
      await applyRetentionAfterRun(store, current, clock(), logger);
    }
    const next = scheduleAfterRun(installation.id, state, report, policy);
    const saved = await store.saveSchedule(next, job.version);
    if (!saved) logger.warn({ installationId: installation.id }, 'the schedule changed while this run held the lock; keeping the other change');
    return {
      outcome: 'ran',
      saved,
      workspace: installation.workspace,
      app: installation.app,
      status: report.status,
      nextRunAt: next.nextRunAt,
      ...(runId === undefined ? {} : { runId }),
      ...(report.errorCode === undefined ? {} : { errorCode: report.errorCode }),
    };
  };

  const handle = async (job: SyncJob): Promise<JobOutcome> => {
    if (shutdown.signal.aborted) {
      emit({ type: 'job-done', ...job, outcome: 'not-started' });
      return 'not-started';
    }
    const locked = await store.withRunLock(job.installationId, () => syncLocked(job));
    const result: JobResult = locked.acquired ? locked.value : { outcome: 'busy' };
    // Stopped mid-sync: with the run lock released, another process resumes it now rather than at
    // its next tick. The saved schedule moved one version on.
    if (result.status === 'interrupted' && result.saved && shutdown.signal.aborted && queue.handOver) {
      await queue.handOver({ installationId: job.installationId, version: job.version + 1 }).catch((error: unknown) => {
        logger.warn({ installationId: job.installationId, error: (error as Error).message }, 'could not hand the interrupted sync over; the next tick offers it');
      });
    }
    const { saved: _saved, ...reported } = result;
    emit({ type: 'job-done', ...job, ...reported });
    // New feedback may move people in or out: the workspace's profiles are evaluated as of now.
    if (activation && result.outcome === 'ran' && result.status === 'succeeded' && result.workspace) {
      try {
        await evaluateProfilesOf(result.workspace, clock());
        await deliverNow();
      } catch (error) {
        logger.error({ workspace: result.workspace, error: (error as Error).message }, 'evaluating profiles after a sync failed; the hourly pass tries again');
      }
    }
    return result.outcome;
  };

  return {
    mode: queue.mode,
    async start() {
      if (started) return;
      started = true;
      await queue.start(handle);
      safeTick();
      await ticking;
      cancelTimer = timers.repeat(safeTick, tickMs);
      logger.info({ mode: queue.mode, tickMs, everyMs: policy.everyMs }, 'runner started');
    },
    tick,
    handle,
    async stop() {
      cancelTimer?.();
      shutdown.abort();
      await ticking;
      await delivering;
      await queue.stop();
      logger.info('runner stopped');
    },
  };
}

/** The wait a source asked for (Retry-After) on a failure, whichever copy of core made the error. */
function retryAfterOf(failure: unknown): number | undefined {
  if (!isTributaryError(failure) || failure.actor !== 'source') return undefined;
  const wait = (failure as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof wait === 'number' ? wait : undefined;
}
