import type { CustomerAppData, CustomerProfileData, SavedFeedback } from '@tributary/core';
import type { Executor } from './database.js';
import { chunk, internalTable, type Dialect } from './dialect.js';
import { containsPattern, mentions, Params } from './person-tables.js';
import { quoteIdentifier as q } from './naming.js';
import { SAVED_COLUMNS, savedCustomerOf, savedLinesOf, type SavedRow } from './saved-lines.js';
import { dateFromDatabase } from './values.js';
import { storedJson } from './migrations/helpers.js';

// Where Tributary itself keeps a person's address besides the app tables: the run log (its
// customer lines, the summary each run record carries, its warnings), the records set aside, and
// the profiles' members and history. And the last pass of an erasure, which anonymises the
// address wherever else it still stands.

/** Keys compared per statement: far below either database's parameter limit. */
const KEY_CHUNK = 500;

/** What replaces the address where a row stays (another person's comment, say). */
export const ERASED = '[erased]';

function lowered(column: string): string {
  return `LOWER(COALESCE(CAST(${column} AS TEXT), ''))`;
}

/** A condition that one of `columns` holds the address in any case. */
function anyMentions(columns: readonly string[], params: Params, email: string): string {
  const pattern = containsPattern(email);
  return `(${columns.map((c) => `${lowered(c)} LIKE ${params.add(pattern)} ESCAPE '\\'`).join(' OR ')})`;
}

type RunLogEntry = CustomerAppData['runLog'][number];
type RejectedEntry = CustomerAppData['rejected'][number];

const SAVED_TEXT_COLUMNS = ['"contact"', '"email"', '"label"', '"fields"', '"comment"', '"form"'];

/** The run-log lines and the rejected records of an installation that name the person (or one of their records' keys). */
export async function runLogOf(db: Executor, dialect: Dialect, installationId: string, email: string, keys: readonly string[]): Promise<{ runLog: RunLogEntry[]; rejected: RejectedEntry[] }> {
  const runs = internalTable(dialect, 'runs').sql;
  const saved = internalTable(dialect, 'run_saved').sql;
  const runLog: RunLogEntry[] = [];
  const params = new Params(dialect);
  // Placeholders are taken in the order they appear: SQLite's are positional.
  const ofInstallation = `r."installation_id" = ${params.add(installationId)}`;
  const named = anyMentions(SAVED_TEXT_COLUMNS.map((c) => `s.${c}`), params, email);
  const keyed = keys.length > 0 && keys.length <= KEY_CHUNK ? ` OR s."record_key" IN (${keys.map((k) => params.add(k)).join(', ')})` : '';
  const rows = await db.query<SavedRow & { run_id: string; started_at: Date | string }>(
    `SELECT ${SAVED_COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')}, s."run_id", r."started_at"
       FROM ${saved} s JOIN ${runs} r ON r."id" = s."run_id"
      WHERE ${ofInstallation} AND (${named}${keyed})
      ORDER BY r."started_at", s."id"`,
    params.values,
  );
  for (const row of rows) {
    const { seq, ...line } = savedCustomerOf(row);
    void seq;
    runLog.push({ runId: row.run_id, startedAt: dateFromDatabase(row.started_at), line });
  }
  const summaries = await summariesNaming(db, dialect, installationId, email);
  for (const run of summaries) {
    for (const line of run.lines) if (mentions(line, email)) runLog.push({ runId: run.id, startedAt: run.startedAt, line });
  }
  const rejectedParams = new Params(dialect);
  const rejectedRows = await db.query<{ run_id: string; source_id: string | null; reason: string; raw: unknown; created_at: Date | string }>(
    `SELECT "run_id", "source_id", "reason", "raw", "created_at" FROM ${internalTable(dialect, 'rejected_records').sql}
      WHERE "installation_id" = ${rejectedParams.add(installationId)} AND ${anyMentions(['"raw"', '"reason"', '"source_id"'], rejectedParams, email)}
      ORDER BY "id"`,
    rejectedParams.values,
  );
  const rejected = rejectedRows.map((r) => ({
    runId: r.run_id,
    ...(r.source_id === null ? {} : { sourceId: r.source_id }),
    reason: r.reason,
    raw: storedJson(r.raw),
    createdAt: dateFromDatabase(r.created_at),
  }));
  return { runLog, rejected };
}

