import { z } from 'zod';

/**
 * The only shape a table or column name may take anywhere in Tributary. Names end up in SQL as
 * identifiers (values are always bound parameters), so every name is checked against this rule
 * before it gets near a statement: lower-case, starts with a letter, at most 63 characters
 * (PostgreSQL's limit), and nothing a quote or a keyword trick could ride on.
 */
export const IDENTIFIER_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** Words that make a confusing or dangerous column or table name even when quoted. */
const RESERVED = new Set([
  'select', 'insert', 'update', 'delete', 'drop', 'alter', 'create', 'table', 'from', 'where', 'and', 'or',
  'not', 'null', 'true', 'false', 'user', 'group', 'order', 'limit', 'offset', 'union', 'join', 'on', 'as',
  'into', 'values', 'default', 'primary', 'key', 'index', 'references', 'grant', 'revoke', 'truncate',
]);

/** Whether `name` can be used as a SQL identifier in Tributary's own tables. */
export function isSafeIdentifier(name: string): boolean {
  return IDENTIFIER_PATTERN.test(name) && !RESERVED.has(name);
}

/** zod schema of a safe identifier, with a message that tells the user what to change. */
export const identifierSchema = z
  .string()
  .refine(isSafeIdentifier, {
    message:
      'must be lower-case letters, digits and underscores, start with a letter, be at most 63 characters, and not be an SQL keyword',
  });
