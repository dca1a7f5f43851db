import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * One person's data erased on request: a receipt per erasure that keeps a salted hash of the
 * address (never the address) and, until the operator lifts it, keeps later syncs from importing
 * that person again; the salt every hash uses; and an installation's retention period, after which
 * its responses and raw records are deleted (null: kept).
 */
export class PersonalDataSqlite1764600600000 implements MigrationInterface {
  name = 'PersonalData1764600600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const receipts = table('erasure_receipts');
    await runAll(queryRunner, [
      `CREATE TABLE ${receipts.sql} (
        "id" TEXT PRIMARY KEY,
        "email_hash" TEXT NOT NULL,
        "workspace_id" TEXT REFERENCES ${table('workspaces').sql} ("id") ON DELETE CASCADE,
        "erased_at" TEXT NOT NULL,
        "erased_by" TEXT,
        "counts" TEXT NOT NULL DEFAULT '{}',
        "lifted_at" TEXT,
        "lifted_by" TEXT
      )`,
      `CREATE INDEX ${q(indexName(receipts, ['email_hash']))} ON ${receipts.sql} ("email_hash")`,
      `CREATE TABLE ${table('erasure_salt').sql} (
        "id" INTEGER PRIMARY KEY CHECK ("id" = 1),
        "salt" TEXT NOT NULL,
        "created_at" TEXT NOT NULL
      )`,
      `ALTER TABLE ${table('installations').sql} ADD COLUMN "retention_days" INTEGER`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [
      `ALTER TABLE ${table('installations').sql} DROP COLUMN "retention_days"`,
      `DROP TABLE ${table('erasure_salt').sql}`,
      `DROP TABLE ${table('erasure_receipts').sql}`,
    ]);
  }
}
