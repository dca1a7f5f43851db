import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateRecords } from './records.js';

describe('validateRecords', () => {
  it('keeps the valid records in order and sets the others aside with id and reason', () => {
    const schema = z.object({ id: z.number(), score: z.number().min(0) });
    const { records, rejected } = validateRecords([{ id: 1, score: 3 }, { id: 2, score: -1 }, 'junk', { id: 4, score: 5 }], schema);
    expect(records).toEqual([
      { id: 1, score: 3 },
      { id: 4, score: 5 },
    ]);
    expect(rejected).toEqual([
      { sourceId: '2', reason: expect.stringMatching(/score/), raw: { id: 2, score: -1 } },
      { reason: expect.any(String), raw: 'junk' },
    ]);
  });
});
