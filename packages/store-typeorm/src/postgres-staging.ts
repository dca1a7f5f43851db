import { createHash } from 'node:crypto';
import { quoteIdentifier as q } from './naming.js';
import type { CanonicalValue, SqlType } from './values.js';

// A large bulk insert on PostgreSQL goes through COPY into a temporary staging table, then one
// INSERT … SELECT … ON CONFLICT from it into the real table. Measured on the CloseAlert backfill
// (30,000 responses, batches of 1,000): the `unnest` of array literals cost the server 1.4–1.7 CPU s
// and Node 0.6 s for form_responses, COPY + merge 1.2 s and 0.3 s. The difference is the `raw`
// jsonb column: inside an array literal every quote of the JSON is escaped and parsed twice; COPY's
// text format leaves quotes alone. Small inserts stay on `unnest`: one round trip instead of three.

/** Fewest rows that go through staging; below it the extra round trips cost more than they save. */
export const STAGING_MIN_ROWS = 200;

/** A column of a staged insert. */
export interface StagedColumn {
  name: string;
  /** The PostgreSQL type of the column (its DDL). */
  ddl: string;
  type: SqlType;
}

/**
 * The session's staging table for a shape of columns. Temporary (no WAL, invisible to other
 * sessions) and emptied at every commit or rollback (`ON COMMIT DELETE ROWS` truncates it in
 * place), so rows of one transaction never reach the next one on the same pooled connection. Its
 * name depends on the columns and their types, so a table whose columns changed gets a new one.
 */
export function stagingTable(columns: readonly StagedColumn[]): { name: string; create: string } {
  const shape = columns.map((c) => `${c.name} ${c.ddl}`).join(',');
  const name = `pg_temp.${q(`tributary_stage_${createHash('sha256').update(shape).digest('hex').slice(0, 24)}`)}`;
  // A temporary table created by a transaction that rolls back is gone with it: the caller looks
  // it up in every transaction (to_regclass) and creates it when missing, never trusting a cache.
  const create = `CREATE TEMPORARY TABLE IF NOT EXISTS ${name} (${columns.map((c) => `${q(c.name)} ${c.ddl}`).join(', ')}) ON COMMIT DELETE ROWS`;
  return { name, create };
}

// COPY's text format: a tab between fields, a newline after each row, \N for NULL; a backslash,
// tab, newline or carriage return inside a value is written as a backslash escape.
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyField(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : text;
}

/**
 * Rows as the data of `COPY … FROM STDIN` (text format). `bind` turns a canonical value into the
 * text PostgreSQL reads for its column (without NUL characters, which PostgreSQL cannot store).
 */
export function copyText(
  columns: readonly StagedColumn[],
  rows: readonly (readonly CanonicalValue[])[],
  bind: (type: SqlType, value: CanonicalValue) => unknown,
): string {
  const lines = new Array<string>(rows.length);
  const width = columns.length;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let line = '';
    for (let i = 0; i < width; i++) {
      const value = row[i];
      if (i > 0) line += '\t';
      if (value === null || value === undefined) line += '\\N';
      else if (typeof value === 'number') line += String(value);
      else if (typeof value === 'boolean') line += value ? 't' : 'f';
      else line += copyField(bind(columns[i]!.type, value) as string);
    }
    lines[r] = line;
  }
  return rows.length === 0 ? '' : `${lines.join('\n')}\n`;
}
