import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../../naming.js';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * A connector-neutral run log: each saved record's line is its key, contact, label and named
 * fields (JSON text, which keeps their order). Older rows keep their e-mail, form, score and
 * comment, read back in the new shape, so the e-mail is no longer required; SQLite cannot drop a
 * NOT NULL in place, so the table is rebuilt with its rows as they are (nothing references it).
 */
export class RunSavedSummarySqlite1764500600000 implements MigrationInterface {
  name = 'RunSavedSummary1764500600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, 'up');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, 'down');
  }
}

async function rebuild(queryRunner: QueryRunner, direction: 'up' | 'down'): Promise<void> {
  const table = tableNamer(queryRunner);
  const runs = table('runs');
  const saved = table('run_saved');
  const old = q(`${saved.name}_rebuild`);
  const up = direction === 'up';
  await runAll(queryRunner, [
    `ALTER TABLE ${saved.sql} RENAME TO ${old}`,
    `DROP INDEX ${q(indexName(saved, ['run_id', 'id']))}`,
    `CREATE TABLE ${saved.sql} (
      "id" INTEGER PRIMARY KEY,
      "run_id" TEXT NOT NULL REFERENCES ${runs.sql} ("id") ON DELETE CASCADE,
      "email" TEXT${up ? '' : ' NOT NULL'},
      "form" TEXT,
      "score" REAL,
      "comment" TEXT${up ? `,
      "record_key" TEXT,
      "contact" TEXT,
      "label" TEXT,
      "fields" TEXT` : ''}
    )`,
    up
      ? `INSERT INTO ${saved.sql} ("id", "run_id", "email", "form", "score", "comment")
           SELECT "id", "run_id", "email", "form", "score", "comment" FROM ${old}`
      : // The older shape as closely as it holds: a numeric score and a text comment, if the fields have them.
        `INSERT INTO ${saved.sql} ("id", "run_id", "email", "form", "score", "comment")
           SELECT "id", "run_id",
                  CASE WHEN "record_key" IS NULL THEN "email" ELSE COALESCE("contact", '(no e-mail, record ' || "record_key" || ')') END,
                  CASE WHEN "record_key" IS NULL THEN "form" ELSE "label" END,
                  CASE WHEN "record_key" IS NULL THEN "score"
                       WHEN json_type("fields", '$.score') IN ('integer', 'real') THEN json_extract("fields", '$.score') END,
                  CASE WHEN "record_key" IS NULL THEN "comment"
                       WHEN json_type("fields", '$.comment') = 'text' THEN json_extract("fields", '$.comment') END
             FROM ${old}`,
    `DROP TABLE ${old}`,
    `CREATE INDEX ${q(indexName(saved, ['run_id', 'id']))} ON ${saved.sql} ("run_id", "id")`,
  ]);
}
