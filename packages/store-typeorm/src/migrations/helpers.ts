import type { QueryRunner } from 'typeorm';
import type { AppTable } from '../app-tables.js';
import { namingOf } from './naming-of.js';

// Frozen copies of what the data migrations need from the dialect: a migration must keep doing
// what it did when it shipped, whatever the live dialect code becomes, and importing dialect.ts
// (which lists the migrations) would make a cycle.

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
