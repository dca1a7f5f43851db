import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Who may install and remove apps in a workspace. A workspace from before has nobody: the first
 * operator who installs or removes an app in it claims it. README.md documents the table.
 */
export class WorkspaceAdminsSqlite1764202300000 implements MigrationInterface {
  name = 'WorkspaceAdmins1764202300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(queryRunner, [
      `CREATE TABLE ${table('workspace_admins').sql} (
        "workspace_id" TEXT NOT NULL REFERENCES ${table('workspaces').sql} ("id") ON DELETE CASCADE,
        "user_name" TEXT NOT NULL,
        "added_at" TEXT NOT NULL,
        "added_by" TEXT,
        PRIMARY KEY ("workspace_id", "user_name")
      )`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await runAll(queryRunner, [`DROP TABLE ${tableNamer(queryRunner)('workspace_admins').sql}`]);
  }
}
