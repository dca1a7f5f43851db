import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * When an uninstalled installation's data was purged: a second purge, a profile and a reinstall must
 * tell a purged installation (nothing left) from one whose data was kept (reattached on reinstall).
 */
export class PurgedInstallationsPostgres1764500200000 implements MigrationInterface {
  name = 'PurgedInstallations1764500200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await runAll(queryRunner, [`ALTER TABLE ${tableNamer(queryRunner)('installations').sql} ADD COLUMN "purged_at" timestamptz`]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runAll(queryRunner, [`ALTER TABLE ${tableNamer(queryRunner)('installations').sql} DROP COLUMN "purged_at"`]);
  }
}
