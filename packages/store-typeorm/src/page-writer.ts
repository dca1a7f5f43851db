import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ConfigError,
  InternalError,
  describeIssues,
  isUsableEmail,
  type CellValue,
  type DataModel,
  type MappedRows,
  type PageWrite,
  type PageWriteResult,
  type RejectedRecord,
  type TableSpec,
} from '@tributary/core';
import { appTableOf, contactsTableOf, RUN_ID_COLUMN, type AppTable } from './app-tables.js';
import type { Executor } from './database.js';
import type { ContactIdCache } from './contact-id-cache.js';
import { chunk, fixedInList, IN_LIST_LIMIT, INSERTED_FLAG, internalTable, type Dialect, type InsertColumn, type InsertSpec } from './dialect.js';
import { canonicalValue, CellTypeError, type CanonicalValue } from './values.js';
import { summarySchema } from './saved-lines.js';
import { filterPage } from './suppression.js';

/** Counts of one table (named in core's store port). */
type TableWriteCounts = PageWriteResult['tables'][string];

const pageWriteSchema = z.object({
  installationId: z.string().min(1),
  runId: z.string().min(1),
  stream: z.string().min(1).max(200),
  // Rows are checked one by one where they are turned into tuples; a deep parse here would walk every cell twice.
  rows: z.record(z.string(), z.array(z.unknown())),
  rejected: z.array(z.object({ sourceId: z.string().optional(), reason: z.string(), raw: z.unknown() })),
  checkpoint: z.unknown().refine((value) => value !== undefined, { message: 'is required' }),
  saved: z.array(summarySchema.extend({ key: z.string() })).optional(),
});

/** Checks a page's shape before any statement runs; a malformed page is a bug in the caller. */
export function validatePageWrite(write: PageWrite): PageWrite {
  const parsed = pageWriteSchema.safeParse(write);
  if (!parsed.success)
    throw new InternalError('PAGE_INVALID', `Invalid page write: ${describeIssues(parsed.error)}`);
  return write;
}

function jsonText(value: unknown, what: string): string {
  try {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('not serializable');
    return text;
  } catch (error) {
    throw new InternalError(
      'PAGE_INVALID',
      `The ${what} cannot be stored as JSON: ${(error as Error).message}`,
    );
  }
}

function rawJson(raw: unknown): string | null {
  if (raw === undefined) return null;
  try {
    return JSON.stringify(raw) ?? null;
  } catch {
    // A rejected record must be kept even when it cannot be serialized (cycles, BigInt).
    return JSON.stringify(String(raw));
  }
}

/** Rows of one table as bound-ready tuples, duplicates of a key collapsed to the last one. */
export function tuplesOf(
  table: AppTable,
  spec: TableSpec,
  installationId: string,
  rows: readonly Record<string, unknown>[],
) {
  const known = new Set(spec.columns.map((c) => c.name));
  const keyIndexes = table.key.map((k) => table.columns.findIndex((c) => c.name === k));
  const byKey = new Map<string, CanonicalValue[]>();
  for (const row of rows) {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new InternalError(
        'PAGE_INVALID',
        `Rows for table "${spec.name}" must be objects of column values.`,
      );
    }
    let declared = 0;
    for (const column of spec.columns) if (column.name in row) declared += 1;
    if (declared !== Object.keys(row).length) {
      const column = Object.keys(row).find((name) => !known.has(name));
      throw new InternalError(
        'PAGE_INVALID',
        `Rows for table "${spec.name}" hold a column "${column}" its data model does not declare.`,
      );
    }
    const tuple: CanonicalValue[] = [installationId];
    for (const column of spec.columns) {
      try {
        tuple.push(canonicalValue(column.type, row[column.name] as CellValue | undefined));
      } catch (error) {
        if (!(error instanceof CellTypeError)) throw error;
        throw new ConfigError(
          'STORE_VALUE_INVALID',
          `Cannot store ${error.actual} in column ${spec.name}.${column.name} (${column.type}).`,
          {
            hint: `Check the mapping that feeds ${spec.name}.${column.name}: its transform must produce a ${column.type}.`,
          },
        );
      }
    }
    let key = '';
    for (const index of keyIndexes) key += `${String(tuple[index])}\u0000`;
    byKey.delete(key);
    byKey.set(key, tuple);
  }
  return [...byKey.values()];
}

