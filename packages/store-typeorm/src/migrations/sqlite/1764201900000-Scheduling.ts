import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * The runner's bookkeeping on SQLite: when each installation syncs next (with the version that
 * makes a stale job harmless), and which period each periodic task last ran for. Timestamps are
 * ISO-8601 UTC text, so that text order is time order. README.md documents both tables.
 */
export class SchedulingSqlite1764201900000 implements MigrationInterface {
  name = 'Scheduling1764201900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const installations = table('installations');
    const schedules = table('schedules');
    const periodic = table('periodic_tasks');
    await runAll(queryRunner, [
      `CREATE TABLE ${schedules.sql} (
        "installation_id" TEXT NOT NULL PRIMARY KEY REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "next_run_at" TEXT NOT NULL,
        "attempts" INTEGER NOT NULL DEFAULT 0 CHECK ("attempts" >= 0),
        "version" INTEGER NOT NULL CHECK ("version" >= 1),
        "last_started_at" TEXT,
        "last_finished_at" TEXT,
        "last_status" TEXT CHECK ("last_status" IN ('succeeded', 'failed', 'interrupted')),
        "last_error_code" TEXT,
        "updated_at" TEXT NOT NULL
      )`,
      `CREATE INDEX ${q(indexName(schedules, ['next_run_at']))} ON ${schedules.sql} ("next_run_at")`,
      `CREATE TABLE ${periodic.sql} (
        "name" TEXT NOT NULL PRIMARY KEY,
        "period_start" TEXT NOT NULL,
        "previous_period_start" TEXT,
        "claimed_at" TEXT NOT NULL
      )`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [`DROP TABLE ${table('periodic_tasks').sql}`, `DROP TABLE ${table('schedules').sql}`]);
  }
}
