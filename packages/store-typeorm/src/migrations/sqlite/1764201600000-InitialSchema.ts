import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Tributary's own tables on SQLite, behind the configured prefix. Timestamps are ISO-8601 UTC text,
 * JSON is text, ids are text. README.md documents every column.
 */
export class InitialSchemaSqlite1764201600000 implements MigrationInterface {
  name = 'InitialSchema1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const workspaces = table('workspaces');
    const installations = table('installations');
    const secrets = table('installation_secrets');
    const checkpoints = table('checkpoints');
    const runs = table('runs');
    const rejected = table('rejected_records');
    const provisioned = table('provisioned_tables');
    await runAll(queryRunner, [
      `CREATE TABLE ${workspaces.sql} (
        "id" TEXT NOT NULL PRIMARY KEY,
        "name" TEXT NOT NULL UNIQUE,
        "created_at" TEXT NOT NULL
      )`,
      `CREATE TABLE ${installations.sql} (
        "id" TEXT NOT NULL PRIMARY KEY,
        "workspace_id" TEXT NOT NULL REFERENCES ${workspaces.sql} ("id"),
        "app" TEXT NOT NULL,
        "status" TEXT NOT NULL CHECK ("status" IN ('active', 'uninstalled')),
        "config" TEXT NOT NULL,
        "data_model" TEXT NOT NULL,
        "mappings" TEXT NOT NULL,
        "customer_table" TEXT,
        "created_at" TEXT NOT NULL,
        "updated_at" TEXT NOT NULL,
        "uninstalled_at" TEXT
      )`,
      `CREATE UNIQUE INDEX ${q(indexName(installations, ['workspace_id', 'app'], 'active_key'))}
        ON ${installations.sql} ("workspace_id", "app") WHERE "status" = 'active'`,
      `CREATE TABLE ${secrets.sql} (
        "installation_id" TEXT NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "name" TEXT NOT NULL,
        "key_id" TEXT NOT NULL,
        "iv" TEXT NOT NULL,
        "ciphertext" TEXT NOT NULL,
        "tag" TEXT NOT NULL,
        "updated_at" TEXT NOT NULL,
        PRIMARY KEY ("installation_id", "name")
      )`,
      `CREATE TABLE ${checkpoints.sql} (
        "installation_id" TEXT NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "stream" TEXT NOT NULL,
        "value" TEXT NOT NULL,
        "updated_at" TEXT NOT NULL,
        PRIMARY KEY ("installation_id", "stream")
      )`,
      `CREATE TABLE ${runs.sql} (
        "id" TEXT NOT NULL PRIMARY KEY,
        "installation_id" TEXT NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "started_at" TEXT NOT NULL,
        "finished_at" TEXT,
        "status" TEXT NOT NULL CHECK ("status" IN ('running', 'succeeded', 'failed')),
        "fetched" INTEGER NOT NULL DEFAULT 0,
        "inserted" INTEGER NOT NULL DEFAULT 0,
        "unchanged" INTEGER NOT NULL DEFAULT 0,
        "rejected" INTEGER NOT NULL DEFAULT 0,
        "saved" TEXT NOT NULL DEFAULT '[]',
        "error" TEXT,
        "error_code" TEXT,
        "warnings" TEXT NOT NULL DEFAULT '[]'
      )`,
      `CREATE INDEX ${q(indexName(runs, ['installation_id', 'started_at']))} ON ${runs.sql} ("installation_id", "started_at")`,
      // INTEGER PRIMARY KEY is the rowid; AUTOINCREMENT is left out because it would create an unprefixed sqlite_sequence table.
      `CREATE TABLE ${rejected.sql} (
        "id" INTEGER PRIMARY KEY,
        "run_id" TEXT NOT NULL REFERENCES ${runs.sql} ("id") ON DELETE CASCADE,
        "installation_id" TEXT NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "source_id" TEXT,
        "reason" TEXT NOT NULL,
        "raw" TEXT,
        "created_at" TEXT NOT NULL
      )`,
      `CREATE INDEX ${q(indexName(rejected, ['run_id']))} ON ${rejected.sql} ("run_id")`,
      `CREATE INDEX ${q(indexName(rejected, ['installation_id', 'created_at']))} ON ${rejected.sql} ("installation_id", "created_at")`,
      `CREATE TABLE ${provisioned.sql} (
        "table_name" TEXT NOT NULL PRIMARY KEY,
        "app" TEXT NOT NULL,
        "created_at" TEXT NOT NULL
      )`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(
      queryRunner,
      ['rejected_records', 'runs', 'checkpoints', 'installation_secrets', 'installations', 'workspaces', 'provisioned_tables'].map(
        (name) => `DROP TABLE ${table(name).sql}`,
      ),
    );
  }
}
