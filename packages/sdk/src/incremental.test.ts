import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Incremental, groupByKind, planReconciliation, planWindows, type IncrementalOptions, type IncrementalState } from './incremental.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MIN = 60_000;
const NOW = Date.parse('2025-03-01T12:00:00.400Z');
const UNTIL = Date.parse('2025-03-01T12:00:00Z');

const recordSchema = z.object({ id: z.number().int(), at: z.string() });
type Rec = z.infer<typeof recordSchema>;

function incremental(overrides: Partial<IncrementalOptions<Rec>> = {}): Incremental<Rec> {
  return new Incremental<Rec>({
    checkpoint: null,
    now: new Date(NOW),
    schema: recordSchema,
    keyOf: (record) => record.id,
    cursorField: 'at',
    cursorOf: (record) => {
      const ms = Date.parse(record.at);
      return Number.isNaN(ms) ? undefined : ms;
    },
    backfillMs: 40 * DAY,
    lookbackMs: 60 * MIN,
    maxWindowMs: 28 * DAY,
    reconcileMs: 7 * DAY,
    ...overrides,
  });
}

const rec = (id: number, ms: number) => ({ id, at: new Date(ms).toISOString() });
const state = (cursorMs: number, backfillUntilMs: number, reconciledMs?: number): IncrementalState => ({
  cursor: new Date(cursorMs).toISOString(),
  backfillUntil: new Date(backfillUntilMs).toISOString(),
  ...(reconciledMs === undefined ? {} : { reconciledAt: new Date(reconciledMs).toISOString() }),
});

describe('planWindows', () => {
  it('limits each window and cuts at the given instant', () => {
    expect(planWindows(0, 10, 4)).toEqual([
      { sinceMs: 0, untilMs: 4 },
      { sinceMs: 4, untilMs: 8 },
      { sinceMs: 8, untilMs: 10 },
    ]);
    expect(planWindows(0, 10, 4, 6)).toEqual([
      { sinceMs: 0, untilMs: 4 },
      { sinceMs: 4, untilMs: 6 },
      { sinceMs: 6, untilMs: 10 },
    ]);
  });

  it('refuses a window of no length instead of looping', () => {
    expect(() => planWindows(0, 10, 0)).toThrow(/positive/);
  });
});

