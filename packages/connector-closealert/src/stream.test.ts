import { describe, expect, it } from 'vitest';
import { groupByKind, planReconciliation, planWindows, WINDOW_MS } from './stream.js';

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

describe('planReconciliation', () => {
  const HOUR = 3_600_000;
  it('never on the first run, always on request or for a checkpoint that has had none', () => {
    expect(planReconciliation(false, true, undefined, T0)).toBe(false);
    expect(planReconciliation(true, true, T0, T0 + HOUR)).toBe(true);
    expect(planReconciliation(true, false, undefined, T0)).toBe(true);
  });

  it('once a day, even when the hourly run starts a little early', () => {
    expect(planReconciliation(true, false, T0, T0 + 23 * HOUR)).toBe(false);
    expect(planReconciliation(true, false, T0, T0 + DAY - 60_000)).toBe(true);
    expect(planReconciliation(true, false, T0, T0 + DAY + HOUR)).toBe(true);
  });
});

describe('groupByKind', () => {
  it('groups a page by backfill and late, backfill and late first, keeping the order within a group', () => {
    const kinds = [
      { backfill: false, late: false },
      { backfill: true, late: true },
      { backfill: false, late: true },
      { backfill: true, late: true },
    ];
    expect(groupByKind(['a', 'b', 'c', 'd'], kinds, { backfill: true, late: false })).toEqual([
      { kind: { backfill: true, late: true }, records: ['b', 'd'] },
      { kind: { backfill: false, late: true }, records: ['c'] },
      { kind: { backfill: false, late: false }, records: ['a'] },
    ]);
  });

  it('keeps one empty group of the given kind for an empty page, to carry its checkpoint', () => {
    expect(groupByKind([], [], { backfill: true, late: false })).toEqual([{ kind: { backfill: true, late: false }, records: [] }]);
  });
});
