import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Destinations of a workspace, the profiles activated to them, and the outbox of batches to deliver
 * (SQLite: ids and timestamps are text, JSON is text, booleans 0/1). README.md ("Destinations")
 * documents every column.
 */
export class DestinationsSqlite1764600400000 implements MigrationInterface {
  name = 'Destinations1764600400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const workspaces = table('workspaces');
    const profiles = table('profiles');
    const destinations = table('destinations');
    const activations = table('profile_activations');
    const deliveries = table('deliveries');
    await runAll(queryRunner, [
      `CREATE TABLE ${destinations.sql} (
        "id" TEXT NOT NULL PRIMARY KEY,
        "workspace_id" TEXT NOT NULL REFERENCES ${workspaces.sql} ("id") ON DELETE CASCADE,
        "name" TEXT NOT NULL,
        "type" TEXT NOT NULL,
        "kind" TEXT NOT NULL CHECK ("kind" IN ('push', 'view')),
        "snapshot" INTEGER NOT NULL,
        "config" TEXT NOT NULL,
        "secrets" TEXT,
        "created_at" TEXT NOT NULL
      )`,
      `CREATE UNIQUE INDEX ${q(indexName(destinations, ['workspace_id', 'name'], 'key'))} ON ${destinations.sql} ("workspace_id", "name")`,
      `CREATE TABLE ${activations.sql} (
        "profile_id" TEXT NOT NULL REFERENCES ${profiles.sql} ("id") ON DELETE CASCADE,
        "destination_id" TEXT NOT NULL REFERENCES ${destinations.sql} ("id") ON DELETE CASCADE,
        "view_name" TEXT,
        "created_at" TEXT NOT NULL,
        PRIMARY KEY ("profile_id", "destination_id")
      )`,
      `CREATE INDEX ${q(indexName(activations, ['destination_id']))} ON ${activations.sql} ("destination_id")`,
      `CREATE TABLE ${deliveries.sql} (
        "seq" INTEGER PRIMARY KEY,
        "id" TEXT NOT NULL,
        "destination_id" TEXT NOT NULL REFERENCES ${destinations.sql} ("id") ON DELETE CASCADE,
        "profile_id" TEXT NOT NULL REFERENCES ${profiles.sql} ("id") ON DELETE CASCADE,
        "evaluation_id" TEXT,
        "reason" TEXT NOT NULL CHECK ("reason" IN ('evaluation', 'activation', 'forget')),
        "payload" TEXT NOT NULL,
        "change_count" INTEGER NOT NULL,
        "status" TEXT NOT NULL CHECK ("status" IN ('pending', 'delivered', 'dead')),
        "attempts" INTEGER NOT NULL,
        "next_attempt_at" TEXT,
        "last_error" TEXT,
        "created_at" TEXT NOT NULL,
        "delivered_at" TEXT
      )`,
      `CREATE UNIQUE INDEX ${q(indexName(deliveries, ['id'], 'key'))} ON ${deliveries.sql} ("id")`,
      `CREATE UNIQUE INDEX ${q(indexName(deliveries, ['evaluation_id', 'destination_id'], 'key'))} ON ${deliveries.sql} ("evaluation_id", "destination_id")`,
      `CREATE INDEX ${q(indexName(deliveries, ['status', 'next_attempt_at']))} ON ${deliveries.sql} ("status", "next_attempt_at")`,
      `CREATE INDEX ${q(indexName(deliveries, ['destination_id', 'profile_id', 'seq']))} ON ${deliveries.sql} ("destination_id", "profile_id", "seq")`,
      `CREATE INDEX ${q(indexName(deliveries, ['profile_id']))} ON ${deliveries.sql} ("profile_id")`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const views = (await queryRunner.query(
      `SELECT "view_name" FROM ${table('profile_activations').sql} WHERE "view_name" IS NOT NULL`,
    )) as { view_name: string }[];
    await runAll(queryRunner, [
      ...views.map((v) => `DROP VIEW IF EXISTS ${q(v.view_name)}`),
      ...['deliveries', 'profile_activations', 'destinations'].map((name) => `DROP TABLE ${table(name).sql}`),
    ]);
  }
}
