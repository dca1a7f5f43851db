import { createHash } from 'node:crypto';
import type { ScheduleEntry, ScheduledRunStatus, ScheduleState } from '@tributary/core';

/** One hour, the default sync interval. */
export const HOUR_MS = 60 * 60 * 1000;

/** How often installations sync, and how failures back off. */
export interface SchedulePolicy {
  /** Interval between regular runs of an installation. Default one hour. */
  everyMs: number;
  /** Wait after the first failure in a row; it doubles with every further failure. Default one minute. */
  backoffBaseMs: number;
  /** Longest wait after failures. Default one hour. */
  backoffMaxMs: number;
  /**
   * Where in each interval an installation's regular runs fall, in [0, everyMs). Default
   * {@link jitterOffsetMs}: a stable spread, so that a thousand installations do not start in the
   * same second.
   */
  slotOffsetMs: (installationId: string, everyMs: number) => number;
}

/**
 * A stable offset within the interval derived from a hash of the installation id: the same id
 * always lands on the same minute and second, and many ids spread evenly over the interval.
 */
export function jitterOffsetMs(installationId: string, everyMs: number): number {
  const digest = createHash('sha256').update(installationId).digest();
  // 48 bits are plenty to spread over an interval without the bias of a short modulus.
  return digest.readUIntBE(0, 6) % everyMs;
}

export const DEFAULT_SCHEDULE_POLICY: SchedulePolicy = {
  everyMs: HOUR_MS,
  backoffBaseMs: 60_000,
  backoffMaxMs: HOUR_MS,
  slotOffsetMs: jitterOffsetMs,
};

/** The first regular slot of an installation strictly after `after`: slots sit at `k × everyMs + offset`. */
export function nextSlotAfter(after: Date, offsetMs: number, everyMs: number): Date {
  const k = Math.floor((after.getTime() - offsetMs) / everyMs) + 1;
  return new Date(k * everyMs + offsetMs);
}

/** Whether an installation must sync at `now`: never synced by the scheduler yet, or its next run has come. */
export function isDue(entry: Pick<ScheduleEntry, 'state'>, now: Date): boolean {
  return entry.state === undefined || entry.state.nextRunAt.getTime() <= now.getTime();
}

/** Wait after `attempts` failures in a row: exponential from the base, capped. */
export function backoffDelayMs(attempts: number, policy: Pick<SchedulePolicy, 'backoffBaseMs' | 'backoffMaxMs'>): number {
  if (attempts <= 0) return 0;
  // Past 2^30 the cap has long been reached; the bound keeps the power finite.
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
}

/** How a run went, as the scheduler needs it. */
export interface RunReport {
  startedAt: Date;
  finishedAt: Date;
  status: ScheduledRunStatus;
  errorCode?: string;
  /** How long the source asked to wait (a 429's Retry-After), in milliseconds. */
  retryAfterMs?: number;
}

/**
 * An installation's schedule after a run. A success waits for the next regular slot after the run's
 * start; a failure backs off (and a rate limit waits at least as long as the source asked); an
 * interrupted run stays due, so that the next tick (of any runner) resumes it.
 */
export function scheduleAfterRun(
  installationId: string,
  previous: ScheduleState | undefined,
  report: RunReport,
  policy: SchedulePolicy,
): Omit<ScheduleState, 'version'> {
  const common = {
    installationId,
    lastStartedAt: report.startedAt,
    lastFinishedAt: report.finishedAt,
    lastStatus: report.status,
  };
  switch (report.status) {
    case 'succeeded':
      return {
        ...common,
        nextRunAt: nextSlotAfter(report.startedAt, policy.slotOffsetMs(installationId, policy.everyMs), policy.everyMs),
        attempts: 0,
        lastErrorCode: null,
      };
    case 'failed': {
      const attempts = (previous?.attempts ?? 0) + 1;
      const waitMs = Math.max(backoffDelayMs(attempts, policy), report.retryAfterMs ?? 0);
      return { ...common, nextRunAt: new Date(report.finishedAt.getTime() + waitMs), attempts, lastErrorCode: report.errorCode ?? null };
    }
    case 'interrupted':
      return {
        ...common,
        nextRunAt: previous && previous.nextRunAt.getTime() <= report.startedAt.getTime() ? previous.nextRunAt : report.startedAt,
        attempts: previous?.attempts ?? 0,
        lastErrorCode: previous?.lastErrorCode ?? null,
      };
  }
}

/** When an installation syncs next, as operators read it: now for one never scheduled. */
export function nextRunOf(entry: Pick<ScheduleEntry, 'state'>, now: Date): Date {
  return entry.state?.nextRunAt ?? now;
}
