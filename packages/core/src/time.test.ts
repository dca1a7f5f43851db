import { describe, expect, it } from 'vitest';
import { addMonthsUtc, isValidTimeZone, parseTimestamp } from './time.js';

describe('parseTimestamp', () => {
  it('reads offsets when present', () => {
    expect(parseTimestamp('2019-01-15T17:22:10+00:00')).toBe(Date.UTC(2019, 0, 15, 17, 22, 10));
    expect(parseTimestamp('2019-01-15T17:22:10+02:00')).toBe(Date.UTC(2019, 0, 15, 15, 22, 10));
    expect(parseTimestamp('2019-01-15T17:22:10.5Z')).toBe(Date.UTC(2019, 0, 15, 17, 22, 10, 500));
  });

  it('reads offset-less timestamps in the given zone, across DST', () => {
    expect(parseTimestamp('2014-03-17T17:22:10')).toBe(Date.UTC(2014, 2, 17, 17, 22, 10));
    expect(parseTimestamp('2024-07-01T12:00:00', 'Europe/Amsterdam')).toBe(Date.UTC(2024, 6, 1, 10));
    expect(parseTimestamp('2024-01-01T12:00:00', 'Europe/Amsterdam')).toBe(Date.UTC(2024, 0, 1, 11));
    expect(parseTimestamp('2024-01-01T12:00:00', 'America/New_York')).toBe(Date.UTC(2024, 0, 1, 17));
  });

  it('refuses what is not a timestamp', () => {
    expect(parseTimestamp('yesterday')).toBeUndefined();
    expect(parseTimestamp('2019-02-30T00:00:00')).toBeUndefined();
    expect(parseTimestamp('2019-13-01T00:00:00')).toBeUndefined();
    expect(parseTimestamp('12345+01:00')).toBeUndefined();
  });
});

describe('addMonthsUtc', () => {
  it('clamps to the end of a shorter month', () => {
    expect(new Date(addMonthsUtc(Date.UTC(2023, 0, 31, 5), 1)).toISOString()).toBe('2023-02-28T05:00:00.000Z');
    expect(new Date(addMonthsUtc(Date.UTC(2024, 0, 31), 1)).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(new Date(addMonthsUtc(Date.UTC(2024, 11, 15), 1)).toISOString()).toBe('2025-01-15T00:00:00.000Z');
  });
});

describe('isValidTimeZone', () => {
  it('knows IANA zones', () => {
    expect(isValidTimeZone('Europe/Amsterdam')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