/**
 * Runs a bulk insert and returns the rows of its RETURNING clause: through COPY into a staging
 * table and one merge where the dialect offers it for this many rows, else through buildInsert.
 */
export async function insertRows<T = Record<string, unknown>>(tx: Executor, dialect: Dialect, spec: InsertSpec): Promise<T[]> {
  const staged = tx.copyIn ? dialect.stageInsert(spec) : undefined;
  if (staged && tx.copyIn) {
    const [lookup] = await tx.run<{ present: boolean }>(staged.lookup);
    if (!lookup?.present) await tx.run(staged.create);
    await tx.copyIn(staged.copy.sql, staged.copy.text);
    return tx.run<T>(staged.merge);
  }
  const rows: T[] = [];
  for (const statement of dialect.buildInsert(spec)) for (const row of await tx.run<T>(statement)) rows.push(row);
  return rows;
}

export async function upsertRows(
  tx: Executor,
  dialect: Dialect,
  table: AppTable,
  tuples: readonly CanonicalValue[][],
  options: { keys?: boolean } = {},
): Promise<{ counts: TableWriteCounts; insertedKeys: string[] }> {
  const columns: InsertColumn[] = table.columns.map((c) => ({ name: c.name, type: c.type }));
  // The first declared key column (after installation_id) names a row in the run's result.
  const keyColumn = table.key[1] ?? table.key[0]!;
  const insertedKeys: string[] = [];
  // A row keeps the id of the run that first stored it: a later run (or a remap) that changes it
  // is not the one that brought it in, and comparing run ids would make every re-read a change.
  const keys = new Set([...table.key, RUN_ID_COLUMN]);
  const updatable = table.columns.filter((c) => !keys.has(c.name)).map((c) => c.name);
  if (table.onConflict === 'update' && updatable.length > 0 && dialect.upsertFlag) {
    let updated = 0;
    for (const row of await insertRows(tx, dialect, {
      table: table.table,
      columns,
      rows: tuples,
      conflictKey: table.key,
      onConflict: { action: 'update', columns: updatable, onlyIfChanged: true },
      returning: [keyColumn],
    })) {
      if (row[INSERTED_FLAG] === true) insertedKeys.push(String(row[keyColumn]));
      else updated += 1;
    }
    return { counts: { inserted: insertedKeys.length, updated, unchanged: tuples.length - insertedKeys.length - updated }, insertedKeys };
  }
  // On SQLite, a table whose new keys nobody reads (every table but the primary one) is counted by
  // the statement's changes: RETURNING makes SQLite build and hand back a row per insert, about a
  // tenth of the insert's cost. PostgreSQL returns them as before.
  const countOnly = options.keys === false && dialect.name === 'sqlite';
  const spec: InsertSpec = {
    table: table.table,
    columns,
    rows: tuples,
    conflictKey: table.key,
    onConflict: { action: 'nothing' },
    ...(countOnly ? {} : { returning: [keyColumn] }),
  };
  let inserted = 0;
  if (countOnly) {
    for (const statement of dialect.buildInsert(spec)) inserted += await tx.execute(statement);
  } else {
    for (const row of await insertRows<Record<string, unknown>>(tx, dialect, spec)) insertedKeys.push(String(row[keyColumn]));
    inserted = insertedKeys.length;
  }
  let updated = 0;
  if (table.onConflict === 'update' && updatable.length > 0 && inserted < tuples.length) {
    // Rows inserted a moment ago conflict with themselves and compare equal, so they are not written twice.
    for (const statement of dialect.buildInsert({
      table: table.table,
      columns,
      rows: tuples,
      conflictKey: table.key,
      onConflict: { action: 'update', columns: updatable, onlyIfChanged: true },
      returning: [keyColumn],
    })) {
      updated += (await tx.run(statement)).length;
    }
  }
  return {
    counts: { inserted, updated, unchanged: tuples.length - inserted - updated },
    insertedKeys,
  };
}