/** Runs of the installation whose summary (`runs.saved`, JSON) holds the address somewhere. */
async function summariesNaming(db: Executor, dialect: Dialect, installationId: string, email: string): Promise<{ id: string; startedAt: Date; lines: SavedFeedback[]; stored: unknown }[]> {
  const params = new Params(dialect);
  const rows = await db.query<{ id: string; started_at: Date | string; saved: unknown }>(
    `SELECT "id", "started_at", "saved" FROM ${internalTable(dialect, 'runs').sql}
      WHERE "installation_id" = ${params.add(installationId)} AND ${anyMentions(['"saved"'], params, email)}`,
    params.values,
  );
  return rows.map((r) => ({ id: r.id, startedAt: dateFromDatabase(r.started_at), lines: savedLinesOf(r.saved), stored: storedJson(r.saved) }));
}

/** Deletes the run-log lines and rejected records of the person in an installation, and drops them from the runs' summaries. */
export async function eraseRunLog(tx: Executor, dialect: Dialect, installationId: string, email: string, keys: readonly string[]): Promise<{ lines: number; summaries: number; rejected: number }> {
  const runs = internalTable(dialect, 'runs').sql;
  const saved = internalTable(dialect, 'run_saved').sql;
  const params = new Params(dialect);
  const ofInstallation = `"run_id" IN (SELECT "id" FROM ${runs} WHERE "installation_id" = ${params.add(installationId)})`;
  let lines = (
    await tx.query(`DELETE FROM ${saved} WHERE ${ofInstallation} AND ${anyMentions(SAVED_TEXT_COLUMNS, params, email)} RETURNING 1 AS "n"`, params.values)
  ).length;
  for (const part of chunk([...keys], KEY_CHUNK)) {
    const keyParams = new Params(dialect);
    const where = `"run_id" IN (SELECT "id" FROM ${runs} WHERE "installation_id" = ${keyParams.add(installationId)})`;
    lines += (
      await tx.query(`DELETE FROM ${saved} WHERE ${where} AND "record_key" IN (${part.map((k) => keyParams.add(k)).join(', ')}) RETURNING 1 AS "n"`, keyParams.values)
    ).length;
  }
  const erasedKeys = new Set(keys);
  let summaries = 0;
  for (const run of await summariesNaming(tx, dialect, installationId, email)) {
    // Each stored line is kept as it was written unless it names the person.
    const stored = Array.isArray(run.stored) ? (run.stored as unknown[]) : [];
    const kept = stored.filter((line) => !mentions(line, email) && !(typeof line === 'object' && line !== null && erasedKeys.has(String((line as { key?: unknown }).key))));
    summaries += stored.length - kept.length;
    const p = new Params(dialect);
    await tx.query(`UPDATE ${runs} SET "saved" = ${p.add(JSON.stringify(kept))} WHERE "id" = ${p.add(run.id)}`, p.values);
  }
  const rejectedParams = new Params(dialect);
  const rejected = (
    await tx.query(
      `DELETE FROM ${internalTable(dialect, 'rejected_records').sql}
        WHERE "installation_id" = ${rejectedParams.add(installationId)} AND ${anyMentions(['"raw"', '"reason"', '"source_id"'], rejectedParams, email)}
        RETURNING 1 AS "n"`,
      rejectedParams.values,
    )
  ).length;
  return { lines, summaries, rejected };
}

function profileScope(dialect: Dialect, params: Params, workspaceId: string | undefined): string {
  return workspaceId === undefined ? '' : ` AND p."workspace_id" = ${params.add(workspaceId)}`;
}

