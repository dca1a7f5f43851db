import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Finds whether an installation already set a record aside: a page checks its rejected records
 * against it, so that a record the look-back reads again is not logged twice.
 */
export class RejectedRecordLookupSqlite1764202200000 implements MigrationInterface {
  name = 'RejectedRecordLookup1764202200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const rejected = tableNamer(queryRunner)('rejected_records');
    await runAll(queryRunner, [
      `CREATE INDEX ${q(indexName(rejected, ['installation_id', 'source_id']))} ON ${rejected.sql} ("installation_id", "source_id")`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const rejected = tableNamer(queryRunner)('rejected_records');
    const name = q(indexName(rejected, ['installation_id', 'source_id']));
    await runAll(queryRunner, [`DROP INDEX ${rejected.schema === undefined ? name : `${q(rejected.schema)}.${name}`}`]);
  }
}
