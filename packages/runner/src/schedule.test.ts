import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ScheduleState } from '@tributary/core';
import {
  DEFAULT_SCHEDULE_POLICY,
  HOUR_MS,
  backoffDelayMs,
  isDue,
  jitterOffsetMs,
  nextSlotAfter,
  scheduleAfterRun,
  type SchedulePolicy,
} from './schedule.js';

const ID = '0b9b3a52-6c3e-4d4f-9a51-3c1f7d2b8e10';
const T0 = new Date('2026-03-02T10:00:00.000Z');
const at = (offsetMs: number) => new Date(T0.getTime() + offsetMs);
const MIN = 60_000;

function state(overrides: Partial<ScheduleState> = {}): ScheduleState {
  return {
    installationId: ID,
    nextRunAt: T0,
    attempts: 0,
    lastStartedAt: null,
    lastFinishedAt: null,
    lastStatus: null,
    lastErrorCode: null,
    version: 1,
    ...overrides,
  };
}

describe('jitter', () => {
  it('gives an installation the same offset every time, inside the interval', () => {
    const offset = jitterOffsetMs(ID, HOUR_MS);
    expect(jitterOffsetMs(ID, HOUR_MS)).toBe(offset);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(HOUR_MS);
  });

  it('spreads a thousand installations over the hour, never many in the same second', () => {
    // Fixed uuid-shaped ids, so that the figures below are the same on every run.
    const ids = Array.from({ length: 1000 }, (_, i) => {
      const hex = createHash('md5').update(`installation ${i}`).digest('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    });
    const perMinute = new Array<number>(60).fill(0);
    const perSecond = new Map<number, number>();
    for (const id of ids) {
      const offset = jitterOffsetMs(id, HOUR_MS);
      perMinute[Math.floor(offset / MIN)]! += 1;
      const second = Math.floor(offset / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    // 1000 over 60 minutes is 16.7 on average; a uniform hash stays well within these bounds.
    expect(Math.min(...perMinute)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...perMinute)).toBeLessThanOrEqual(40);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(5);
  });
});

describe('slots', () => {
  it('puts the next slot strictly after the given time, at the installation offset', () => {
    expect(nextSlotAfter(at(0), 20 * MIN, HOUR_MS)).toEqual(at(20 * MIN));
    expect(nextSlotAfter(at(20 * MIN), 20 * MIN, HOUR_MS)).toEqual(at(80 * MIN));
    expect(nextSlotAfter(at(25 * MIN), 20 * MIN, HOUR_MS)).toEqual(at(80 * MIN));
    expect(nextSlotAfter(at(0), 0, HOUR_MS)).toEqual(at(HOUR_MS));
  });
});

describe('due', () => {
  it('is due before the first scheduled run, and once the next run time has come', () => {
    expect(isDue({ state: undefined }, T0)).toBe(true);
    expect(isDue({ state: state({ nextRunAt: at(1) }) }, T0)).toBe(false);
    expect(isDue({ state: state({ nextRunAt: T0 }) }, T0)).toBe(true);
    expect(isDue({ state: state({ nextRunAt: at(-HOUR_MS) }) }, T0)).toBe(true);
  });

  it('syncs once per hour under a clock moved hour by hour', () => {
    const policy: SchedulePolicy = { ...DEFAULT_SCHEDULE_POLICY };
    const offset = policy.slotOffsetMs(ID, policy.everyMs);
    let current: ScheduleState | undefined;
    const runs: Date[] = [];
    // A fake clock moving in 5-minute steps through six hours.
    for (let t = 0; t <= 6 * HOUR_MS; t += 5 * MIN) {
      const now = at(t);
      if (!isDue({ state: current }, now)) continue;
      runs.push(now);
      const next = scheduleAfterRun(ID, current, { startedAt: now, finishedAt: at(t + 1000), status: 'succeeded' }, policy);
      current = { ...next, version: (current?.version ?? 0) + 1 };
    }
    // The first run happens at once; after it, one run per hour, each in the first step past the slot.
    expect(runs[0]).toEqual(T0);
    for (const run of runs.slice(1)) {
      const sinceSlot = (run.getTime() - offset) % HOUR_MS;
      expect(sinceSlot).toBeGreaterThanOrEqual(0);
      expect(sinceSlot).toBeLessThan(5 * MIN);
    }
    const hours = runs.slice(1).map((run) => Math.floor((run.getTime() - offset) / HOUR_MS));
    expect(new Set(hours).size).toBe(hours.length);
    expect(runs.length).toBeGreaterThanOrEqual(6);
  });
});

describe('after a run', () => {
  const policy: SchedulePolicy = { ...DEFAULT_SCHEDULE_POLICY, slotOffsetMs: () => 15 * MIN };

  it('waits for the next slot after a success and forgets earlier failures', () => {
    const next = scheduleAfterRun(ID, state({ attempts: 3, lastErrorCode: 'X' }), { startedAt: at(MIN), finishedAt: at(2 * MIN), status: 'succeeded' }, policy);
    expect(next).toMatchObject({ nextRunAt: at(15 * MIN), attempts: 0, lastStatus: 'succeeded', lastErrorCode: null, lastStartedAt: at(MIN) });
  });

  it('backs off exponentially after failures, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelayMs(n, policy))).toEqual([
      MIN,
      2 * MIN,
      4 * MIN,
      8 * MIN,
      16 * MIN,
      32 * MIN,
      HOUR_MS,
      HOUR_MS,
    ]);
    expect(backoffDelayMs(10_000, policy)).toBe(HOUR_MS);
    let current: ScheduleState | undefined;
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const finishedAt = at(i * HOUR_MS);
      const next = scheduleAfterRun(ID, current, { startedAt: finishedAt, finishedAt, status: 'failed', errorCode: 'SOURCE_UNAVAILABLE' }, policy);
      waits.push(next.nextRunAt.getTime() - finishedAt.getTime());
      current = { ...next, version: i + 1 };
    }
    expect(waits).toEqual([MIN, 2 * MIN, 4 * MIN, 8 * MIN]);
    expect(current).toMatchObject({ attempts: 4, lastStatus: 'failed', lastErrorCode: 'SOURCE_UNAVAILABLE' });
  });

  it("waits at least as long as a 429's Retry-After", () => {
    const report = { startedAt: at(0), finishedAt: at(MIN), status: 'failed' as const, errorCode: 'SOURCE_RATE_LIMITED' };
    expect(scheduleAfterRun(ID, undefined, { ...report, retryAfterMs: 10 * MIN }, policy).nextRunAt).toEqual(at(11 * MIN));
    // A Retry-After shorter than the backoff does not bring the next try forward.
    expect(scheduleAfterRun(ID, state({ attempts: 4 }), { ...report, retryAfterMs: 1000 }, policy).nextRunAt).toEqual(at(MIN + 16 * MIN));
  });

  it('keeps an interrupted installation due, with its failure count', () => {
    const previous = state({ nextRunAt: at(-5 * MIN), attempts: 2, lastErrorCode: 'SOURCE_UNAVAILABLE' });
    const next = scheduleAfterRun(ID, previous, { startedAt: at(0), finishedAt: at(MIN), status: 'interrupted' }, policy);
    expect(next).toMatchObject({ nextRunAt: at(-5 * MIN), attempts: 2, lastStatus: 'interrupted', lastErrorCode: 'SOURCE_UNAVAILABLE' });
    expect(isDue({ state: { ...next, version: 2 } }, at(MIN))).toBe(true);
    expect(scheduleAfterRun(ID, undefined, { startedAt: at(0), finishedAt: at(MIN), status: 'interrupted' }, policy).nextRunAt).toEqual(at(0));
  });
});
