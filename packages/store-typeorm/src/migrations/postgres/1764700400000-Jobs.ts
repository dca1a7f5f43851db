import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Syncs and remaps queued over HTTP, so that they outlive the server that took the request and any
 * server on the database can run them and answer for them. The workspace and app are copied in, so
 * that reading a job (polled every few seconds) needs no join.
 */
export class JobsPostgres1764700400000 implements MigrationInterface {
  name = 'Jobs1764700400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const jobs = table('jobs');
    await runAll(queryRunner, [
      `CREATE TABLE ${jobs.sql} (
        "id" uuid PRIMARY KEY,
        "kind" text NOT NULL CHECK ("kind" IN ('sync', 'remap')),
        "installation_id" uuid NOT NULL REFERENCES ${table('installations').sql} ("id") ON DELETE CASCADE,
        "workspace" text NOT NULL,
        "app" text NOT NULL,
        "status" text NOT NULL CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')),
        "created_at" timestamptz NOT NULL,
        "started_at" timestamptz,
        "finished_at" timestamptz,
        "updated_at" timestamptz NOT NULL,
        "owner" text,
        "progress_done" bigint NOT NULL DEFAULT 0,
        "progress_total" bigint,
        "run_id" uuid,
        "error_code" text,
        "error_message" text,
        "note" text,
        "result" jsonb
      )`,
      `CREATE INDEX ${q(indexName(jobs, ['status', 'created_at']))} ON ${jobs.sql} ("status", "created_at")`,
      `CREATE INDEX ${q(indexName(jobs, ['installation_id', 'status']))} ON ${jobs.sql} ("installation_id", "status")`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runAll(queryRunner, [`DROP TABLE ${tableNamer(queryRunner)('jobs').sql}`]);
  }
}
