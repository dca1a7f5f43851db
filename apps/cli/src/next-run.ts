/** How often an installed app syncs. */
export const SYNC_INTERVAL_MS = 60 * 60 * 1000;

/** What the next run of an installation depends on. */
export interface NextRunInput {
  status: 'active' | 'uninstalled';
  /** When the scheduler has planned the next run, once it has a schedule for the installation. */
  scheduledAt?: Date;
  /** Start of the last run, scheduled or manual. */
  lastRunStartedAt?: Date;
  now: Date;
}

/**
 * When an installation syncs next: as the scheduler planned it, else an hour after the last run
 * started, else now (never synced). An uninstalled app never syncs again (null). The one place
 * that decides it, so that `apps` and `doctor` always agree with each other.
 */
export function nextRunAt(input: NextRunInput): Date | null {
  if (input.status !== 'active') return null;
  if (input.scheduledAt) return input.scheduledAt;
  if (input.lastRunStartedAt) return new Date(input.lastRunStartedAt.getTime() + SYNC_INTERVAL_MS);
  return input.now;
}
