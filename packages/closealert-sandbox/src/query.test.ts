import { describe, expect, it } from 'vitest';
import { createQueryChecker, type QueryCheck } from './query.js';
import { TimeZone } from './time-zone.js';

const NOW_MS = Date.parse('2024-06-15T12:00:00.400Z');
const check = createQueryChecker(new TimeZone('UTC'));
const run = (query: string): QueryCheck => check(new URLSearchParams(query), NOW_MS);

function attributesOf(result: QueryCheck): Record<string, string> {
  if (result.ok) throw new Error('expected a validation failure');
  return result.attributes;
}

describe('form_responses query check', () => {
  it('defaults to the last 7 days, 100 per page, page 0, whole seconds', () => {
    expect(run('')).toEqual({
      ok: true,
      query: {
        formId: null,
        sinceMs: Date.parse('2024-06-08T12:00:01Z'),
        untilMs: Date.parse('2024-06-15T12:00:00Z'),
        perPage: 100,
        page: 0,
        sinceText: '2024-06-08T12:00:01',
        untilText: '2024-06-15T12:00:00',
      },
    });
  });

  it('defaults until to since plus 7 days and repeats the caller text for links', () => {
    const result = run('since=2024-01-01T00:00:00%2B01:00&form_id=34&per_page=250&page=3');
    expect(result).toEqual({
      ok: true,
      query: {
        formId: 34,
        sinceMs: Date.parse('2023-12-31T23:00:00Z'),
        untilMs: Date.parse('2024-01-07T23:00:00Z'),
        perPage: 250,
        page: 3,
        sinceText: '2024-01-01T00:00:00+01:00',
        untilText: '2024-01-07T23:00:00',
      },
    });
  });

  it.each([
    ['per_page=0', 'per_page'],
    ['per_page=251', 'per_page'],
    ['per_page=2.5', 'per_page'],
    ['per_page=ten', 'per_page'],
    ['per_page=', 'per_page'],
    ['page=-1', 'page'],
    ['page=1.5', 'page'],
    ['page=first', 'page'],
    ['form_id=abc', 'form_id'],
    ['form_id=3.4', 'form_id'],
    ['since=yesterday', 'since'],
    ['until=2024-02-30T00:00:00', 'until'],
  ])('refuses %s under %s', (query, attribute) => {
    expect(Object.keys(attributesOf(run(query)))).toEqual([attribute]);
  });

  it('reports every invalid parameter at once', () => {
    expect(attributesOf(run('per_page=0&page=-2&since=x'))).toEqual({
      per_page: 'must be an integer between 1 and 250',
      page: 'must be an integer of 0 or more',
      since: 'invalid date-time, expected ISO-8601',
    });
  });

  it('refuses until before since', () => {
    expect(attributesOf(run('since=2024-06-10T00:00:00Z&until=2024-06-09T23:59:59Z'))).toEqual({
      until: 'must not be before since',
    });
  });

  it('refuses a default since after an explicit early until', () => {
    expect(attributesOf(run('until=2024-01-01T00:00:00Z'))).toHaveProperty('until');
  });

  it('accepts exactly one calendar month and refuses one second more', () => {
    expect(run('since=2024-01-31T00:00:00Z&until=2024-02-29T00:00:00Z').ok).toBe(true);
    expect(attributesOf(run('since=2024-01-31T00:00:00Z&until=2024-02-29T00:00:01Z'))).toEqual({
      until: 'the date range may span at most one month',
    });
    expect(run('since=2024-05-15T10:00:00Z&until=2024-06-15T10:00:00Z').ok).toBe(true);
    expect(run('since=2024-05-15T10:00:00Z&until=2024-06-15T10:00:01Z').ok).toBe(false);
  });

  it('accepts since equal to until', () => {
    expect(run('since=2024-06-10T00:00:00Z&until=2024-06-10T00:00:00Z').ok).toBe(true);
  });

  it('ignores unknown parameters', () => {
    expect(run('sort=desc&date_from=x').ok).toBe(true);
  });
});
