import { describe, expect, it } from 'vitest';
import { isDue, nextRunOf } from '@tributary/runner';
import { nextRunAt } from './next-run.js';

describe('nextRunAt', () => {
  const now = new Date('2025-03-01T12:00:00.000Z');

  it('follows the schedule when the scheduler has one', () => {
    const scheduledAt = new Date('2025-03-01T12:17:00.000Z');
    expect(nextRunAt({ status: 'active', scheduledAt, now })).toEqual(scheduledAt);
  });

  it('is now for an installation the scheduler has not planned yet, as the runner treats it', () => {
    // A manual sync an hour ago does not make the runner wait: it has no schedule, so it is due.
    const unplanned = { state: undefined };
    expect(isDue(unplanned, now)).toBe(true);
    expect(nextRunAt({ status: 'active', now })).toEqual(nextRunOf(unplanned, now));
  });

  it('is never for an uninstalled app', () => {
    expect(nextRunAt({ status: 'uninstalled', scheduledAt: now, now })).toBeNull();
  });
});