/** The person's profile memberships and the entries and exits recorded for them. */
export async function profilesOf(db: Executor, dialect: Dialect, email: string, workspaceId: string | undefined): Promise<CustomerProfileData[]> {
  const profiles = internalTable(dialect, 'profiles').sql;
  const evaluations = internalTable(dialect, 'profile_evaluations').sql;
  const workspaces = internalTable(dialect, 'workspaces').sql;
  const byProfile = new Map<string, CustomerProfileData>();
  const entry = (workspace: string, profile: string) => {
    const key = JSON.stringify([workspace, profile]);
    let found = byProfile.get(key);
    if (!found) byProfile.set(key, (found = { workspace, profile, history: [] }));
    return found;
  };
  const members = new Params(dialect);
  for (const row of await db.query<{ workspace: string; profile: string; evaluated_at: Date | string }>(
    `SELECT w."name" AS "workspace", p."name" AS "profile", e."evaluated_at"
       FROM ${internalTable(dialect, 'profile_members').sql} m
       JOIN ${profiles} p ON p."id" = m."profile_id"
       JOIN ${workspaces} w ON w."id" = p."workspace_id"
       JOIN ${evaluations} e ON e."id" = m."since_evaluation_id"
      WHERE (m."email_normalized" = ${members.add(email)} OR LOWER(TRIM(m."email_normalized")) = ${members.add(email)})${profileScope(dialect, members, workspaceId)}`,
    members.values,
  )) {
    entry(row.workspace, row.profile).memberSince = dateFromDatabase(row.evaluated_at);
  }
  const changes = new Params(dialect);
  for (const row of await db.query<{ workspace: string; profile: string; evaluated_at: Date | string; change: 'entered' | 'left' }>(
    `SELECT w."name" AS "workspace", p."name" AS "profile", e."evaluated_at", c."change"
       FROM ${internalTable(dialect, 'profile_membership_changes').sql} c
       JOIN ${evaluations} e ON e."id" = c."evaluation_id"
       JOIN ${profiles} p ON p."id" = e."profile_id"
       JOIN ${workspaces} w ON w."id" = p."workspace_id"
      WHERE (c."email_normalized" = ${changes.add(email)} OR LOWER(TRIM(c."email_normalized")) = ${changes.add(email)})${profileScope(dialect, changes, workspaceId)}
      ORDER BY e."evaluated_at"`,
    changes.values,
  )) {
    entry(row.workspace, row.profile).history.push({ evaluatedAt: dateFromDatabase(row.evaluated_at), change: row.change });
  }
  return [...byProfile.values()];
}

/** Deletes the person's profile memberships and history (the recorded counts stay: they name nobody). */
export async function eraseProfiles(tx: Executor, dialect: Dialect, email: string, workspaceId: string | undefined): Promise<{ members: number; changes: number }> {
  const profiles = internalTable(dialect, 'profiles').sql;
  const evaluations = internalTable(dialect, 'profile_evaluations').sql;
  const m = new Params(dialect);
  const members = await tx.query(
    `DELETE FROM ${internalTable(dialect, 'profile_members').sql}
      WHERE ("email_normalized" = ${m.add(email)} OR LOWER(TRIM("email_normalized")) = ${m.add(email)})
        AND "profile_id" IN (SELECT p."id" FROM ${profiles} p WHERE 1 = 1${profileScope(dialect, m, workspaceId)})
      RETURNING 1 AS "n"`,
    m.values,
  );
  const c = new Params(dialect);
  const changes = await tx.query(
    `DELETE FROM ${internalTable(dialect, 'profile_membership_changes').sql}
      WHERE ("email_normalized" = ${c.add(email)} OR LOWER(TRIM("email_normalized")) = ${c.add(email)})
        AND "evaluation_id" IN (SELECT e."id" FROM ${evaluations} e JOIN ${profiles} p ON p."id" = e."profile_id" WHERE 1 = 1${profileScope(dialect, c, workspaceId)})
      RETURNING 1 AS "n"`,
    c.values,
  );
  return { members: members.length, changes: changes.length };
}

