import { ConfigError, isSafeIdentifier } from '@tributary/core';
import type { Executor } from '../database.js';
import { internalTable, type Dialect, type Statement } from '../dialect.js';
import { appTableBareName } from '../naming.js';
import { boundStatement, ownTableSql } from '../profiles/records.js';

// The database-view destination: a read-only view per activated profile in Tributary's schema (or
// with its table prefix on SQLite) that a mail platform or the user's own tools can read as a
// suppression list. A view cannot take bound parameters, so only values Tributary made itself
// (uuids it generated, app ids it validated) enter its text.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The view's bare name: the destination's prefix and the profile's name in lower-case letters, digits and "_". */
export function viewNameOf(prefix: string, profile: string): string {
  const slug = profile
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  const name = `${prefix}${slug || 'profile'}`;
  if (!isSafeIdentifier(name) || !/^[a-z][a-z0-9_]*$/.test(name)) {
    throw new ConfigError('DESTINATION_INVALID', `"${name}" cannot name a database view.`, {
      hint: 'The view destination\'s prefix must be lower-case letters, digits or "_", starting with a letter.',
    });
  }
  return name;
}

/** DROP VIEW of a view an activation made (by its bare name). */
export function dropView(dialect: Dialect, bareName: string): Statement {
  return { sql: `DROP VIEW IF EXISTS ${internalTable(dialect, bareName).sql}`, params: [] };
}

/**
 * Creates the members view of a profile: e-mail, customer id (the contact id the app gave the
 * address) and since when (the evaluation that let them in). Returns its bare name.
 */
export async function createMembersView(
  tx: Executor,
  dialect: Dialect,
  options: { profileId: string; workspaceId: string; profile: string; prefix: string },
): Promise<string> {
  const name = viewNameOf(options.prefix, options.profile);
  const view = internalTable(dialect, name);
  if (!UUID.test(options.profileId)) throw new ConfigError('DESTINATION_INVALID', 'A profile id is not a uuid.');
  const [taken] = await tx.run<{ n: number | string }>(
    boundStatement(dialect, (b) =>
      dialect.name === 'postgres'
        ? `SELECT COUNT(*) AS "n" FROM information_schema.tables WHERE table_schema = ${b.bind(view.schema)} AND table_name = ${b.bind(view.name)}`
        : `SELECT COUNT(*) AS "n" FROM sqlite_master WHERE name = ${b.bind(view.name)}`,
    ),
  );
  if (Number(taken?.n ?? 0) > 0) {
    throw new ConfigError('DESTINATION_INVALID', `A table or view named ${view.sql} exists already, so the profile "${options.profile}" cannot get its view there.`, {
      hint: 'Add a view destination with another prefix (--set prefix=...), or rename the profile.',
    });
  }
  const apps = await tx.run<{ app: string }>(
    boundStatement(
      dialect,
      (b) => `SELECT DISTINCT "app" FROM ${ownTableSql(dialect, 'installations')} WHERE "workspace_id" = ${b.bind(options.workspaceId)} AND "purged_at" IS NULL ORDER BY "app"`,
    ),
  );
  const contacts = apps
    .map((a) => a.app)
    .filter((app) => isSafeIdentifier(app))
    .map((app, i) => ({ alias: `c${i}`, table: internalTable(dialect, appTableBareName(app, 'contacts')).sql }));
  const customerId = contacts.length === 0 ? 'NULL' : contacts.length === 1 ? `${contacts[0]!.alias}."contact_id"` : `COALESCE(${contacts.map((c) => `${c.alias}."contact_id"`).join(', ')})`;
  const joins = contacts
    .map((c) => `LEFT JOIN ${c.table} ${c.alias} ON ${c.alias}."installation_id" = e."installation_id" AND ${c.alias}."email_normalized" = m."email_normalized"`)
    .join('\n      ');
  await tx.run({
    sql: `CREATE VIEW ${view.sql} AS
      SELECT m."email_normalized" AS "email", ${customerId} AS "customer_id", e."evaluated_at" AS "member_since"
        FROM ${ownTableSql(dialect, 'profile_members')} m
        JOIN ${ownTableSql(dialect, 'profile_evaluations')} e ON e."id" = m."since_evaluation_id"
      ${joins}
       WHERE m."profile_id" = '${options.profileId}'`,
    params: [],
  });
  return name;
}

/** The view's SQL name for messages (what a user's tool selects from). */
export function viewSqlName(dialect: Dialect, bareName: string): string {
  return internalTable(dialect, bareName).sql;
}
