import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Who may install and remove apps in a workspace. A workspace from before has nobody: the first
 * operator who installs or removes an app in it claims it. README.md documents the table.
 */
export class WorkspaceAdminsPostgres1764202300000 implements MigrationInterface {
  name = 'WorkspaceAdmins1764202300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [
      `CREATE TABLE ${table('workspace_admins').sql} (
        "workspace_id" uuid NOT NULL REFERENCES ${table('workspaces').sql} ("id") ON DELETE CASCADE,
        "user_name" text NOT NULL,
        "added_at" timestamptz NOT NULL,
        "added_by" text,
        PRIMARY KEY ("workspace_id", "user_name")
      )`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runAll(queryRunner, [`DROP TABLE ${tableNamer(queryRunner)('workspace_admins').sql}`]);
  }
}