describe('Incremental', () => {
  it('pins the run end at the start (to the second) and backfills in windows on the first run', () => {
    const inc = incremental();
    expect(inc.untilMs).toBe(UNTIL);
    expect(inc.windows).toEqual([
      { sinceMs: UNTIL - 40 * DAY, untilMs: UNTIL - 12 * DAY },
      { sinceMs: UNTIL - 12 * DAY, untilMs: UNTIL },
    ]);
    expect(inc.reconciling).toBe(false);
    expect(inc.checkpoint()).toEqual(state(UNTIL - 40 * DAY, UNTIL, UNTIL));
  });

  it('starts the backfill at backfillFrom when given', () => {
    const from = UNTIL - 3 * DAY;
    expect(incremental({ backfillFrom: new Date(from) }).windows).toEqual([{ sinceMs: from, untilMs: UNTIL }]);
  });

  it('later runs start the look-back before the cursor, and flag records behind it late', () => {
    const cursor = UNTIL - 2 * HOUR;
    const inc = incremental({ checkpoint: state(cursor, UNTIL - 10 * DAY, UNTIL - HOUR) });
    expect(inc.windows).toEqual([{ sinceMs: cursor - HOUR, untilMs: UNTIL }]);
    const pages = inc.settle({ windowIndex: 0, records: [rec(1, cursor - 30 * MIN), rec(2, cursor + MIN)], lastOfWindow: true, lastOfRun: true });
    expect(pages.map((page) => [page.late, page.records.map((r) => r.id)])).toEqual([
      [true, [1]],
      [false, [2]],
    ]);
    expect(pages.at(-1)!.checkpoint.cursor).toBe(new Date(UNTIL).toISOString());
  });

  it('marks records older than the installation backfilled, even when they arrive after it', () => {
    const installed = UNTIL - 5 * DAY;
    // The first run ended a day after the installation; this run reconciles the past week.
    const inc = incremental({ checkpoint: state(UNTIL - HOUR, UNTIL - 4 * DAY, UNTIL - HOUR), installedAt: new Date(installed), reconcile: true });
    const pages = inc.settle({ windowIndex: 0, records: [rec(1, installed - MIN), rec(2, installed + MIN)], lastOfWindow: true, lastOfRun: true });
    expect(pages.map((page) => ({ backfill: page.backfill, ids: page.records.map((r) => r.id) }))).toEqual([
      { backfill: true, ids: [1] },
      { backfill: false, ids: [2] },
    ]);
  });

  it('counts from the latest install moment after a reinstall reattached the kept checkpoint', () => {
    // First run long ago; the app was uninstalled, its data kept, and installed again a day ago.
    const reinstalled = UNTIL - DAY;
    const inc = incremental({ checkpoint: state(UNTIL - 30 * DAY, UNTIL - 60 * DAY, UNTIL - 30 * DAY), installedAt: new Date(reinstalled) });
    const pages = inc.settle({
      windowIndex: 0,
      records: [rec(1, UNTIL - 20 * DAY), rec(2, reinstalled - MIN), rec(3, reinstalled + MIN)],
      lastOfWindow: true,
      lastOfRun: inc.windows.length === 1,
    });
    expect(pages.map((page) => ({ backfill: page.backfill, ids: page.records.map((r) => r.id) }))).toEqual([
      { backfill: true, ids: [1, 2] },
      { backfill: false, ids: [3] },
    ]);
  });

  it('commits every group but the last with the checkpoint from before the page', () => {
    const inc = incremental({ checkpoint: state(UNTIL - HOUR, UNTIL - 10 * DAY, UNTIL - HOUR) });
    const before = inc.checkpoint();
    const pages = inc.settle({ windowIndex: 0, records: [rec(1, UNTIL - 90 * MIN), rec(2, UNTIL - MIN)], lastOfWindow: true, lastOfRun: true });
    expect(pages[0]!.checkpoint).toEqual(before);
    expect(pages[1]!.checkpoint.cursor).toBe(new Date(UNTIL).toISOString());
  });

  it('skips the ids seen at a window boundary when the next window returns them again', () => {
    const inc = incremental();
    const boundary = inc.windows[0]!.untilMs;
    inc.settle({ windowIndex: 0, records: [rec(1, boundary - MIN), rec(2, boundary), rec(3, boundary)], lastOfWindow: true, lastOfRun: false });
    const pages = inc.settle({ windowIndex: 1, records: [rec(2, boundary), rec(3, boundary), rec(4, boundary), rec(5, boundary + MIN)], lastOfWindow: true, lastOfRun: true });
    expect(pages.flatMap((page) => page.records.map((r) => r.id))).toEqual([4, 5]);
    expect(pages.at(-1)!.duplicates).toBe(2);
  });

  it('sets bad records aside with their reason, keeping the rest of the page', () => {
    const inc = incremental();
    const [page] = inc.settle({ windowIndex: 1, records: [{ id: 'x' }, { id: 7, at: 'yesterday' }, rec(8, UNTIL - DAY)], lastOfWindow: false, lastOfRun: false });
    expect(page!.records.map((r) => r.id)).toEqual([8]);
    expect(page!.rejected).toEqual([
      { sourceId: 'x', reason: expect.stringMatching(/id/), raw: { id: 'x' } },
      { sourceId: '7', reason: 'at: is not a valid date-time', raw: { id: 7, at: 'yesterday' } },
    ]);
    // Mid-window, the cursor follows the newest valid record.
    expect(page!.checkpoint.cursor).toBe(new Date(UNTIL - DAY).toISOString());
  });

  it('reconciles once a day over the reconciliation range, marking the pass done only on the last page', () => {
    const backfillUntil = UNTIL - 30 * DAY;
    const inc = incremental({ checkpoint: state(UNTIL - HOUR, backfillUntil, UNTIL - DAY) });
    expect(inc.reconciling).toBe(true);
    expect(inc.sinceMs).toBe(UNTIL - 7 * DAY);
    expect(inc.reconciliation).toEqual({ since: new Date(UNTIL - 7 * DAY).toISOString(), until: new Date(UNTIL).toISOString() });
    const first = inc.settle({ windowIndex: 0, records: [], lastOfWindow: false, lastOfRun: false });
    expect(first[0]!.checkpoint.reconciledAt).toBe(new Date(UNTIL - DAY).toISOString());
    expect(first[0]!.reconciliation).toBeDefined();
    const last = inc.settle({ windowIndex: 0, records: [], lastOfWindow: true, lastOfRun: true });
    expect(last[0]!.checkpoint.reconciledAt).toBe(new Date(UNTIL).toISOString());

    expect(incremental({ checkpoint: state(UNTIL - HOUR, backfillUntil, UNTIL - 2 * HOUR) }).reconciling).toBe(false);
    expect(incremental({ checkpoint: state(UNTIL - HOUR, backfillUntil, UNTIL - 2 * HOUR), reconcileMs: undefined, reconcile: true }).reconciling).toBe(false);
  });

  it('never reconciles further back than the first backfill read', () => {
    const backfillUntil = UNTIL - 2 * DAY;
    const inc = incremental({ checkpoint: state(UNTIL - HOUR, backfillUntil), backfillMs: 1 * DAY });
    expect(inc.sinceMs).toBe(backfillUntil - DAY);
  });
});

describe('planReconciliation and groupByKind', () => {
  it('is due after the period, minus a little slack', () => {
    expect(planReconciliation(true, false, 0, 6 * HOUR, 6 * HOUR)).toBe(true);
    expect(planReconciliation(true, false, 0, 5 * HOUR, 6 * HOUR)).toBe(false);
  });

  it('keeps one empty group to carry the checkpoint', () => {
    expect(groupByKind([], [], { backfill: false, late: true })).toEqual([{ kind: { backfill: false, late: true }, records: [] }]);
  });
});