/** Every text and JSON column of the tables Tributary keeps (its own and the apps'). */
async function textColumns(tx: Executor, dialect: Dialect): Promise<{ table: string; column: string; json: boolean }[]> {
  const naming = dialect.naming;
  if (naming.dialect === 'postgres') {
    const rows = await tx.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT c."table_name", c."column_name", c."data_type"
         FROM information_schema.columns c
         JOIN information_schema.tables t ON t."table_schema" = c."table_schema" AND t."table_name" = c."table_name"
        WHERE c."table_schema" = $1 AND t."table_type" = 'BASE TABLE' AND c."data_type" IN ('text', 'jsonb', 'json', 'character varying')
        ORDER BY c."table_name", c."ordinal_position"`,
      [naming.schema],
    );
    return rows.map((r) => ({ table: r.table_name, column: r.column_name, json: r.data_type.startsWith('json') }));
  }
  const rows = await tx.query<{ table_name: string; column_name: string }>(
    `SELECT m."name" AS "table_name", c."name" AS "column_name"
       FROM sqlite_master m JOIN pragma_table_info(m."name") c
      WHERE m."type" = 'table' AND substr(m."name", 1, ?) = ? AND UPPER(c."type") IN ('TEXT', 'JSON', '')
      ORDER BY m."name", c."cid"`,
    [naming.tablePrefix.length, naming.tablePrefix],
  );
  return rows.map((r) => ({ table: r.table_name, column: r.column_name, json: false }));
}

function replaceAll(text: string, email: string): string {
  return text.replace(new RegExp(email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu'), ERASED);
}

/**
 * Replaces the address, in any case, in every text and JSON value of Tributary's tables that
 * still holds it; the users' own tables (`skip`) and the migrations bookkeeping are left alone.
 * Returns how many rows changed.
 */
export async function sweep(
  tx: Executor,
  dialect: Dialect,
  email: string,
  skip: ReadonlySet<string>,
  keep?: { table: string; keep: string },
): Promise<number> {
  const migrations = dialect.naming.dialect === 'postgres' ? 'migrations' : `${dialect.naming.tablePrefix}migrations`;
  const byTable = new Map<string, { column: string; json: boolean }[]>();
  for (const { table, column, json } of await textColumns(tx, dialect)) {
    if (table === migrations || skip.has(table)) continue;
    byTable.set(table, [...(byTable.get(table) ?? []), { column, json }]);
  }
  let changed = 0;
  for (const [table, columns] of byTable) {
    const sqlTable = dialect.naming.dialect === 'postgres' ? `${q(dialect.naming.schema)}.${q(table)}` : q(table);
    // Rows `keep` names must still hold the address (the `left` an erasure sends to destinations).
    const kept = keep && keep.table === table ? ` AND NOT ${keep.keep}` : '';
    // One pass over each table, whatever its number of text columns.
    const params = new Params(dialect);
    const rows = await tx.query<Record<string, unknown>>(
      `SELECT ${columns.map((c, i) => `CAST(${q(c.column)} AS TEXT) AS "v${i}"`).join(', ')} FROM ${sqlTable}
        WHERE ${anyMentions(columns.map((c) => q(c.column)), params, email)}${kept}`,
      params.values,
    );
    const done = new Set<string>();
    for (const row of rows) {
      for (const [i, { column, json }] of columns.entries()) {
        const value = row[`v${i}`];
        if (typeof value !== 'string' || !value.toLowerCase().includes(email)) continue;
        // Equal values are rewritten by one statement.
        const id = JSON.stringify([column, value]);
        if (done.has(id)) continue;
        done.add(id);
        const p = new Params(dialect);
        const cast = json ? '::jsonb' : '';
        const next = json ? JSON.stringify(JSON.parse(value), (_k, v: unknown) => (typeof v === 'string' ? replaceAll(v, email) : v)) : replaceAll(value, email);
        const updated = await tx.query(
          `UPDATE ${sqlTable} SET ${q(column)} = ${p.add(next)}${cast} WHERE CAST(${q(column)} AS TEXT) = ${p.add(value)}${kept} RETURNING 1 AS "n"`,
          p.values,
        );
        changed += updated.length;
      }
    }
  }
  return changed;
}
