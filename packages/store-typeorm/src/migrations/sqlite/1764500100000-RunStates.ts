import type { MigrationInterface, QueryRunner } from 'typeorm';
import { StorageError } from '@tributary/core';
import { indexName, quoteIdentifier as q, type PhysicalTable } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

const STATES = `('running', 'succeeded', 'failed', 'stopped', 'abandoned')`;
const OLD_STATES = `('running', 'succeeded', 'failed')`;

/** A table's CREATE statement and those of its indexes, as SQLite keeps them. */
async function definitionOf(queryRunner: QueryRunner, table: PhysicalTable): Promise<{ create: string; indexes: string[] }> {
  const rows = (await queryRunner.query(`SELECT "type", "sql" FROM sqlite_master WHERE "tbl_name" = ? AND "sql" IS NOT NULL`, [table.name])) as {
    type: string;
    sql: string;
  }[];
  const create = rows.find((r) => r.type === 'table')?.sql;
  if (!create) throw new StorageError('STORE_MIGRATION_FAILED', `Table ${table.name} is missing; the database is not one Tributary migrated.`);
  return { create, indexes: rows.filter((r) => r.type === 'index').map((r) => r.sql) };
}

/**
 * SQLite cannot change a CHECK constraint in place: the runs table is rebuilt from its own CREATE
 * statement with the new states. Renaming a table makes the tables that reference it follow, so
 * those (the rejected records, and any other) are rebuilt with it; otherwise dropping the old runs
 * table would delete their rows by cascade.
 */
async function rebuildRuns(queryRunner: QueryRunner, from: string, to: string): Promise<void> {
  const runs = tableNamer(queryRunner)('runs');
  const children = (
    (await queryRunner.query(
      `SELECT DISTINCT m."name" AS "name" FROM sqlite_master m, pragma_foreign_key_list(m."name") f
        WHERE m."type" = 'table' AND f."table" = ? AND m."name" <> ?`,
      [runs.name, runs.name],
    )) as { name: string }[]
  ).map((r): PhysicalTable => ({ schema: undefined, name: r.name, sql: q(r.name) }));
  const runsDef = await definitionOf(queryRunner, runs);
  const childDefs = await Promise.all(children.map((child) => definitionOf(queryRunner, child)));
  const create = runsDef.create.replace(`"status" IN ${from}`, `"status" IN ${to}`);
  if (create === runsDef.create) throw new StorageError('STORE_MIGRATION_FAILED', `The status constraint of ${runs.name} is not ${from}; the table was changed outside Tributary.`);
  const old = (table: PhysicalTable) => q(`${table.name}_rebuild`);
  await runAll(queryRunner, [
    `ALTER TABLE ${runs.sql} RENAME TO ${old(runs)}`,
    ...children.map((child) => `ALTER TABLE ${child.sql} RENAME TO ${old(child)}`),
    create,
    `INSERT INTO ${runs.sql} SELECT * FROM ${old(runs)}`,
    ...children.flatMap((child, i) => [childDefs[i]!.create, `INSERT INTO ${child.sql} SELECT * FROM ${old(child)}`, `DROP TABLE ${old(child)}`]),
    `DROP TABLE ${old(runs)}`,
    ...runsDef.indexes,
    ...childDefs.flatMap((def) => def.indexes),
  ]);
}

/**
 * Runs that tell the truth: two more states (`stopped` by a signal, `abandoned` by a process that
 * died), every customer a run saved (`run_saved`, not only the first thousand in `runs.saved`),
 * and since when a run lease is held, for the message that names the process holding it.
 */
export class RunStatesSqlite1764500100000 implements MigrationInterface {
  name = 'RunStates1764500100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const runs = table('runs');
    const saved = table('run_saved');
    await rebuildRuns(queryRunner, OLD_STATES, STATES);
    await runAll(queryRunner, [
      // INTEGER PRIMARY KEY is the rowid; AUTOINCREMENT would create an unprefixed sqlite_sequence table.
      `CREATE TABLE ${saved.sql} (
        "id" INTEGER PRIMARY KEY,
        "run_id" TEXT NOT NULL REFERENCES ${runs.sql} ("id") ON DELETE CASCADE,
        "email" TEXT NOT NULL,
        "form" TEXT,
        "score" REAL,
        "comment" TEXT
      )`,
      `CREATE INDEX ${q(indexName(saved, ['run_id', 'id']))} ON ${saved.sql} ("run_id", "id")`,
      // Finding the runs whose process may have died reads only the runs still marked running.
      `CREATE INDEX ${q(indexName(runs, ['installation_id'], 'running'))} ON ${runs.sql} ("installation_id") WHERE "status" = 'running'`,
      `ALTER TABLE ${table('run_leases').sql} ADD COLUMN "since" TEXT`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const runs = table('runs');
    await runAll(queryRunner, [
      `ALTER TABLE ${table('run_leases').sql} DROP COLUMN "since"`,
      `DROP TABLE ${table('run_saved').sql}`,
      `UPDATE ${runs.sql} SET "status" = 'succeeded' WHERE "status" = 'stopped'`,
      `UPDATE ${runs.sql} SET "status" = 'failed' WHERE "status" = 'abandoned'`,
      `DROP INDEX ${q(indexName(runs, ['installation_id'], 'running'))}`,
    ]);
    await rebuildRuns(queryRunner, STATES, OLD_STATES);
  }
}
