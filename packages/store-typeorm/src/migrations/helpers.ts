import type { QueryRunner } from 'typeorm';
import type { DataModel, TableSpec } from '@tributary/core';
import {
  appTableBareName,
  ownTable,
  quoteIdentifier as q,
  type PhysicalTable,
  type TableNaming,
} from '../naming.js';
import { namingOf } from './naming-of.js';

// Frozen copies of what the data migrations need from the dialect and the app tables: a migration
// must keep doing what it did when it shipped, whatever the live code becomes, and importing
// dialect.ts (which imports the migration lists) would make a cycle. Only the naming rules are shared:
// changing them would rename every existing table anyway.

export const INSTALLATION_COLUMN = 'installation_id';
export const CONTACT_ID_COLUMN = 'contact_id';
export const RUN_ID_COLUMN = 'run_id';

/** An app table as these migrations see it. */
export interface AppTable {
  table: PhysicalTable;
  /** Secondary indexes, installation id first, with the contact id after a last customer e-mail column. */
  indexes: string[][];
  /** The customer e-mail column whose contact id the table holds (the primary table only). */
  contactIdOf?: string;
}

/** The app table of a declared table of `model`, named and indexed as the store did when the contact id came. */
export function appTableOf(naming: TableNaming, app: string, model: DataModel, spec: TableSpec): AppTable {
  const emailColumn = spec.name === model.primaryTable ? model.customerEmailColumn : undefined;
  return {
    table: ownTable(naming, appTableBareName(app, spec.name)),
    indexes: spec.indexes.map((index) => [
      INSTALLATION_COLUMN,
      ...index,
      ...(emailColumn && index.at(-1) === emailColumn ? [CONTACT_ID_COLUMN] : []),
    ]),
    ...(emailColumn ? { contactIdOf: emailColumn } : {}),
  };
}

/** The contacts table of an app. */
export function contactsTableOf(naming: TableNaming, app: string): PhysicalTable {
  return ownTable(naming, appTableBareName(app, 'contacts'));
}

/**
 * Fills the contact id of rows written before the table had the column, from the contacts table.
 * Exact for an e-mail column that holds normalized addresses: the page writer normalizes with
 * JavaScript's trim and toLowerCase, while SQLite's TRIM and LOWER only know spaces and ASCII, so an
 * unnormalized non-ASCII address may stay without an id here. Profiles look those up.
 */
export function fillContactIdsSql(table: AppTable, contacts: PhysicalTable): string | undefined {
  if (!table.contactIdOf) return undefined;
  const email = `${table.table.sql}.${q(table.contactIdOf)}`;
  return `UPDATE ${table.table.sql} SET ${q(CONTACT_ID_COLUMN)} = (
    SELECT c.${q('contact_id')} FROM ${contacts.sql} c
     WHERE c.${q(INSTALLATION_COLUMN)} = ${table.table.sql}.${q(INSTALLATION_COLUMN)}
       AND c.${q('email_normalized')} IN (${email}, LOWER(TRIM(${email}))))
   WHERE ${email} IS NOT NULL AND ${q(CONTACT_ID_COLUMN)} IS NULL`;
}

/** A stored JSON column: parsed by PostgreSQL's driver already, text on SQLite; unreadable text is undefined. */
export function storedJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Whether an app table has a column; undefined when the table itself is missing (dropped by hand, say). */
export async function hasColumn(
  queryRunner: QueryRunner,
  table: AppTable,
  column: string,
): Promise<boolean | undefined> {
  const { sql, params } =
    namingOf(queryRunner).dialect === 'postgres'
      ? {
          sql: `SELECT column_name AS "name" FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
          params: [table.table.schema, table.table.name],
        }
      : { sql: `SELECT "name" FROM pragma_table_info(?, 'main')`, params: [table.table.name] };
  const columns = ((await queryRunner.query(sql, params)) as { name: string }[]).map((c) => c.name);
  if (columns.length === 0) return undefined;
  return columns.includes(column);
}

/** The column type of a uuid, as the store created it when these migrations shipped. */
export function uuidColumnType(queryRunner: QueryRunner): string {
  return namingOf(queryRunner).dialect === 'postgres' ? 'uuid' : 'TEXT';
}
