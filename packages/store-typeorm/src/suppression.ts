import { createHmac, randomBytes } from 'node:crypto';
import { normalizeCustomerEmail, type DataModel, type MappedRows, type PageWrite, type RejectedRecord } from '@tributary/core';
import type { Executor } from './database.js';
import { chunk, fixedInList, IN_LIST_LIMIT, internalTable, type Dialect } from './dialect.js';
import { personTablesOf, type PersonTables } from './person-tables.js';

// A forgotten person stays forgotten: their erasure receipt keeps a salted hash of their address,
// and each page a sync writes is checked against the hashes whose receipt is not lifted. One salt
// per database (made by the first erasure), so that a page's addresses are hashed once, not once
// per receipt; it keeps the hashes from being looked up in a table of known addresses' hashes.

/** Hashes checked per statement, in IN lists of a few fixed sizes (see fixedInList). */
const HASH_CHUNK = IN_LIST_LIMIT;

/** The database's erasure salt; with `create`, made when there is none yet. */
export async function erasureSalt(tx: Executor, dialect: Dialect, create: boolean): Promise<string | undefined> {
  const table = internalTable(dialect, 'erasure_salt').sql;
  const read = async () => (await tx.query<{ salt: string }>(`SELECT "salt" FROM ${table} WHERE "id" = 1`))[0]?.salt;
  const salt = await read();
  if (salt !== undefined || !create) return salt;
  await tx.query(
    `INSERT INTO ${table} ("id", "salt", "created_at") VALUES (1, ${dialect.placeholder(1)}, ${dialect.placeholder(2)}) ON CONFLICT ("id") DO NOTHING`,
    [randomBytes(32).toString('hex'), new Date().toISOString()],
  );
  return read();
}

/** The salted hash of an address, as receipts keep it. */
export function emailHash(salt: string, email: string): string {
  return createHmac('sha256', salt).update(normalizeCustomerEmail(email)).digest('hex');
}

/** Which of `hashes` an unlifted receipt covering the workspace holds. */
export async function suppressedAmong(tx: Executor, dialect: Dialect, workspaceId: string, hashes: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const unique of chunk([...new Set(hashes)], HASH_CHUNK)) {
    const part = fixedInList(unique);
    const rows = await tx.query<{ email_hash: string }>(
      `SELECT DISTINCT "email_hash" FROM ${internalTable(dialect, 'erasure_receipts').sql}
        WHERE "lifted_at" IS NULL AND ("workspace_id" IS NULL OR "workspace_id" = ${dialect.placeholder(1)})
          AND "email_hash" IN (${part.map((_, i) => dialect.placeholder(i + 2)).join(', ')})`,
      [workspaceId, ...part],
    );
    for (const row of rows) found.add(row.email_hash);
  }
  return found;
}

/** Whether any unlifted receipt covers the workspace: most pages need no hashing at all. */
async function anySuppression(tx: Executor, dialect: Dialect, workspaceId: string): Promise<boolean> {
  const rows = await tx.query(
    `SELECT 1 AS "found" FROM ${internalTable(dialect, 'erasure_receipts').sql}
      WHERE "lifted_at" IS NULL AND ("workspace_id" IS NULL OR "workspace_id" = ${dialect.placeholder(1)}) LIMIT 1`,
    [workspaceId],
  );
  return rows.length > 0;
}

/** Things in a raw record that look like an address. */
const ADDRESS_LIKE = /[^\s"'<>()[\]{},;:\\]+@[^\s"'<>()[\]{},;:\\]+/gu;

function addressesIn(raw: unknown): string[] {
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? '');
  } catch {
    text = String(raw);
  }
  return [...text.matchAll(ADDRESS_LIKE)].map((m) => normalizeCustomerEmail(m[0]));
}

/** A page without the records of forgotten people and those older than the retention period. */
export interface FilteredPage {
  rows: MappedRows;
  rejected: RejectedRecord[];
  saved: PageWrite['saved'];
  suppressed: number;
  suppressedRejected: number;
  expired: number;
}

function keyOf(values: readonly unknown[]): string {
  return JSON.stringify(values.map((v) => (v === null || v === undefined ? null : String(v))));
}

function timeOf(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Takes out of a page, before anything is written: the records (primary row, linked rows, run-log
 * line) whose customer e-mail a lifted-not receipt holds, the rejected records that hold such an
 * address, and, with a retention period, the records older than it (a reconciliation or a backfill
 * would otherwise store again what retention deleted). Reference rows (forms, questions) stay.
 */
export async function filterPage(
  tx: Executor,
  dialect: Dialect,
  app: string,
  model: DataModel,
  write: PageWrite,
  context: { workspaceId: string; retentionDays: number | null; now: Date },
): Promise<FilteredPage> {
  const page: FilteredPage = { rows: write.rows, rejected: write.rejected, saved: write.saved, suppressed: 0, suppressedRejected: 0, expired: 0 };
  const tables = personTablesOf(dialect, app, model);
  const cutoff = context.retentionDays !== null && tables.time ? context.now.getTime() - context.retentionDays * 86_400_000 : undefined;
  const suppressing = (await anySuppression(tx, dialect, context.workspaceId)) ? await erasureSalt(tx, dialect, false) : undefined;
  if (cutoff === undefined && suppressing === undefined) return page;

  const primaryRows = write.rows[model.primaryTable] ?? [];
  let forgotten = new Set<string>();
  // Each row's hash is computed once: an HMAC per row is the cost of suppression on a large page.
  const rowHashes = new Map<(typeof primaryRows)[number], string>();
  if (suppressing !== undefined) {
    for (const row of primaryRows) {
      const email = tables.email ? row[tables.email] : undefined;
      if (typeof email === 'string') rowHashes.set(row, emailHash(suppressing, email));
    }
    const hashes = [...rowHashes.values(), ...write.rejected.flatMap((r) => addressesIn(r.raw).map((a) => emailHash(suppressing, a)))];
    forgotten = await suppressedAmong(tx, dialect, context.workspaceId, hashes);
  }
  const dropped = new Set<string>();
  const keptPrimary = primaryRows.filter((row) => {
    const hash = rowHashes.get(row);
    if (hash !== undefined && forgotten.has(hash)) {
      page.suppressed += 1;
    } else if (cutoff !== undefined && (timeOf(row[tables.time!]) ?? Infinity) < cutoff) {
      page.expired += 1;
    } else {
      return true;
    }
    dropped.add(keyOf(tables.keyColumns.map((k) => row[k])));
    return false;
  });
  if (dropped.size > 0) {
    const rows: MappedRows = { ...write.rows, [model.primaryTable]: keptPrimary };
    for (const linked of tables.linked) {
      const own = write.rows[linked.name];
      if (!own) continue;
      // Link values in the primary key's order.
      const order = tables.keyColumns.map((k) => linked.links.find(([, key]) => key === k)![0]);
      rows[linked.name] = own.filter((row) => !dropped.has(keyOf(order.map((c) => row[c]))));
    }
    page.rows = rows;
    if (write.saved) {
      // The run log names a record by its first key column.
      const droppedFirst = new Set([...dropped].map((k) => (JSON.parse(k) as (string | null)[])[0]));
      page.saved = write.saved.filter((line) => !droppedFirst.has(line.key));
    }
  }
  if (suppressing !== undefined && forgotten.size > 0) {
    page.rejected = write.rejected.filter((r) => {
      const hit = addressesIn(r.raw).some((a) => forgotten.has(emailHash(suppressing, a)));
      if (hit) page.suppressedRejected += 1;
      return !hit;
    });
  }
  return page;
}

export type { PersonTables };
