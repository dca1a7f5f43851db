import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * The version of the connector an installation was made (or last synced) with: connectors are
 * plugins now, and an installation whose connector is missing or changed must say which one it had.
 */
export class ConnectorVersionSqlite1764500500000 implements MigrationInterface {
  name = 'ConnectorVersion1764500500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await runAll(queryRunner, [`ALTER TABLE ${tableNamer(queryRunner)('installations').sql} ADD COLUMN "connector_version" TEXT`]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runAll(queryRunner, [`ALTER TABLE ${tableNamer(queryRunner)('installations').sql} DROP COLUMN "connector_version"`]);
  }
}
