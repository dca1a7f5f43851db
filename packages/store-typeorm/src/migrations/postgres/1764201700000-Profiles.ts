import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * Profiles (segments) of a workspace and their membership history on PostgreSQL. README.md
 * ("Profiles") documents every column.
 */
export class ProfilesPostgres1764201700000 implements MigrationInterface {
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
        "id" uuid PRIMARY KEY,
        "workspace_id" uuid NOT NULL REFERENCES ${workspaces.sql} ("id") ON DELETE CASCADE,
        "name" text NOT NULL,
        "definition" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL,
        "updated_at" timestamptz NOT NULL
      )`,
      `CREATE UNIQUE INDEX ${q(indexName(profiles, ['workspace_id', 'name'], 'key'))} ON ${profiles.sql} ("workspace_id", "name")`,
      `CREATE TABLE ${evaluations.sql} (
        "id" uuid PRIMARY KEY,
        "profile_id" uuid NOT NULL REFERENCES ${profiles.sql} ("id") ON DELETE CASCADE,
        "installation_id" uuid NOT NULL REFERENCES ${installations.sql} ("id") ON DELETE CASCADE,
        "ordinal" integer NOT NULL,
        "evaluated_at" timestamptz NOT NULL,
        "recorded_at" timestamptz NOT NULL,
        "member_count" integer NOT NULL,
        "entered_count" integer NOT NULL,
        "left_count" integer NOT NULL
      )`,
      `CREATE UNIQUE INDEX ${q(indexName(evaluations, ['profile_id', 'ordinal'], 'key'))} ON ${evaluations.sql} ("profile_id", "ordinal")`,
      `CREATE INDEX ${q(indexName(evaluations, ['installation_id']))} ON ${evaluations.sql} ("installation_id")`,
      `CREATE TABLE ${members.sql} (
        "profile_id" uuid NOT NULL REFERENCES ${profiles.sql} ("id") ON DELETE CASCADE,
        "email_normalized" text NOT NULL,
        "since_evaluation_id" uuid NOT NULL REFERENCES ${evaluations.sql} ("id") ON DELETE CASCADE,
        PRIMARY KEY ("profile_id", "email_normalized")
      )`,
      `CREATE INDEX ${q(indexName(members, ['since_evaluation_id']))} ON ${members.sql} ("since_evaluation_id")`,
      `CREATE TABLE ${changes.sql} (
        "evaluation_id" uuid NOT NULL REFERENCES ${evaluations.sql} ("id") ON DELETE CASCADE,
        "email_normalized" text NOT NULL,
        "change" text NOT NULL CHECK ("change" IN ('entered', 'left')),
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
