import type { z } from 'zod';
import { describeIssues, type RejectedRecord } from '@tributary/core';
import { readRawId } from './incremental.js';

/**
 * Validates each record of a page on its own: the valid ones to store, the others set aside with
 * the reason, so that one bad record never costs its page. For streams without a time cursor;
 * {@link Incremental.settle} does the same for incremental ones.
 */
export function validateRecords<T>(
  raws: readonly unknown[],
  schema: z.ZodType<T>,
  rawIdOf: (raw: unknown) => string | undefined = readRawId,
): { records: T[]; rejected: RejectedRecord[] } {
  const records: T[] = [];
  const rejected: RejectedRecord[] = [];
  for (const raw of raws) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) {
      records.push(parsed.data);
      continue;
    }
    const sourceId = rawIdOf(raw);
    rejected.push({ ...(sourceId === undefined ? {} : { sourceId }), reason: describeIssues(parsed.error), raw });
  }
  return { records, rejected };
}
