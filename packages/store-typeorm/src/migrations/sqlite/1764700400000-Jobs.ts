import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Syncs and remaps queued over HTTP, so that they outlive the server that took the request and any
 * server on the database can run them and answer for them. The workspace and app are copied in, so
 * that reading a job (polled every few seconds) needs no join.
 */
export class JobsSqlite1764700400000 implements MigrationInterface {
  name = 'Jobs1764700400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const jobs = table('jobs');
    await runAll(queryRunner, [
      `CREATE TABLE ${jobs.sql} (
        "id" TEXT PRIMARY KEY,
        "kind" TEXT NOT NULL CHECK ("kind" IN ('sync', 'remap')),
        "installation_id" TEXT NOT NULL REFERENCES ${table('installations').sql} ("id") ON DELETE CASCADE,
        "workspace" TEXT NOT NULL,
        "app" TEXT NOT NULL,
        "status" TEXT NOT NULL CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')),
        "created_at" TEXT NOT NULL,
        "started_at" TEXT,
        "finished_at" TEXT,
        "updated_at" TEXT NOT NULL,
        "owner" TEXT,
        "progress_done" INTEGER NOT NULL DEFAULT 0,
        "progress_total" INTEGER,
        "run_id" TEXT,
        "error_code" TEXT,
        "error_message" TEXT,
        "note" TEXT,
        "result" TEXT
      )`,
      `CREATE INDEX ${q(indexName(jobs, ['status', 'created_at']))} ON ${jobs.sql} ("status", "created_at")`,
      `CREATE INDEX ${q(indexName(jobs, ['installation_id', 'status']))} ON ${jobs.sql} ("installation_id", "status")`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runAll(queryRunner, [`DROP TABLE ${tableNamer(queryRunner)('jobs').sql}`]);
  }
}
