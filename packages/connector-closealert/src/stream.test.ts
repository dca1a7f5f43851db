import { describe, expect, it } from 'vitest';
import { planWindows, WINDOW_MS } from './stream.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const DAY = 86_400_000;

describe('planWindows', () => {
  it('covers the range with windows of at most 28 days sharing their boundaries', () => {
    const windows = planWindows(T0, T0 + 90 * DAY, T0 + 90 * DAY);
    expect(windows).toEqual([
      { sinceMs: T0, untilMs: T0 + 28 * DAY },
      { sinceMs: T0 + 28 * DAY, untilMs: T0 + 56 * DAY },
      { sinceMs: T0 + 56 * DAY, untilMs: T0 + 84 * DAY },
      { sinceMs: T0 + 84 * DAY, untilMs: T0 + 90 * DAY },
    ]);
    expect(WINDOW_MS).toBe(28 * DAY);
  });

  it('never lets a window straddle the end of the backfill', () => {
    const backfillUntil = T0 + 10 * DAY + 3_600_000;
    const windows = planWindows(T0, T0 + 40 * DAY, backfillUntil);
    expect(windows).toEqual([
      { sinceMs: T0, untilMs: backfillUntil },
      { sinceMs: backfillUntil, untilMs: backfillUntil + 28 * DAY },
      { sinceMs: backfillUntil + 28 * DAY, untilMs: T0 + 40 * DAY },
    ]);
    for (const w of windows) expect(w.untilMs <= backfillUntil || w.sinceMs >= backfillUntil).toBe(true);
  });

  it('plans one window for an empty or inverted range', () => {
    expect(planWindows(T0, T0, T0)).toEqual([{ sinceMs: T0, untilMs: T0 }]);
    expect(planWindows(T0 + DAY, T0, T0)).toEqual([{ sinceMs: T0, untilMs: T0 }]);
  });
});
