import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addRunIds, removeRunIds } from '../run-ids.js';

/** The id of the run that stored each row, in every app table (see RUN_ID_COLUMN). */
export class RowRunIdsPostgres1764500110000 implements MigrationInterface {
  name = 'RowRunIds1764500110000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await addRunIds(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await removeRunIds(queryRunner);
  }
}
