import type { QueryRunner } from 'typeorm';
import { dataModelSchema } from '@tributary/core';
import { indexName, quoteIdentifier as q, type PhysicalTable } from '../naming.js';
import {
  appTableOf,
  CONTACT_ID_COLUMN,
  contactsTableOf,
  fillContactIdsSql,
  hasColumn,
  storedJson,
  uuidColumnType,
  type AppTable,
} from './helpers.js';
import { namingOf, tableNamer } from './naming-of.js';

/** An index over the customer e-mail, as the store now creates it (with the contact id) and as it did before. */
interface IndexPair {
  current: string[];
  previous: string[];
}

/**
 * The primary tables of every app installed in the database, under the data models the
 * installations stored (each installation keeps the model it was provisioned with), with the
 * indexes that carry the contact id.
 */
async function primaryTables(
  queryRunner: QueryRunner,
): Promise<{ table: AppTable; contacts: PhysicalTable; indexes: IndexPair[] }[]> {
  const naming = namingOf(queryRunner);
  const installations = tableNamer(queryRunner)('installations');
  const rows = (await queryRunner.query(`SELECT "app", "data_model" FROM ${installations.sql}`)) as {
    app: string;
    data_model: unknown;
  }[];
  const byTable = new Map<string, { table: AppTable; contacts: PhysicalTable; indexes: Map<string, IndexPair> }>();
  for (const row of rows) {
    const parsed = dataModelSchema.safeParse(storedJson(row.data_model));
    // A model the store cannot read is reported by every command that uses the installation; the
    // migration leaves it alone rather than fail every other app.
    if (!parsed.success || !parsed.data.customerEmailColumn) continue;
    const model = parsed.data;
    const spec = model.tables.find((t) => t.name === model.primaryTable);
    if (!spec) continue;
    const table = appTableOf(naming, row.app, model, spec);
    const entry = byTable.get(table.table.sql) ?? {
      table,
      contacts: contactsTableOf(naming, row.app),
      indexes: new Map(),
    };
    for (const index of table.indexes) {
      if (index.at(-1) !== CONTACT_ID_COLUMN) continue;
      entry.indexes.set(index.join('\u0000'), { current: index, previous: index.slice(0, -1) });
    }
    byTable.set(table.table.sql, entry);
  }
  return [...byTable.values()].map((e) => ({ ...e, indexes: [...e.indexes.values()] }));
}

function dropIndex(table: AppTable, columns: readonly string[]): string {
  const name = q(indexName(table.table, columns));
  return `DROP INDEX IF EXISTS ${table.table.schema === undefined ? name : `${q(table.table.schema)}.${name}`}`;
}

function createIndex(table: AppTable, columns: readonly string[]): string {
  return `CREATE INDEX IF NOT EXISTS ${q(indexName(table.table, columns))} ON ${table.table.sql} (${columns.map(q).join(', ')})`;
}

/**
 * Adds the contact id to the primary tables provisioned before the store kept it there: the
 * column, filled from the contacts table, and the indexes over the e-mail rebuilt with it.
 */
export async function addContactIds(queryRunner: QueryRunner): Promise<void> {
  for (const { table, contacts, indexes } of await primaryTables(queryRunner)) {
    if ((await hasColumn(queryRunner, table, CONTACT_ID_COLUMN)) !== false) continue;
    await queryRunner.query(
      `ALTER TABLE ${table.table.sql} ADD COLUMN ${q(CONTACT_ID_COLUMN)} ${uuidColumnType(queryRunner)}`,
    );
    await queryRunner.query(fillContactIdsSql(table, contacts)!);
    for (const index of indexes) {
      await queryRunner.query(createIndex(table, index.current));
      await queryRunner.query(dropIndex(table, index.previous));
    }
  }
}

/** Takes the contact id out of the primary tables again, with the indexes as they were before. */
export async function removeContactIds(queryRunner: QueryRunner): Promise<void> {
  for (const { table, indexes } of await primaryTables(queryRunner)) {
    if (!(await hasColumn(queryRunner, table, CONTACT_ID_COLUMN))) continue;
    for (const index of indexes) {
      await queryRunner.query(createIndex(table, index.previous));
      await queryRunner.query(dropIndex(table, index.current));
    }
    await queryRunner.query(`ALTER TABLE ${table.table.sql} DROP COLUMN ${q(CONTACT_ID_COLUMN)}`);
  }
}