/** Keys looked up per statement, in IN lists of a few fixed sizes (see fixedInList). */
const LOOKUP_CHUNK = IN_LIST_LIMIT;

/**
 * The contact ids of `emails` (normalized) in the installation, creating the contacts seen for the
 * first time; `added` counts those. Ids the cache knows are neither inserted nor looked up;
 * `resolved` holds the others, for the cache once the transaction commits.
 */
async function contactIdsOf(
  tx: Executor,
  dialect: Dialect,
  app: string,
  installationId: string,
  allEmails: ReadonlySet<string>,
  now: string,
  cache: ContactIdCache | undefined,
): Promise<{ ids: Map<string, string>; added: number; resolved: Map<string, string> }> {
  const ids = new Map<string, string>();
  const emails: string[] = [];
  for (const email of allEmails) {
    const cached = cache?.get(installationId, email);
    if (cached === undefined) emails.push(email);
    else ids.set(email, cached);
  }
  const resolved = new Map<string, string>();
  if (emails.length === 0) return { ids, added: 0, resolved };
  const table = contactsTableOf(dialect, app);
  for (const row of await insertRows<{ email_normalized: string; contact_id: string }>(tx, dialect, {
    table: table.table,
    columns: table.columns.map((c) => ({ name: c.name, type: c.type })),
    rows: emails.map((email) => [installationId, email, randomUUID(), now]),
    conflictKey: table.key,
    onConflict: { action: 'nothing' },
    returning: ['email_normalized', 'contact_id'],
  })) {
    resolved.set(row.email_normalized, row.contact_id);
  }
  const added = resolved.size;
  const known = emails.filter((email) => !resolved.has(email));
  for (const keys of chunk(known, LOOKUP_CHUNK)) {
    const part = fixedInList(keys);
    const placeholders = part.map((_, i) => dialect.placeholder(i + 2));
    const rows = await tx.query<{ email_normalized: string; contact_id: string }>(
      `SELECT "email_normalized", "contact_id" FROM ${table.table.sql}
        WHERE "installation_id" = ${dialect.placeholder(1)} AND "email_normalized" IN (${placeholders.join(', ')})`,
      [installationId, ...part],
    );
    for (const row of rows) resolved.set(row.email_normalized, row.contact_id);
  }
  for (const [email, id] of resolved) ids.set(email, id);
  return { ids, added, resolved };
}

export function normalizedEmail(value: CanonicalValue | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim().toLowerCase();
  // Whatever a mapping fed the column, only an address can become a contact.
  return isUsableEmail(email) ? email : undefined;
}

/** What {@link writeAppRows} wrote. */
export interface AppRowsWrite {
  tables: Record<string, TableWriteCounts>;
  /** Keys of the primary table's rows that were new. */
  insertedKeys: string[];
  newContacts: number;
  /** Contact ids this write inserted or looked up, for the cache once it commits. */
  contactIds: Map<string, string>;
}

/**
 * Writes mapped rows of every table of `model`, set-based, inside the caller's transaction. The
 * primary table's rows get the contact id of their customer e-mail, and a contact is created for
 * each e-mail seen for the first time. `rewrite` updates rows that already exist in every table
 * (a remap), not only in the tables the model lets change.
 */
