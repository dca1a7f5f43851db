/**
 * A sync to make: the installation, and the version of its schedule the scheduler saw due. A worker
 * that finds another version is holding a stale job and drops it.
 */
export interface SyncJob {
  installationId: string;
  version: number;
}

/** What a worker did with a job. */
export type JobOutcome =
  /** The sync ran (successfully or not) and the schedule moved on. */
  | 'ran'
  /** The schedule changed since the job was made: someone else already synced. */
  | 'stale'
  /** Another worker holds the installation's run lock right now. */
  | 'busy'
  /** The installation is gone or uninstalled. */
  | 'inactive'
  /** The runner was stopping before the sync began. */
  | 'not-started';

/** Runs one job; resolves once its sync ended and the schedule is saved. */
export type JobHandler = (job: SyncJob) => Promise<JobOutcome>;

/** Jobs this process has in hand. */
export interface LocalQueueCounts {
  /** Waiting in this process (embedded mode only; a distributed queue keeps them in the database). */
  queued: number;
  running: number;
}

/**
 * Where due syncs wait for a worker: in this process (embedded) or in PostgreSQL, shared by several
 * runner processes (distributed). Every queue runs at most its concurrency at once in this process.
 */
export interface JobQueue {
  readonly mode: 'embedded' | 'distributed';
  /** Starts handing jobs to `handle`. */
  start(handle: JobHandler): Promise<void>;
  /**
   * Adds due jobs. A queue drops a job whose installation already has one waiting or running (and,
   * distributed, one made in the same dedupe window), so ticks may offer the same installation
   * again and again.
   */
  enqueue(jobs: readonly SyncJob[]): Promise<void>;
  /**
   * Gives a job this process was stopped in the middle of to another process at once, past any
   * dedupe window (distributed only: an embedded queue dies with its process, and the next start resumes).
   */
  handOver?(job: SyncJob): Promise<void>;
  /**
   * Jobs waiting to start (in the whole queue, every process's), counted up to `atMost`: a tick
   * that finds enough of them waiting leaves the schedules alone.
   */
  waiting?(atMost: number): Promise<number>;
  /** Stops taking jobs and waits for the running ones, which the runner has asked to stop between pages. */
  stop(): Promise<void>;
  /** Jobs in hand in this process. */
  counts(): LocalQueueCounts;
}
