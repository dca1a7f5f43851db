import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Every installation has a schedule row from its install on (issue #17), so that the tick finds the
 * installations never synced by the index on `next_run_at` instead of an anti-join over all of
 * them. A never-synced row is due since its install time moved back 1,000 years (see
 * scheduling.ts): before any clock, and still in install order. Timestamps are ISO-8601 text, so
 * the shifted one is written in the same shape. Down removes exactly the backfilled kind of row.
 */
export class ScheduleAtInstallSqlite1764800100000 implements MigrationInterface {
  name = 'ScheduleAtInstall1764800100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const schedules = table('schedules');
    await runAll(queryRunner, [
      `INSERT INTO ${schedules.sql} ("installation_id", "next_run_at", "attempts", "version", "updated_at")
       SELECT i."id", strftime('%Y-%m-%dT%H:%M:%fZ', i."created_at", '-1000 years'), 0, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         FROM ${table('installations').sql} i
        WHERE NOT EXISTS (SELECT 1 FROM ${schedules.sql} s WHERE s."installation_id" = i."id")`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [`DELETE FROM ${table('schedules').sql} WHERE "next_run_at" < '1900-01-01T00:00:00.000Z'`]);
  }
}