export async function writeAppRows(
  tx: Executor,
  dialect: Dialect,
  app: string,
  model: DataModel,
  installationId: string,
  rows: MappedRows,
  options: { now: string; rewrite: boolean; contactIds?: ContactIdCache; runId?: string },
): Promise<AppRowsWrite> {
  const result: AppRowsWrite = { tables: {}, insertedKeys: [], newContacts: 0, contactIds: new Map() };
  for (const spec of model.tables) {
    const declared = appTableOf(dialect, app, model, spec);
    const table = options.rewrite ? { ...declared, onConflict: 'update' as const } : declared;
    const tuples = tuplesOf(table, spec, installationId, rows[spec.name] ?? []);
    if (tuples.length === 0) {
      result.tables[spec.name] = { inserted: 0, updated: 0, unchanged: 0 };
      continue;
    }
    if (table.contactIdOf) {
      const index = table.columns.findIndex((c) => c.name === table.contactIdOf);
      // Each row's address is normalized and checked once, then looked up by that.
      const tupleEmails = tuples.map((tuple) => normalizedEmail(tuple[index]));
      const emails = new Set<string>();
      for (const email of tupleEmails) if (email) emails.add(email);
      const { ids, added, resolved } = await contactIdsOf(tx, dialect, app, installationId, emails, options.now, options.contactIds);
      result.newContacts += added;
      for (const [email, id] of resolved) result.contactIds.set(email, id);
      for (let i = 0; i < tuples.length; i++) {
        const email = tupleEmails[i];
        tuples[i]!.push(email === undefined ? null : (ids.get(email) ?? null));
      }
    }
    for (const tuple of tuples) tuple.push(options.runId ?? null);
    const { counts, insertedKeys } = await upsertRows(tx, dialect, table, tuples, { keys: spec.name === model.primaryTable });
    result.tables[spec.name] = counts;
    if (spec.name === model.primaryTable) result.insertedKeys = insertedKeys;
  }
  return result;
}

/**
 * The rejected records of a page that are not set aside yet: a record the installation already
 * rejected for the same reason (the look-back window reads the newest records again each run, and
 * a page may repeat one) is recorded once. Records without a source id cannot be recognized and are
 * always kept.
 */
