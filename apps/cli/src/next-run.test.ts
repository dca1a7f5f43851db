import { describe, expect, it } from 'vitest';
import { nextRunAt, SYNC_INTERVAL_MS } from './next-run.js';

describe('nextRunAt', () => {
  const now = new Date('2025-03-01T12:00:00.000Z');

  it('follows the schedule when the scheduler has one', () => {
    const scheduledAt = new Date('2025-03-01T12:17:00.000Z');
    expect(nextRunAt({ status: 'active', scheduledAt, lastRunStartedAt: new Date('2025-03-01T11:00:00.000Z'), now })).toEqual(scheduledAt);
  });

  it('is an hour after the last run started, or now for an app never synced', () => {
    const last = new Date('2025-03-01T11:30:00.000Z');
    expect(nextRunAt({ status: 'active', lastRunStartedAt: last, now })?.getTime()).toBe(last.getTime() + SYNC_INTERVAL_MS);
    expect(nextRunAt({ status: 'active', now })).toEqual(now);
  });

  it('is never for an uninstalled app', () => {
    expect(nextRunAt({ status: 'uninstalled', lastRunStartedAt: now, now })).toBeNull();
  });
});
