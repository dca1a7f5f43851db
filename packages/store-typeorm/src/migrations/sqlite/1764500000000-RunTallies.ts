import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * What a run counted beyond new, already stored and rejected records: records read twice, late
 * arrivals, responses without a usable e-mail, and the range a reconciliation pass read. One JSON
 * object, so that a count added later needs no migration; runs from before hold `{}`.
 */
export class RunTalliesSqlite1764500000000 implements MigrationInterface {
  name = 'RunTallies1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [`ALTER TABLE ${table('runs').sql} ADD COLUMN "tallies" TEXT NOT NULL DEFAULT '{}'`]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [`ALTER TABLE ${table('runs').sql} DROP COLUMN "tallies"`]);
  }
}
