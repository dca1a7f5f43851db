import { z } from 'zod';
import { parseUserInput } from '@tributary/core';

const daysSchema = z
  .string()
  .trim()
  .regex(/^\d+$/, 'must be a whole number of days')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1 day').max(36_500, 'must be at most 36500 days (100 years)'));

/** A retention period from the command line, in days. */
export function parseRetentionDays(input: string, flag: string): number {
  return parseUserInput(daysSchema, input, flag);
}

/** An installation's retention period in words. */
export function describeRetention(days: number | undefined): string {
  return days === undefined
    ? 'responses and raw records are kept until deleted'
    : `responses, raw records, rejected records and run-log lines older than ${days} day${days === 1 ? '' : 's'} are deleted after each run (scheduled, or by tributary sync)`;
}
