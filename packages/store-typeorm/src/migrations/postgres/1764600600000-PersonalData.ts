import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * One person's data erased on request: a receipt per erasure that keeps a salted hash of the
 * address (never the address) and, until the operator lifts it, keeps later syncs from importing
 * that person again; the salt every hash uses; and an installation's retention period, after which
 * its responses and raw records are deleted (null: kept).
 */
export class PersonalDataPostgres1764600600000 implements MigrationInterface {
  name = 'PersonalData1764600600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const receipts = table('erasure_receipts');
    await runAll(queryRunner, [
      `CREATE TABLE ${receipts.sql} (
        "id" uuid PRIMARY KEY,
        "email_hash" text NOT NULL,
        "workspace_id" uuid REFERENCES ${table('workspaces').sql} ("id") ON DELETE CASCADE,
        "erased_at" timestamptz NOT NULL,
        "erased_by" text,
        "counts" jsonb NOT NULL DEFAULT '{}',
        "lifted_at" timestamptz,
        "lifted_by" text
      )`,
      `CREATE INDEX ${q(indexName(receipts, ['email_hash']))} ON ${receipts.sql} ("email_hash")`,
      `CREATE TABLE ${table('erasure_salt').sql} (
        "id" integer PRIMARY KEY CHECK ("id" = 1),
        "salt" text NOT NULL,
        "created_at" timestamptz NOT NULL
      )`,
      `ALTER TABLE ${table('installations').sql} ADD COLUMN "retention_days" integer CHECK ("retention_days" >= 1)`,
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
