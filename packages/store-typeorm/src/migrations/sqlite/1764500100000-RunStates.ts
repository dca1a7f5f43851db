import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q, type PhysicalTable } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

const STATES = `('running', 'succeeded', 'failed', 'stopped', 'abandoned')`;
const OLD_STATES = `('running', 'succeeded', 'failed')`;

/**
 * SQLite cannot change a CHECK constraint in place: the runs table is rebuilt. With the legacy
 * rename, the tables that reference `runs` (rejected records) keep naming `runs` rather than
 * following the old table, so dropping it deletes nothing of theirs.
 */
function rebuildRuns(runs: PhysicalTable, installations: PhysicalTable, states: string): string[] {
  const old = q(`${runs.name}_rebuild`);
  return [
    'PRAGMA legacy_alter_table = ON',
    `ALTER TABLE ${runs.sql} RENAME TO ${old}`,
    `CREATE TABLE ${runs.sql} (
      "id" TEXT NOT NULL PRIMARY KEY,
      "installation_id" TEXT NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
      "started_at" TEXT NOT NULL,
      "finished_at" TEXT,
      "status" TEXT NOT NULL CHECK ("status" IN ${states}),
      "fetched" INTEGER NOT NULL DEFAULT 0,
      "inserted" INTEGER NOT NULL DEFAULT 0,
      "unchanged" INTEGER NOT NULL DEFAULT 0,
      "rejected" INTEGER NOT NULL DEFAULT 0,
      "saved" TEXT NOT NULL DEFAULT '[]',
      "error" TEXT,
      "error_code" TEXT,
      "warnings" TEXT NOT NULL DEFAULT '[]'
    )`,
    `INSERT INTO ${runs.sql} SELECT "id", "installation_id", "started_at", "finished_at", "status", "fetched", "inserted", "unchanged",
            "rejected", "saved", "error", "error_code", "warnings" FROM ${old}`,
    `DROP TABLE ${old}`,
    `CREATE INDEX ${q(indexName(runs, ['installation_id', 'started_at']))} ON ${runs.sql} ("installation_id", "started_at")`,
    'PRAGMA legacy_alter_table = OFF',
  ];
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
    await runAll(queryRunner, [
      ...rebuildRuns(runs, table('installations'), STATES),
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
      ...rebuildRuns(runs, table('installations'), OLD_STATES),
    ]);
  }
}
