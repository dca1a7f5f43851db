import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Billing on SQLite: each installation's plan and PO number, and the invoices, unique per
 * installation and period start so that a period is never billed twice. Timestamps are ISO-8601
 * UTC text. README.md documents them.
 */
export class AppLifecycleSqlite1764201800000 implements MigrationInterface {
  name = 'AppLifecycle1764201800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const installations = table('installations');
    const invoices = table('invoices');
    await runAll(queryRunner, [
      // Installations made before billing existed default to the monthly plan, as new ones do.
      `ALTER TABLE ${installations.sql} ADD COLUMN "billing_plan" TEXT NOT NULL DEFAULT 'monthly'
        CHECK ("billing_plan" IN ('monthly', 'yearly'))`,
      `ALTER TABLE ${installations.sql} ADD COLUMN "billing_po" TEXT`,
      `CREATE TABLE ${invoices.sql} (
        "id" TEXT NOT NULL PRIMARY KEY,
        "installation_id" TEXT NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "plan" TEXT NOT NULL CHECK ("plan" IN ('monthly', 'yearly')),
        "period_start" TEXT NOT NULL,
        "period_end" TEXT NOT NULL,
        "amount_minor" INTEGER NOT NULL CHECK ("amount_minor" >= 0),
        "currency" TEXT NOT NULL,
        "po_number" TEXT,
        "issued_at" TEXT NOT NULL,
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
