import { z } from 'zod';
import { ConfigError, describeIssues, type CustomerTableLink } from '@tributary/core';
import type { Executor } from './database.js';
import type { Dialect } from './dialect.js';

/**
 * A name in a user's own database. Looser than Tributary's identifiers (upper case is allowed, since
 * the user chose it), yet without quotes, dots or spaces, so that a compiler quoting it later is safe.
 */
const userIdentifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be letters, digits, "_" or "$", at most 63 characters');

/** Schema of a link to a user's own customers table. */
export const customerTableLinkSchema = z.object({
  table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$/, 'must be "table" or "schema.table"'),
  emailColumn: userIdentifier,
  idColumn: userIdentifier,
});

function parseLink(input: unknown): CustomerTableLink {
  const parsed = customerTableLinkSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError('CUSTOMER_TABLE_INVALID', `Invalid customer table link: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Reads a link stored earlier; undefined when there is none. */
export function storedCustomerTable(value: unknown): CustomerTableLink | undefined {
  return value === null || value === undefined ? undefined : parseLink(value);
}

/**
 * Checks that a user's customers table exists and has the e-mail and id columns, reading only the
 * catalog (information_schema on PostgreSQL, pragma_table_info on SQLite) with every name bound as a
 * value. Returns the link as stored: `schema.table` on PostgreSQL (`public` when none was given) and
 * the column names as the database spells them on SQLite.
 */
export async function checkCustomerTable(db: Executor, dialect: Dialect, input: unknown): Promise<CustomerTableLink> {
  const link = parseLink(input);
  const parts = link.table.split('.');
  let schema: string | undefined;
  let table: string;
  if (dialect.name === 'postgres') {
    [schema, table] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['public', parts[0]!];
    const lower = schema.toLowerCase();
    if (lower === dialect.naming.schema?.toLowerCase()) {
      throw new ConfigError('CUSTOMER_TABLE_INVALID', `The customer table must be one of your own tables, not in Tributary's schema "${schema}".`);
    }
    // The system catalogs hold roles, password hashes and settings: never something to join customers with.
    if (lower === 'information_schema' || lower.startsWith('pg_')) {
      throw new ConfigError('CUSTOMER_TABLE_INVALID', `The customer table must be one of your own tables, not in the system schema "${schema}".`);
    }
  } else {
    if (parts.length !== 1) throw new ConfigError('CUSTOMER_TABLE_INVALID', `On SQLite the customer table is a plain table name, not "${link.table}".`);
    table = parts[0]!;
    const lower = table.toLowerCase();
    if (lower.startsWith(dialect.naming.tablePrefix.toLowerCase()) || lower.startsWith('sqlite_')) {
      throw new ConfigError('CUSTOMER_TABLE_INVALID', `The customer table must be one of your own tables, not "${table}".`);
    }
  }
  const name = schema ? `${schema}.${table}` : table;
  const columns = (await db.run<{ name: string }>(dialect.describeTable(schema, table))).map((c) => c.name);
  if (columns.length === 0) {
    throw new ConfigError('CUSTOMER_TABLE_NOT_FOUND', `The customer table "${name}" does not exist, or this database user cannot see it.`, {
      hint: dialect.name === 'postgres' ? 'Give it as schema.table, e.g. public.customers.' : undefined,
    });
  }
  const find = (wanted: string): string | undefined =>
    dialect.name === 'sqlite' ? columns.find((c) => c.toLowerCase() === wanted.toLowerCase()) : columns.find((c) => c === wanted);
  const emailColumn = find(link.emailColumn);
  const idColumn = find(link.idColumn);
  const missing = [emailColumn ? undefined : link.emailColumn, idColumn ? undefined : link.idColumn].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(
      'CUSTOMER_TABLE_INVALID',
      `The customer table "${name}" has no column ${missing.map((m) => `"${m}"`).join(' or ')}; its columns are ${columns.join(', ')}.`,
    );
  }
  return { table: name, emailColumn: emailColumn!, idColumn: idColumn! };
}
