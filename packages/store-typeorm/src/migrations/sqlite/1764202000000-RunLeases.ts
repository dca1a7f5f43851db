import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Run leases on SQLite, which has no session locks: a process that syncs an installation holds a
 * row here with an expiry it keeps pushing forward, so that a second runner or a manual `sync` in
 * another process on the same file finds the installation busy; a crashed holder's lease runs out.
 * PostgreSQL uses session advisory locks instead and needs no table.
 */
export class RunLeasesSqlite1764202000000 implements MigrationInterface {
  name = 'RunLeases1764202000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [
      `CREATE TABLE ${table('run_leases').sql} (
        "lock_key" TEXT NOT NULL PRIMARY KEY,
        "owner" TEXT NOT NULL,
        "lease_until" TEXT NOT NULL
      )`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [`DROP TABLE ${table('run_leases').sql}`]);
  }
}
