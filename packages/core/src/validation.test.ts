import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateMappings } from './mapping.js';
import { describeIssues, parseUserInput } from './validation.js';

const workspace = z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must start with a letter or digit');

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a failure');
}

describe('validation errors read as sentences', () => {
  it('names a flag and says what is wrong, once per field', () => {
    expect(messageOf(() => parseUserInput(workspace, '', '--workspace'))).toBe('--workspace must not be empty.');
    expect(messageOf(() => parseUserInput(workspace, 'x'.repeat(101), '--workspace'))).toBe('--workspace must be at most 100 characters long.');
    expect(messageOf(() => parseUserInput(workspace, '-x', '--workspace'))).toBe('--workspace must start with a letter or digit.');
    expect(messageOf(() => parseUserInput(z.coerce.number().int().min(1), 'abc', '--limit'))).toBe('--limit must be a number.');
    expect(messageOf(() => parseUserInput(z.coerce.number().int().min(1), '0', '--limit'))).toBe('--limit must be at least 1.');
    expect(messageOf(() => parseUserInput(z.enum(['table', 'csv']), 'xml', '--format'))).toBe('--format must be one of table, csv.');
  });

  it('renames the fields of an object to the flags that set them', () => {
    const settings = z.object({ projectKey: z.string().min(1), pageSize: z.number().int().max(250) });
    expect(messageOf(() => parseUserInput(settings, { projectKey: '', pageSize: 251 }, 'CloseAlert settings', { projectKey: '--project', pageSize: '--page-size' }))).toBe(
      'Invalid CloseAlert settings: --project must not be empty; --page-size must be at most 250.',
    );
  });

  it('never shows zod’s own wording', () => {
    const result = z.object({ email: z.email(), at: z.iso.datetime() }).safeParse({ email: 'x', at: 'y' });
    const text = describeIssues(result.error!);
    expect(text).toBe('email: must be an e-mail address; at: must be an ISO-8601 date-time such as 2026-01-31T09:00:00Z');
    expect(text).not.toMatch(/Too small|Invalid|expected/);
  });

  it('names a bad mapping by the column it feeds, not by its position', () => {
    const model = {
      primaryTable: 'responses',
      tables: [{ name: 'responses', rowsFrom: { kind: 'record' as const }, key: ['id'], columns: [{ name: 'id', type: 'bigint' as const, nullable: false }] }],
    };
    const message = messageOf(() => validateMappings([{ source: '', target: { table: 'responses', column: 'id' }, transform: 'integer', enabled: true }], model as never));
    expect(message).toContain('the mapping to responses.id: source must be a dotted path');
    expect(message).not.toMatch(/mapping 0|Too small/);
  });
});
