import type { RunLockHolder, RunLogStore, RunStatus, ScheduledRunStatus, ScheduleStore } from '@tributary/core';
import { isDue, nextRunOf } from './schedule.js';

/** One installation's place in the schedule, as `tributary runner status` shows it. */
export interface InstallationScheduleStatus {
  installationId: string;
  workspace: string;
  app: string;
  /** The last run the scheduler made (see `lastRun` for the newest run of any kind). */
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
  /** The newest run in the run log, scheduled or manual (`tributary sync`). */
  lastRun: { id: string; status: RunStatus; startedAt: Date; finishedAt: Date | null; errorCode: string | null } | null;
  /** The process syncing it right now (a runner or a manual sync), or null. */
  running: Omit<RunLockHolder, 'installationId'> | null;
}

/** Every active installation with its last and next scheduled run. */
export async function readScheduleStatus(store: ScheduleStore & RunLogStore, now: Date): Promise<InstallationScheduleStatus[]> {
  const entries = await store.listSchedules();
  const ids = entries.map((e) => e.installationId);
  const latest = new Map((await store.latestRuns(ids)).map((run) => [run.installationId, run]));
  const holders = new Map((await store.listRunLockHolders(ids)).map((h) => [h.installationId, h]));
  return entries.map((entry) => {
    const run = latest.get(entry.installationId);
    const holder = holders.get(entry.installationId);
    return {
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
      lastRun: run ? { id: run.id, status: run.status, startedAt: run.startedAt, finishedAt: run.finishedAt, errorCode: run.errorCode ?? null } : null,
      running: holder ? { host: holder.host, pid: holder.pid, since: holder.since } : null,
    };
  });
}
