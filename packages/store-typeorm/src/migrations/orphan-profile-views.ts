import type { QueryRunner } from 'typeorm';
import { quoteIdentifier as q } from '../naming.js';
import { namingOf, tableNamer } from './naming-of.js';

// Before deleting a profile dropped the views its activations made, the delete cascaded to the
// activation rows that named those views, so the views stayed behind: still readable by a mail
// platform, always empty, and in the way of a new profile of the same name. Their names are lost
// with the rows, but each such view carries its profile's id in its text (a view cannot take bound
// parameters), which is how they are found here.

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

interface StoredView {
  name: string;
  definition: string;
}

async function viewsOf(queryRunner: QueryRunner): Promise<StoredView[]> {
  const naming = namingOf(queryRunner);
  if (naming.dialect === 'postgres') {
    return (await queryRunner.query(
      `SELECT table_name AS "name", view_definition AS "definition" FROM information_schema.views WHERE table_schema = $1`,
      [naming.schema],
    )) as StoredView[];
  }
  const views = (await queryRunner.query(`SELECT "name", "sql" AS "definition" FROM sqlite_master WHERE type = 'view'`)) as StoredView[];
  return views.filter((view) => view.name.startsWith(naming.tablePrefix));
}

/** Whether a view's text is that of a profile's members view as activations create it. */
function membersViewProfileIds(view: StoredView, membersTable: string, evaluationsTable: string): string[] {
  const text = view.definition ?? '';
  if (!text.includes(membersTable) || !text.includes(evaluationsTable) || !text.includes('member_since')) return [];
  return [...new Set(text.toLowerCase().match(UUID) ?? [])];
}

/** Drops members views whose profile no longer exists. */
export async function dropOrphanProfileViews(queryRunner: QueryRunner): Promise<void> {
  const table = tableNamer(queryRunner);
  const naming = namingOf(queryRunner);
  const members = table('profile_members');
  const evaluations = table('profile_evaluations');
  const profiles = table('profiles');
  for (const view of await viewsOf(queryRunner)) {
    const ids = membersViewProfileIds(view, members.name, evaluations.name);
    if (ids.length !== 1) continue;
    const existing = (await queryRunner.query(
      `SELECT COUNT(*) AS "n" FROM ${profiles.sql} WHERE "id" = ${naming.dialect === 'postgres' ? '$1' : '?'}`,
      [ids[0]],
    )) as { n: number | string }[];
    if (Number(existing[0]?.n ?? 0) > 0) continue;
    const name = naming.dialect === 'postgres' ? `${q(naming.schema)}.${q(view.name)}` : q(view.name);
    await queryRunner.query(`DROP VIEW IF EXISTS ${name}`);
  }
}
