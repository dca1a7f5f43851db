import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Users, their roles per workspace, browser sessions, API keys and the audit log of the HTTP API.
 * Secrets are never stored: a password as its scrypt hash, session tokens and API keys as their
 * SHA-256. Audit events name their workspace as text, so the log outlives a workspace.
 */
export class IdentityPostgres1764600200000 implements MigrationInterface {
  name = 'Identity1764600200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const users = table('users').sql;
    const workspaces = table('workspaces').sql;
    await runAll(queryRunner, [
      `CREATE TABLE ${users} (
        "id" uuid PRIMARY KEY,
        "email" text NOT NULL UNIQUE,
        "password_hash" text NOT NULL,
        "must_change_password" boolean NOT NULL DEFAULT false,
        "failed_logins" integer NOT NULL DEFAULT 0,
        "locked_until" timestamptz,
        "created_at" timestamptz NOT NULL
      )`,
      `CREATE TABLE ${table('memberships').sql} (
        "user_id" uuid NOT NULL REFERENCES ${users} ("id") ON DELETE CASCADE,
        "workspace_id" uuid NOT NULL REFERENCES ${workspaces} ("id") ON DELETE CASCADE,
        "role" text NOT NULL CHECK ("role" IN ('viewer', 'marketer', 'admin')),
        "created_at" timestamptz NOT NULL,
        PRIMARY KEY ("user_id", "workspace_id")
      )`,
      `CREATE INDEX ${q(indexName(table('memberships'), ['workspace_id']))} ON ${table('memberships').sql} ("workspace_id")`,
      `CREATE TABLE ${table('sessions').sql} (
        "id" uuid PRIMARY KEY,
        "user_id" uuid NOT NULL REFERENCES ${users} ("id") ON DELETE CASCADE,
        "token_hash" text NOT NULL UNIQUE,
        "csrf_token" text NOT NULL,
        "created_at" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL
      )`,
      `CREATE INDEX ${q(indexName(table('sessions'), ['user_id']))} ON ${table('sessions').sql} ("user_id")`,
      `CREATE TABLE ${table('api_keys').sql} (
        "id" uuid PRIMARY KEY,
        "prefix" text NOT NULL,
        "secret_hash" text NOT NULL UNIQUE,
        "name" text NOT NULL,
        "workspace_id" uuid NOT NULL REFERENCES ${workspaces} ("id") ON DELETE CASCADE,
        "role" text NOT NULL CHECK ("role" IN ('viewer', 'marketer', 'admin')),
        "created_at" timestamptz NOT NULL,
        "expires_at" timestamptz,
        "revoked_at" timestamptz,
        "last_used_at" timestamptz,
        "created_by" text
      )`,
      `CREATE INDEX ${q(indexName(table('api_keys'), ['workspace_id']))} ON ${table('api_keys').sql} ("workspace_id")`,
      `CREATE TABLE ${table('audit_events').sql} (
        "id" bigserial PRIMARY KEY,
        "at" timestamptz NOT NULL,
        "actor" text NOT NULL,
        "action" text NOT NULL,
        "workspace" text,
        "target" text,
        "address" text,
        "outcome" text NOT NULL CHECK ("outcome" IN ('ok', 'denied', 'failed')),
        "details" jsonb
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
