import { describe, expect, it } from 'vitest';
import { TimeZone } from './time-zone.js';

const utc = new TimeZone('UTC');
const amsterdam = new TimeZone('Europe/Amsterdam');

describe('TimeZone.format', () => {
  it('renders seconds without offset, dropping milliseconds', () => {
    expect(utc.format(Date.parse('2024-06-15T10:20:30.999Z'))).toBe('2024-06-15T10:20:30');
  });

  it('renders the wall clock of the zone in summer and in winter', () => {
    expect(amsterdam.format(Date.parse('2024-06-15T10:00:00Z'))).toBe('2024-06-15T12:00:00');
    expect(amsterdam.format(Date.parse('2024-01-15T10:00:00Z'))).toBe('2024-01-15T11:00:00');
  });

  it('refuses an unknown zone', () => {
    expect(() => new TimeZone('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('TimeZone.parse', () => {
  it.each([
    ['2024-06-15T10:20:30Z', '2024-06-15T10:20:30.000Z'],
    ['2024-06-15T10:20:30+00:00', '2024-06-15T10:20:30.000Z'],
    ['2024-06-15T12:20:30+02:00', '2024-06-15T10:20:30.000Z'],
    ['2024-06-15T05:20:30-0500', '2024-06-15T10:20:30.000Z'],
    ['2024-06-15T11:20:30+01', '2024-06-15T10:20:30.000Z'],
    ['2024-06-15T10:20:30.250Z', '2024-06-15T10:20:30.250Z'],
    ['2024-06-15T10:20', '2024-06-15T10:20:00.000Z'],
    ['2024-06-15', '2024-06-15T00:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(new Date(utc.parse(text) ?? Number.NaN).toISOString()).toBe(iso);
  });

  it('reads a time without offset as a wall time in the zone', () => {
    expect(amsterdam.parse('2024-06-15T12:00:00')).toBe(Date.parse('2024-06-15T10:00:00Z'));
    expect(amsterdam.parse('2024-01-15T12:00:00')).toBe(Date.parse('2024-01-15T11:00:00Z'));
    expect(amsterdam.parse('2024-06-15T12:00:00Z')).toBe(Date.parse('2024-06-15T12:00:00Z'));
  });

  it.each([
    'yesterday',
    '',
    '2024-02-30T00:00:00',
    '2023-02-29',
    '2024-13-01',
    '2024-06-15T24:00:00',
    '2024-06-15T10:60:00',
    '2024-06-15T10:20:30+25:00',
    // An unencoded '+' in a query string arrives as a space.
    '2024-06-15T10:20:30 00:00',
    '15-06-2024',
  ])('refuses %j', (text) => {
    expect(utc.parse(text)).toBeUndefined();
  });
});

describe('TimeZone.addOneMonth', () => {
  it.each([
    ['2024-01-15T10:00:00Z', '2024-02-15T10:00:00.000Z'],
    ['2024-01-31T10:00:00Z', '2024-02-29T10:00:00.000Z'],
    ['2023-01-31T10:00:00Z', '2023-02-28T10:00:00.000Z'],
    ['2024-03-31T23:59:59Z', '2024-04-30T23:59:59.000Z'],
    ['2024-12-31T00:00:00Z', '2025-01-31T00:00:00.000Z'],
  ])('moves %s to %s', (from, to) => {
    expect(new Date(utc.addOneMonth(Date.parse(from))).toISOString()).toBe(to);
  });

  it('keeps the wall clock across a daylight-saving change', () => {
    // 12:00 in Amsterdam on 15 March (UTC+1) is 12:00 on 15 April (UTC+2).
    const from = Date.parse('2024-03-15T11:00:00Z');
    expect(new Date(amsterdam.addOneMonth(from)).toISOString()).toBe('2024-04-15T10:00:00.000Z');
  });
});