async function unrecordedRejections(
  tx: Executor,
  dialect: Dialect,
  installationId: string,
  rejected: readonly RejectedRecord[],
): Promise<RejectedRecord[]> {
  const seen = new Set<string>();
  const key = (sourceId: string, reason: string) => `${sourceId}\u0000${reason}`;
  const sourceIds = [...new Set(rejected.flatMap((r) => (r.sourceId === undefined ? [] : [r.sourceId])))];
  for (const ids of chunk(sourceIds, LOOKUP_CHUNK)) {
    const part = fixedInList(ids);
    const rows = await tx.query<{ source_id: string; reason: string }>(
      `SELECT "source_id", "reason" FROM ${internalTable(dialect, 'rejected_records').sql}
        WHERE "installation_id" = ${dialect.placeholder(1)} AND "source_id" IN (${part.map((_, i) => dialect.placeholder(i + 2)).join(', ')})`,
      [installationId, ...part],
    );
    for (const row of rows) seen.add(key(row.source_id, row.reason));
  }
  return rejected.filter((r) => {
    if (r.sourceId === undefined) return true;
    const id = key(r.sourceId, r.reason);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Keeps the run-log line of every record whose primary row this page inserted, in the run's list
 * of saved customers (`run_saved`), so that the log can list all of them however many there are.
 */
async function recordSavedCustomers(
  tx: Executor,
  dialect: Dialect,
  write: PageWrite,
  insertedKeys: readonly string[],
): Promise<void> {
  if (!write.saved || write.saved.length === 0 || insertedKeys.length === 0) return;
  const inserted = new Set(insertedKeys);
  const rows: CanonicalValue[][] = [];
  for (const line of write.saved) {
    if (!inserted.has(line.key)) continue;
    // One line per new row, even when a page repeats a record.
    inserted.delete(line.key);
    // The fields as JSON text: both dialects keep their order, which is the order the log shows them in.
    rows.push([write.runId, line.key, line.contact ?? null, line.label ?? null, line.fields === undefined ? null : JSON.stringify(line.fields)]);
  }
  await insertRows(tx, dialect, {
    table: internalTable(dialect, 'run_saved'),
    columns: [
      { name: 'run_id', type: 'uuid' },
      { name: 'record_key', type: 'text' },
      { name: 'contact', type: 'text' },
      { name: 'label', type: 'text' },
      { name: 'fields', type: 'text' },
    ],
    rows,
    conflictKey: [],
    onConflict: { action: 'nothing' },
  });
}

/**
 * Writes a page inside the caller's transaction: every table's rows set-based, the contacts of new
 * e-mails, the rejected records, and the checkpoint last. Any failure rolls all of it back.
 */
export async function writePageRows(
  tx: Executor,
  dialect: Dialect,
  app: string,
  model: DataModel,
  input: PageWrite,
  now: Date,
  contactIds?: ContactIdCache,
  context?: { workspaceId: string; retentionDays: number | null },
): Promise<{ page: PageWriteResult; contactIds: Map<string, string> }> {
  const unknownTables = Object.keys(input.rows).filter((name) => !model.tables.some((t) => t.name === name));
  if (unknownTables.length > 0) {
    throw new InternalError(
      'PAGE_INVALID',
      `Rows for table(s) ${unknownTables.join(', ')}, which the data model does not declare.`,
    );
  }
  // Forgotten people and records past the retention period never reach a table, the run log or the rejected records.
  const filtered = context ? await filterPage(tx, dialect, app, model, input, { ...context, now }) : undefined;
  const write: PageWrite = filtered
    ? { ...input, rows: filtered.rows, rejected: filtered.rejected, ...(filtered.saved ? { saved: filtered.saved } : {}) }
    : input;
  const nowText = now.toISOString();
  const written = await writeAppRows(tx, dialect, app, model, write.installationId, write.rows, {
    now: nowText,
    rewrite: false,
    runId: write.runId,
    ...(contactIds ? { contactIds } : {}),
  });
  const primary = written.tables[model.primaryTable] ?? { inserted: 0, updated: 0, unchanged: 0 };
  const result: PageWriteResult = {
    inserted: primary.inserted,
    unchanged: primary.updated + primary.unchanged,
    insertedKeys: written.insertedKeys,
    tables: written.tables,
    newContacts: written.newContacts,
    rejected: 0,
    ...(filtered ? { suppressed: filtered.suppressed, suppressedRejected: filtered.suppressedRejected, expired: filtered.expired } : {}),
  };

  const fresh = await unrecordedRejections(tx, dialect, write.installationId, write.rejected);
  result.rejected = fresh.length;
  if (fresh.length > 0) {
    for (const statement of dialect.buildInsert({
      table: internalTable(dialect, 'rejected_records'),
      columns: [
        { name: 'run_id', type: 'uuid' },
        { name: 'installation_id', type: 'uuid' },
        { name: 'source_id', type: 'text' },
        { name: 'reason', type: 'text' },
        { name: 'raw', type: 'json' },
        { name: 'created_at', type: 'timestamp' },
      ],
      rows: fresh.map((r) => [write.runId, write.installationId, r.sourceId ?? null, r.reason, rawJson(r.raw), nowText]),
      conflictKey: [],
      onConflict: { action: 'nothing' },
    })) {
      await tx.run(statement);
    }
  }

  await recordSavedCustomers(tx, dialect, write, written.insertedKeys);

  for (const statement of dialect.buildInsert({
    table: internalTable(dialect, 'checkpoints'),
    columns: [
      { name: 'installation_id', type: 'uuid' },
      { name: 'stream', type: 'text' },
      { name: 'value', type: 'json' },
      { name: 'updated_at', type: 'timestamp' },
    ],
    rows: [[write.installationId, write.stream, jsonText(write.checkpoint, 'checkpoint'), nowText]],
    conflictKey: ['installation_id', 'stream'],
    onConflict: { action: 'update', columns: ['value', 'updated_at'], onlyIfChanged: false },
  })) {
    await tx.run(statement);
  }
  return { page: result, contactIds: written.contactIds };
}
