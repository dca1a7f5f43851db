import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Billing on PostgreSQL: each installation's plan and PO number, and the invoices, unique per
 * installation and period start so that a period is never billed twice. README.md documents them.
 */
export class AppLifecyclePostgres1764201800000 implements MigrationInterface {
  name = 'AppLifecycle1764201800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const installations = table('installations');
    const invoices = table('invoices');
    await runAll(queryRunner, [
      // Installations made before billing existed default to the monthly plan, as new ones do.
      `ALTER TABLE ${installations.sql} ADD COLUMN "billing_plan" text NOT NULL DEFAULT 'monthly'
        CHECK ("billing_plan" IN ('monthly', 'yearly'))`,
      `ALTER TABLE ${installations.sql} ADD COLUMN "billing_po" text`,
      `CREATE TABLE ${invoices.sql} (
        "id" uuid PRIMARY KEY,
        "installation_id" uuid NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "plan" text NOT NULL CHECK ("plan" IN ('monthly', 'yearly')),
        "period_start" timestamptz NOT NULL,
        "period_end" timestamptz NOT NULL,
        "amount_minor" bigint NOT NULL CHECK ("amount_minor" >= 0),
        "currency" text NOT NULL,
        "po_number" text,
        "issued_at" timestamptz NOT NULL,
        CHECK ("period_end" > "period_start")
      )`,
      `CREATE UNIQUE INDEX ${q(indexName(invoices, ['installation_id', 'period_start'], 'key'))}
        ON ${invoices.sql} ("installation_id", "period_start")`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const installations = table('installations');
    await runAll(queryRunner, [
      `DROP TABLE ${table('invoices').sql}`,
      `ALTER TABLE ${installations.sql} DROP COLUMN "billing_po"`,
      `ALTER TABLE ${installations.sql} DROP COLUMN "billing_plan"`,
    ]);
  }
}
