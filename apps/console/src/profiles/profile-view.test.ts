import { describe, expect, it } from 'vitest';
import { formatDateTime } from '../components/time';
import { historyBars } from './profile-view';

describe('the history chart of a profile', () => {
  it('draws the oldest evaluation first (the API answers newest first), labelled in the user’s zone', () => {
    const newestFirst = [
      { evaluatedAt: '2026-11-30T10:00:00.000Z', memberCount: 4 },
      { evaluatedAt: '2026-11-29T10:00:00.000Z', memberCount: 7 },
    ];
    expect(historyBars(newestFirst)).toEqual([
      { label: formatDateTime('2026-11-29T10:00:00.000Z'), value: 7 },
      { label: formatDateTime('2026-11-30T10:00:00.000Z'), value: 4 },
    ]);
    expect(newestFirst[0]!.memberCount).toBe(4);
  });
});
