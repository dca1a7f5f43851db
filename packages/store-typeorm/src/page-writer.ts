import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ConfigError,
  InternalError,
  describeIssues,
  type CellValue,
  type DataModel,
  type PageWrite,
  type PageWriteResult,
  type TableSpec,
} from '@tributary/core';
import { appTableOf, contactsTableOf, type AppTable } from './app-tables.js';
import type { Executor } from './database.js';
import { internalTable, type Dialect, type InsertColumn } from './dialect.js';
import { canonicalValue, CellTypeError, type CanonicalValue } from './values.js';

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
});

/** Checks a page's shape before any statement runs; a malformed page is a bug in the caller. */
export function validatePageWrite(write: PageWrite): PageWrite {
  const parsed = pageWriteSchema.safeParse(write);
  if (!parsed.success) throw new InternalError('PAGE_INVALID', `Invalid page write: ${describeIssues(parsed.error)}`);
  return write;
}

function jsonText(value: unknown, what: string): string {
  try {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('not serializable');
    return text;
  } catch (error) {
    throw new InternalError('PAGE_INVALID', `The ${what} cannot be stored as JSON: ${(error as Error).message}`);
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
export function tuplesOf(table: AppTable, spec: TableSpec, installationId: string, rows: readonly Record<string, unknown>[]) {
  const known = new Set(spec.columns.map((c) => c.name));
  const keyIndexes = table.key.map((k) => table.columns.findIndex((c) => c.name === k));
  const byKey = new Map<string, CanonicalValue[]>();
  for (const row of rows) {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new InternalError('PAGE_INVALID', `Rows for table "${spec.name}" must be objects of column values.`);
    }
    let declared = 0;
    for (const column of spec.columns) if (column.name in row) declared += 1;
    if (declared !== Object.keys(row).length) {
      const column = Object.keys(row).find((name) => !known.has(name));
      throw new InternalError('PAGE_INVALID', `Rows for table "${spec.name}" hold a column "${column}" its data model does not declare.`);
    }
    const tuple: CanonicalValue[] = [installationId];
    for (const column of spec.columns) {
      try {
        tuple.push(canonicalValue(column.type, row[column.name] as CellValue | undefined));
      } catch (error) {
        if (!(error instanceof CellTypeError)) throw error;
        throw new ConfigError('STORE_VALUE_INVALID', `Cannot store ${error.actual} in column ${spec.name}.${column.name} (${column.type}).`, {
          hint: `Check the mapping that feeds ${spec.name}.${column.name}: its transform must produce a ${column.type}.`,
        });
      }
    }
    let key = '';
    for (const index of keyIndexes) key += `${String(tuple[index])}\u0000`;
    byKey.delete(key);
    byKey.set(key, tuple);
  }
  return [...byKey.values()];
}

export async function upsertRows(
  tx: Executor,
  dialect: Dialect,
  table: AppTable,
  tuples: readonly CanonicalValue[][],
): Promise<{ counts: TableWriteCounts; insertedKeys: string[] }> {
  const columns: InsertColumn[] = table.columns.map((c) => ({ name: c.name, type: c.type }));
  // The first declared key column (after installation_id) names a row in the run's result.
  const keyColumn = table.key[1] ?? table.key[0]!;
  const insertedKeys: string[] = [];
  for (const statement of dialect.buildInsert({
    table: table.table,
    columns,
    rows: tuples,
    conflictKey: table.key,
    onConflict: { action: 'nothing' },
    returning: [keyColumn],
  })) {
    for (const row of await tx.run<Record<string, unknown>>(statement)) insertedKeys.push(String(row[keyColumn]));
  }
  let updated = 0;
  const keys = new Set(table.key);
  const updatable = table.columns.filter((c) => !keys.has(c.name)).map((c) => c.name);
  if (table.onConflict === 'update' && updatable.length > 0 && insertedKeys.length < tuples.length) {
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
    counts: { inserted: insertedKeys.length, updated, unchanged: tuples.length - insertedKeys.length - updated },
    insertedKeys,
  };
}

export async function insertContacts(
  tx: Executor,
  dialect: Dialect,
  app: string,
  installationId: string,
  emails: ReadonlySet<string>,
  now: string,
): Promise<number> {
  if (emails.size === 0) return 0;
  const table = contactsTableOf(dialect, app);
  let added = 0;
  for (const statement of dialect.buildInsert({
    table: table.table,
    columns: table.columns.map((c) => ({ name: c.name, type: c.type })),
    rows: [...emails].map((email) => [installationId, email, randomUUID(), now]),
    conflictKey: table.key,
    onConflict: { action: 'nothing' },
    returning: ['email_normalized'],
  })) {
    added += (await tx.run(statement)).length;
  }
  return added;
}

export function normalizedEmail(value: CanonicalValue | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim().toLowerCase();
  return email.length > 0 ? email : undefined;
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
  write: PageWrite,
  now: Date,
): Promise<PageWriteResult> {
  const unknownTables = Object.keys(write.rows).filter((name) => !model.tables.some((t) => t.name === name));
  if (unknownTables.length > 0) {
    throw new InternalError('PAGE_INVALID', `Rows for table(s) ${unknownTables.join(', ')}, which the data model does not declare.`);
  }
  const nowText = now.toISOString();
  const result: PageWriteResult = { inserted: 0, unchanged: 0, insertedKeys: [], tables: {}, newContacts: 0 };
  const emails = new Set<string>();
  for (const spec of model.tables) {
    const table = appTableOf(dialect, app, spec);
    const tuples = tuplesOf(table, spec, write.installationId, write.rows[spec.name] ?? []);
    if (tuples.length === 0) {
      result.tables[spec.name] = { inserted: 0, updated: 0, unchanged: 0 };
      continue;
    }
    const { counts, insertedKeys } = await upsertRows(tx, dialect, table, tuples);
    result.tables[spec.name] = counts;
    if (spec.name !== model.primaryTable) continue;
    result.inserted = counts.inserted;
    result.unchanged = counts.updated + counts.unchanged;
    result.insertedKeys = insertedKeys;
    if (model.customerEmailColumn) {
      const index = table.columns.findIndex((c) => c.name === model.customerEmailColumn);
      for (const tuple of tuples) {
        const email = normalizedEmail(tuple[index]);
        if (email) emails.add(email);
      }
    }
  }
  result.newContacts = await insertContacts(tx, dialect, app, write.installationId, emails, nowText);

  if (write.rejected.length > 0) {
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
      rows: write.rejected.map((r) => [write.runId, write.installationId, r.sourceId ?? null, r.reason, rawJson(r.raw), nowText]),
      conflictKey: [],
      onConflict: { action: 'nothing' },
    })) {
      await tx.run(statement);
    }
  }

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
  return result;
}
