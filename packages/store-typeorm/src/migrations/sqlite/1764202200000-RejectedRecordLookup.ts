import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createRejectedRecordLookup, dropRejectedRecordLookup } from '../rejected-record-lookup.js';

/**
 * Finds whether an installation already set a record aside: a page checks its rejected records
 * against it, so that a record the look-back reads again is not logged twice.
 */
export class RejectedRecordLookupSqlite1764202200000 implements MigrationInterface {
  name = 'RejectedRecordLookup1764202200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createRejectedRecordLookup(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropRejectedRecordLookup(queryRunner);
  }
}
