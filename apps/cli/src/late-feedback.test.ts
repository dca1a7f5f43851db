import { describe, expect, it } from 'vitest';
import type { Installation } from '@tributary/core';
import { describeLateFeedback, lateFeedbackOf, parseLookback } from './late-feedback.js';

describe('parseLookback', () => {
  it('reads minutes, hours and both', () => {
    expect(parseLookback('90')).toBe(90);
    expect(parseLookback('90m')).toBe(90);
    expect(parseLookback('45min')).toBe(45);
    expect(parseLookback('2h')).toBe(120);
    expect(parseLookback('1h30m')).toBe(90);
    expect(parseLookback('0')).toBe(0);
  });

  it('refuses what is not a duration, or more than a day', () => {
    for (const bad of ['', 'h', 'two hours', '-5', '1.5h', '2d']) expect(() => parseLookback(bad)).toThrow(/--lookback must be a duration/);
    expect(() => parseLookback('25h')).toThrow(/at most 24h/);
  });
});

describe('describeLateFeedback', () => {
  it('says the look-back in hours where it can, and the reconciliation range', () => {
    expect(describeLateFeedback({ lookbackMinutes: 120, reconcileDays: 7 })).toBe('look-back 2h, daily reconciliation of the past 7 days');
    expect(describeLateFeedback({ lookbackMinutes: 90, reconcileDays: 1 })).toBe('look-back 1h30m, daily reconciliation of the past 1 day');
    expect(describeLateFeedback({ lookbackMinutes: 45, reconcileDays: 3 })).toBe('look-back 45 min, daily reconciliation of the past 3 days');
  });
});

describe('lateFeedbackOf', () => {
  const installation = (app: string, config: Record<string, unknown>) => ({ app, config }) as unknown as Installation;

  it('reads the stored settings, and the defaults for an installation made before they existed', () => {
    expect(lateFeedbackOf(installation('closealert', { lookbackMinutes: 120, reconcileDays: 3 }))).toEqual({ lookbackMinutes: 120, reconcileDays: 3 });
    expect(lateFeedbackOf(installation('closealert', { lookbackMinutes: 30 }))).toEqual({ lookbackMinutes: 30, reconcileDays: 7 });
    expect(lateFeedbackOf(installation('closealert', {}))).toEqual({ lookbackMinutes: 60, reconcileDays: 7 });
  });

  it('says nothing for an app without such settings', () => {
    expect(lateFeedbackOf(installation('surveymonkey', { lookbackMinutes: 30 }))).toBeUndefined();
  });
});
