import type { QueryRunner } from 'typeorm';
import { dataModelSchema } from '@tributary/core';
import { indexName, quoteIdentifier as q } from '../naming.js';
import { appTableOf, hasColumn, INSTALLATION_COLUMN, RUN_ID_COLUMN, storedJson, uuidColumnType, type AppTable } from './helpers.js';
import { namingOf, tableNamer } from './naming-of.js';

/** Every declared app table of every installed app, under the models the installations stored, and whether it is a primary table. */
async function declaredTables(queryRunner: QueryRunner): Promise<{ table: AppTable; primary: boolean }[]> {
  const naming = namingOf(queryRunner);
  const installations = tableNamer(queryRunner)('installations');
  const rows = (await queryRunner.query(`SELECT "app", "data_model" FROM ${installations.sql}`)) as { app: string; data_model: unknown }[];
  const byTable = new Map<string, { table: AppTable; primary: boolean }>();
  for (const row of rows) {
    const parsed = dataModelSchema.safeParse(storedJson(row.data_model));
    // A model the store cannot read is reported by every command that uses the installation.
    if (!parsed.success) continue;
    for (const spec of parsed.data.tables) {
      const table = appTableOf(naming, row.app, parsed.data, spec);
      const known = byTable.get(table.table.sql);
      byTable.set(table.table.sql, { table, primary: (known?.primary ?? false) || spec.name === parsed.data.primaryTable });
    }
  }
  return [...byTable.values()];
}

const RUN_INDEX = [INSTALLATION_COLUMN, RUN_ID_COLUMN];

function qualifiedIndex(table: AppTable): string {
  const name = q(indexName(table.table, RUN_INDEX));
  return table.table.schema === undefined ? name : `${q(table.table.schema)}.${name}`;
}

/**
 * Adds the run id to the app tables provisioned before the store kept it, with the index of the
 * primary tables. Rows stored before keep a null run id: which run stored them is not known.
 */
export async function addRunIds(queryRunner: QueryRunner): Promise<void> {
  for (const { table, primary } of await declaredTables(queryRunner)) {
    if ((await hasColumn(queryRunner, table, RUN_ID_COLUMN)) !== false) continue;
    await queryRunner.query(`ALTER TABLE ${table.table.sql} ADD COLUMN ${q(RUN_ID_COLUMN)} ${uuidColumnType(queryRunner)}`);
    if (primary) {
      await queryRunner.query(`CREATE INDEX IF NOT EXISTS ${q(indexName(table.table, RUN_INDEX))} ON ${table.table.sql} (${RUN_INDEX.map(q).join(', ')})`);
    }
  }
}

/** Takes the run id out of the app tables again. */
export async function removeRunIds(queryRunner: QueryRunner): Promise<void> {
  for (const { table } of await declaredTables(queryRunner)) {
    if (!(await hasColumn(queryRunner, table, RUN_ID_COLUMN))) continue;
    await queryRunner.query(`DROP INDEX IF EXISTS ${qualifiedIndex(table)}`);
    await queryRunner.query(`ALTER TABLE ${table.table.sql} DROP COLUMN ${q(RUN_ID_COLUMN)}`);
  }
}
