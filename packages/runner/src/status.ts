import type { ScheduledRunStatus, Store } from '@tributary/core';
import { isDue, nextRunOf } from './schedule.js';

/** One installation's place in the schedule, as `tributary runner status` shows it. */
export interface InstallationScheduleStatus {
  installationId: string;
  workspace: string;
  app: string;
  /** The last run the scheduler made (manual `tributary sync` runs are in the run log only). */
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastStatus: ScheduledRunStatus | null;
  lastErrorCode: string | null;
  /** Failed runs in a row. */
  attempts: number;
  /** When it syncs next; now for an installation the scheduler has not run yet. */
  nextRunAt: Date;
  /** Whether it is due at `now`. */
  due: boolean;
}

/** Every active installation with its last and next scheduled run. */
export async function readScheduleStatus(store: Store, now: Date): Promise<InstallationScheduleStatus[]> {
  const entries = await store.listSchedules();
  return entries.map((entry) => ({
    installationId: entry.installationId,
    workspace: entry.workspace,
    app: entry.app,
    lastStartedAt: entry.state?.lastStartedAt ?? null,
    lastFinishedAt: entry.state?.lastFinishedAt ?? null,
    lastStatus: entry.state?.lastStatus ?? null,
    lastErrorCode: entry.state?.lastErrorCode ?? null,
    attempts: entry.state?.attempts ?? 0,
    nextRunAt: nextRunOf(entry, now),
    due: isDue(entry, now),
  }));
}
