import { describe, expect, it } from 'vitest';
import { durationMs, filtersFromQuery, runsQuery } from './run-filters';

describe('the run log filters', () => {
  it('reads the URL, dropping what is malformed', () => {
    expect(filtersFromQuery(new URLSearchParams('status=failed&from=2026-11-01&to=nope&app=closealert'))).toEqual({
      status: 'failed',
      from: '2026-11-01',
      app: 'closealert',
    });
    expect(filtersFromQuery(new URLSearchParams('status=exploded&app=Robert%27)'))).toEqual({});
  });

  it('sends local days as instants, the last day counted whole', () => {
    const query = runsQuery({ status: 'succeeded', from: '2026-11-01', to: '2026-11-03' });
    expect(query.status).toBe('succeeded');
    expect(new Date(query.from!).getTime()).toBe(new Date(2026, 10, 1).getTime());
    // Up to the midnight after the 3rd, in the user's zone.
    expect(new Date(query.to!).getTime()).toBe(new Date(2026, 10, 4).getTime());
    expect(runsQuery({})).toEqual({});
  });

  it('measures a finished run and leaves a running one without a duration', () => {
    expect(durationMs({ startedAt: '2026-11-01T10:00:00Z', finishedAt: '2026-11-01T10:01:30Z' })).toBe(90_000);
    expect(durationMs({ startedAt: '2026-11-01T10:00:00Z', finishedAt: null })).toBeNull();
  });
});
