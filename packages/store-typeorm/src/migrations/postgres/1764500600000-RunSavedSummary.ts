import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runAll, tableNamer } from '../naming-of.js';

/**
 * A connector-neutral run log: each saved record's line is its key, contact, label and named
 * fields (JSON text, which keeps their order). Older rows keep their e-mail, form, score and
 * comment, read back in the new shape, so the e-mail is no longer required.
 */
export class RunSavedSummaryPostgres1764500600000 implements MigrationInterface {
  name = 'RunSavedSummary1764500600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const saved = tableNamer(queryRunner)('run_saved').sql;
    await runAll(queryRunner, [
      `ALTER TABLE ${saved} ALTER COLUMN "email" DROP NOT NULL,
         ADD COLUMN "record_key" text, ADD COLUMN "contact" text, ADD COLUMN "label" text, ADD COLUMN "fields" text`,
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const saved = tableNamer(queryRunner)('run_saved').sql;
    await runAll(queryRunner, [
      // The older shape as closely as it holds: a numeric score and a text comment, if the fields have them.
      `UPDATE ${saved} SET
         "email" = COALESCE("contact", '(no e-mail, record ' || "record_key" || ')'),
         "form" = "label",
         "score" = CASE WHEN jsonb_typeof("fields"::jsonb -> 'score') = 'number' THEN ("fields"::jsonb ->> 'score')::numeric END,
         "comment" = CASE WHEN jsonb_typeof("fields"::jsonb -> 'comment') = 'string' THEN "fields"::jsonb ->> 'comment' END
       WHERE "record_key" IS NOT NULL`,
      `ALTER TABLE ${saved} ALTER COLUMN "email" SET NOT NULL,
         DROP COLUMN "record_key", DROP COLUMN "contact", DROP COLUMN "label", DROP COLUMN "fields"`,
    ]);
  }
}
