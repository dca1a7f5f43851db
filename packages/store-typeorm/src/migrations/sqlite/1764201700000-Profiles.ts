import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Profiles (segments) of a workspace and their membership history on SQLite: ids and timestamps are
 * text (ISO-8601 UTC), JSON is text. README.md ("Profiles") documents every column.
 */
export class ProfilesSqlite1764201700000 implements MigrationInterface {
  name = 'Profiles1764201700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    const workspaces = table('workspaces');
    const installations = table('installations');
    const profiles = table('profiles');
    const evaluations = table('profile_evaluations');
    const members = table('profile_members');
    const changes = table('profile_membership_changes');
    await runAll(queryRunner, [
      `CREATE TABLE ${profiles.sql} (
        "id" TEXT NOT NULL PRIMARY KEY,
        "workspace_id" TEXT NOT NULL REFERENCES ${workspaces.sql} ("id") ON DELETE CASCADE,
        "name" TEXT NOT NULL,
        "definition" TEXT NOT NULL,
        "created_at" TEXT NOT NULL,
        "updated_at" TEXT NOT NULL
      )`,
      `CREATE UNIQUE INDEX ${q(indexName(profiles, ['workspace_id', 'name'], 'key'))} ON ${profiles.sql} ("workspace_id", "name")`,
      `CREATE TABLE ${evaluations.sql} (
        "id" TEXT NOT NULL PRIMARY KEY,
        "profile_id" TEXT NOT NULL REFERENCES ${profiles.sql} ("id") ON DELETE CASCADE,
        "installation_id" TEXT NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "ordinal" INTEGER NOT NULL,
        "evaluated_at" TEXT NOT NULL,
        "recorded_at" TEXT NOT NULL,
        "member_count" INTEGER NOT NULL,
        "entered_count" INTEGER NOT NULL,
        "left_count" INTEGER NOT NULL
      )`,
      `CREATE UNIQUE INDEX ${q(indexName(evaluations, ['profile_id', 'ordinal'], 'key'))} ON ${evaluations.sql} ("profile_id", "ordinal")`,
      `CREATE INDEX ${q(indexName(evaluations, ['installation_id']))} ON ${evaluations.sql} ("installation_id")`,
      `CREATE TABLE ${members.sql} (
        "profile_id" TEXT NOT NULL REFERENCES ${profiles.sql} ("id") ON DELETE CASCADE,
        "email_normalized" TEXT NOT NULL,
        "since_evaluation_id" TEXT NOT NULL REFERENCES ${evaluations.sql} ("id") ON DELETE CASCADE,
        PRIMARY KEY ("profile_id", "email_normalized")
      )`,
      `CREATE INDEX ${q(indexName(members, ['since_evaluation_id']))} ON ${members.sql} ("since_evaluation_id")`,
      `CREATE TABLE ${changes.sql} (
        "evaluation_id" TEXT NOT NULL REFERENCES ${evaluations.sql} ("id") ON DELETE CASCADE,
        "email_normalized" TEXT NOT NULL,
        "change" TEXT NOT NULL CHECK ("change" IN ('entered', 'left')),
        PRIMARY KEY ("evaluation_id", "email_normalized")
      )`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = tableNamer(queryRunner);
    await runAll(
      queryRunner,
      ['profile_membership_changes', 'profile_members', 'profile_evaluations', 'profiles'].map(
        (name) => `DROP TABLE ${table(name).sql}`,
      ),
    );
  }
}
