import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Users, their roles per workspace, browser sessions, API keys and the audit log of the HTTP API.
 * Secrets are never stored: a password as its scrypt hash, session tokens and API keys as their
 * SHA-256. Audit events name their workspace as text, so the log outlives a workspace.
 */
export class IdentitySqlite1764600200000 implements MigrationInterface {
  name = 'Identity1764600200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const users = table('users').sql;
    const workspaces = table('workspaces').sql;
    await runAll(queryRunner, [
      `CREATE TABLE ${users} (
        "id" TEXT PRIMARY KEY,
        "email" TEXT NOT NULL UNIQUE,
        "password_hash" TEXT NOT NULL,
        "must_change_password" INTEGER NOT NULL DEFAULT 0,
        "failed_logins" INTEGER NOT NULL DEFAULT 0,
        "locked_until" TEXT,
        "created_at" TEXT NOT NULL
      )`,
      `CREATE TABLE ${table('memberships').sql} (
        "user_id" TEXT NOT NULL REFERENCES ${users} ("id") ON DELETE CASCADE,
        "workspace_id" TEXT NOT NULL REFERENCES ${workspaces} ("id") ON DELETE CASCADE,
        "role" TEXT NOT NULL CHECK ("role" IN ('viewer', 'marketer', 'admin')),
        "created_at" TEXT NOT NULL,
        PRIMARY KEY ("user_id", "workspace_id")
      )`,
      `CREATE INDEX ${q(indexName(table('memberships'), ['workspace_id']))} ON ${table('memberships').sql} ("workspace_id")`,
      `CREATE TABLE ${table('sessions').sql} (
        "id" TEXT PRIMARY KEY,
        "user_id" TEXT NOT NULL REFERENCES ${users} ("id") ON DELETE CASCADE,
        "token_hash" TEXT NOT NULL UNIQUE,
        "csrf_token" TEXT NOT NULL,
        "created_at" TEXT NOT NULL,
        "expires_at" TEXT NOT NULL
      )`,
      `CREATE INDEX ${q(indexName(table('sessions'), ['user_id']))} ON ${table('sessions').sql} ("user_id")`,
      `CREATE TABLE ${table('api_keys').sql} (
        "id" TEXT PRIMARY KEY,
        "prefix" TEXT NOT NULL,
        "secret_hash" TEXT NOT NULL UNIQUE,
        "name" TEXT NOT NULL,
        "workspace_id" TEXT NOT NULL REFERENCES ${workspaces} ("id") ON DELETE CASCADE,
        "role" TEXT NOT NULL CHECK ("role" IN ('viewer', 'marketer', 'admin')),
        "created_at" TEXT NOT NULL,
        "expires_at" TEXT,
        "revoked_at" TEXT,
        "last_used_at" TEXT,
        "created_by" TEXT
      )`,
      `CREATE INDEX ${q(indexName(table('api_keys'), ['workspace_id']))} ON ${table('api_keys').sql} ("workspace_id")`,
      `CREATE TABLE ${table('audit_events').sql} (
        "id" INTEGER PRIMARY KEY,
        "at" TEXT NOT NULL,
        "actor" TEXT NOT NULL,
        "action" TEXT NOT NULL,
        "workspace" TEXT,
        "target" TEXT,
        "address" TEXT,
        "outcome" TEXT NOT NULL CHECK ("outcome" IN ('ok', 'denied', 'failed')),
        "details" TEXT
      )`,
      `CREATE INDEX ${q(indexName(table('audit_events'), ['workspace', 'id']))} ON ${table('audit_events').sql} ("workspace", "id")`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(
      queryRunner,
      ['audit_events', 'api_keys', 'sessions', 'memberships', 'users'].map((name) => `DROP TABLE ${table(name).sql}`),
    );
  }
}
