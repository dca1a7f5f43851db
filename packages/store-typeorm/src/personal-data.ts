import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  normalizeCustomerEmail,
  operatorNameSchema,
  parseUserInput,
  type CustomerAppData,
  type CustomerDataReport,
  type CustomerProfileData,
  type CustomerRecord,
  type Erasure,
  type ErasureReceipt,
  type StoredRow,
} from '@tributary/core';
import { z } from 'zod';
import type { Database, Executor } from './database.js';
import { internalTable } from './dialect.js';
import { storageFailure } from './errors.js';
import { isStoreId, storedDataModel } from './installation-checks.js';
import { containsPattern, linkCondition, mentions, Params, personCondition, personTablesOf, type PersonTables } from './person-tables.js';
import { runLogOf, eraseRunLog, eraseProfiles, profilesOf, sweep } from './personal-data-log.js';
import { emailHash, erasureSalt } from './suppression.js';
import { eraseFromDeliveries, pendingForgetBatches } from './personal-data-deliveries.js';
import { contactsTableOf, INSTALLATION_COLUMN, type AppTable } from './app-tables.js';
import { quoteIdentifier as q } from './naming.js';
import { dateFromDatabase } from './values.js';
import { storedJson } from './migrations/helpers.js';
import { requireWorkspaceId } from './workspaces.js';

// The rights of access and erasure: everything held about one address, found or erased in every
// installation of a workspace (or of all of them), through each app's data model.

const emailSchema = z
  .string()
  .transform(normalizeCustomerEmail)
  .pipe(z.string().min(3, 'is not an e-mail address').max(320).regex(/^[^@]+@[^@]+$/, 'is not an e-mail address'));

/** An installation as erasure needs it. */
interface ScopedInstallation {
  id: string;
  app: string;
  status: 'active' | 'uninstalled';
  workspaceId: string;
  workspace: string;
  tables: PersonTables;
}

interface ReceiptRow {
  id: string;
  workspace: string | null;
  erased_at: Date | string;
  erased_by: string | null;
  counts: unknown;
  lifted_at: Date | string | null;
  lifted_by: string | null;
}

function receiptOf(row: ReceiptRow): ErasureReceipt {
  const counts = z.record(z.string(), z.number()).safeParse(storedJson(row.counts));
  return {
    id: row.id,
    ...(row.workspace === null ? {} : { workspace: row.workspace }),
    erasedAt: dateFromDatabase(row.erased_at),
    ...(row.erased_by === null ? {} : { erasedBy: row.erased_by }),
    counts: counts.success ? counts.data : {},
    ...(row.lifted_at === null ? {} : { liftedAt: dateFromDatabase(row.lifted_at) }),
    ...(row.lifted_by === null ? {} : { liftedBy: row.lifted_by }),
  };
}

/** Rows as JSON-ready values: JSON columns parsed (SQLite keeps them as text). */
function readable(table: AppTable, row: StoredRow): StoredRow {
  const out: StoredRow = {};
  for (const [name, value] of Object.entries(row)) {
    const column = table.columns.find((c) => c.name === name);
    out[name] = column?.type === 'json' ? storedJson(value) : value;
  }
  return out;
}

/** Queues a `left` for the person to the destinations of the profiles they are in, in the caller's transaction. */
export interface Departures {
  forgetLeftIn(tx: Executor, workspace: string, email: string, now: Date): Promise<number>;
}

export class PersonalData {
  constructor(
    private readonly db: Database,
    private readonly departures?: Departures,
  ) {}

  private get dialect() {
    return this.db.dialect;
  }

  private async scope(db: Executor, workspace: string | undefined): Promise<{ workspaceId?: string; installations: ScopedInstallation[] }> {
    const workspaceId = workspace === undefined ? undefined : await requireWorkspaceId(db, this.dialect, workspace);
    const params = new Params(this.dialect);
    const rows = await db.query<{ id: string; app: string; status: 'active' | 'uninstalled'; workspace_id: string; workspace: string; data_model: unknown }>(
      `SELECT i."id", i."app", i."status", i."workspace_id", w."name" AS "workspace", i."data_model"
         FROM ${internalTable(this.dialect, 'installations').sql} i
         JOIN ${internalTable(this.dialect, 'workspaces').sql} w ON w."id" = i."workspace_id"
        WHERE i."purged_at" IS NULL${workspaceId === undefined ? '' : ` AND i."workspace_id" = ${params.add(workspaceId)}`}
        ORDER BY w."name", i."app", i."created_at"`,
      params.values,
    );
    return {
      ...(workspaceId === undefined ? {} : { workspaceId }),
      installations: rows.map((row) => {
        const model = storedDataModel(storedJson(row.data_model), `Installation ${row.id}`);
        return { id: row.id, app: row.app, status: row.status, workspaceId: row.workspace_id, workspace: row.workspace, tables: personTablesOf(this.dialect, row.app, model) };
      }),
    };
  }

  private async contacts(db: Executor, installation: ScopedInstallation, email: string): Promise<StoredRow[]> {
    const contacts = contactsTableOf(this.dialect, installation.app);
    const params = new Params(this.dialect);
    const rows = await db.query<StoredRow>(
      `SELECT * FROM ${contacts.table.sql}
        WHERE ${q(INSTALLATION_COLUMN)} = ${params.add(installation.id)} AND ("email_normalized" = ${params.add(email)} OR LOWER(TRIM("email_normalized")) = ${params.add(email)})`,
      params.values,
    );
    return rows;
  }

  async find(input: string, options: { workspace?: string }): Promise<CustomerDataReport> {
    const email = parseUserInput(emailSchema, input, 'e-mail address');
    try {
      return await this.db.readOnly(async (db) => {
        const scope = await this.scope(db, options.workspace);
        const apps: CustomerAppData[] = [];
        for (const installation of scope.installations) {
          const contacts = await this.contacts(db, installation, email);
          const records = await this.records(db, installation, email, contacts[0]?.['contact_id'] as string | undefined);
          const keys = records.map((r) => String(r.row[installation.tables.keyColumns[0]!]));
          const { runLog, rejected } = await runLogOf(db, this.dialect, installation.id, email, keys);
          if (records.length + contacts.length + runLog.length + rejected.length === 0) continue;
          apps.push({ workspace: installation.workspace, app: installation.app, installationId: installation.id, status: installation.status, records, contacts, runLog, rejected });
        }
        const profiles: CustomerProfileData[] = await profilesOf(db, this.dialect, email, scope.workspaceId);
        const salt = await erasureSalt(db, this.dialect, false);
        // Within a workspace, only the receipts that keep the person out of it: another workspace's erasure is not its business.
        const suppressedBy =
          salt === undefined
            ? []
            : (await this.receipts(db, { hash: emailHash(salt, email), active: true })).filter(
                (r) => options.workspace === undefined || r.workspace === undefined || r.workspace === options.workspace,
              );
        return { email, ...(options.workspace === undefined ? {} : { workspace: options.workspace }), apps, profiles, suppressedBy };
      });
    } catch (error) {
      throw storageFailure('find the data held about a customer', error);
    }
  }

  private async records(db: Executor, installation: ScopedInstallation, email: string, contactId: string | undefined): Promise<CustomerRecord[]> {
    const { tables } = installation;
    if (tables.email === undefined) return [];
    const params = new Params(this.dialect);
    const primaryRows = await db.query<StoredRow>(
      `SELECT p.* FROM ${tables.primary.table.sql} p WHERE ${personCondition(tables, 'p', params, installation.id, email, contactId)}`,
      params.values,
    );
    const records = primaryRows.map((row): CustomerRecord => ({ table: tables.primary.name, row: readable(tables.primary, row), linked: {} }));
    const byKey = new Map(records.map((r) => [JSON.stringify(tables.keyColumns.map((k) => String(r.row[k]))), r]));
    for (const linked of tables.linked) {
      const linkParams = new Params(this.dialect);
      const rows = await db.query<StoredRow>(
        `SELECT * FROM ${linked.table.table.sql}
          WHERE EXISTS (SELECT 1 FROM ${tables.primary.table.sql} p
                         WHERE ${personCondition(tables, 'p', linkParams, installation.id, email, contactId)} AND ${linkCondition(linked, 'p')})`,
        linkParams.values,
      );
      const order = tables.keyColumns.map((k) => linked.links.find(([, key]) => key === k)![0]);
      for (const row of rows) {
        const record = byKey.get(JSON.stringify(order.map((c) => String(row[c]))));
        if (!record) continue;
        (record.linked[linked.name] ??= []).push(readable(linked.table, row));
      }
    }
    return records;
  }

  private async receipts(db: Executor, filter: { hash?: string; active?: boolean; id?: string; workspaceId?: string | null }): Promise<ErasureReceipt[]> {
    const params = new Params(this.dialect);
    const where = [
      ...(filter.hash === undefined ? [] : [`r."email_hash" = ${params.add(filter.hash)}`]),
      ...(filter.workspaceId === undefined ? [] : filter.workspaceId === null ? [`r."workspace_id" IS NULL`] : [`r."workspace_id" = ${params.add(filter.workspaceId)}`]),
      ...(filter.id === undefined ? [] : [`r."id" = ${params.add(filter.id)}`]),
      ...(filter.active ? [`r."lifted_at" IS NULL`] : []),
    ];
    const rows = await db.query<ReceiptRow>(
      `SELECT r."id", w."name" AS "workspace", r."erased_at", r."erased_by", r."counts", r."lifted_at", r."lifted_by"
         FROM ${internalTable(this.dialect, 'erasure_receipts').sql} r
         LEFT JOIN ${internalTable(this.dialect, 'workspaces').sql} w ON w."id" = r."workspace_id"
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY r."erased_at" DESC, r."id"`,
      params.values,
    );
    return rows.map(receiptOf);
  }

  async list(): Promise<ErasureReceipt[]> {
    try {
      return await this.db.withConnection((db) => this.receipts(db, {}));
    } catch (error) {
      throw storageFailure('list the erasure receipts', error);
    }
  }

  async forget(input: string, options: { workspace?: string; actor?: string; at: Date }): Promise<Erasure> {
    const email = parseUserInput(emailSchema, input, 'e-mail address');
    const actor = options.actor === undefined ? undefined : parseUserInput(operatorNameSchema, options.actor, 'operator');
    try {
      return await this.db.transaction(async (tx) => {
        const scope = await this.scope(tx, options.workspace);
        const counts: Record<string, number> = {};
        const add = (what: string, n: number) => {
          if (n > 0) counts[what] = (counts[what] ?? 0) + n;
        };
        for (const installation of scope.installations) {
          // A page of this installation being written commits first, or waits and then meets the receipt.
          const lock = this.dialect.transactionLock(`installation:${installation.id}`);
          if (lock) await tx.run(lock);
          const contacts = await this.contacts(tx, installation, email);
          const contactId = contacts[0]?.['contact_id'] as string | undefined;
          const keys = await this.eraseRecords(tx, installation, email, contactId, add);
          const table = contactsTableOf(this.dialect, installation.app);
          const params = new Params(this.dialect);
          const removed = await tx.query(
            `DELETE FROM ${table.table.sql}
              WHERE ${q(INSTALLATION_COLUMN)} = ${params.add(installation.id)} AND ("email_normalized" = ${params.add(email)} OR LOWER(TRIM("email_normalized")) = ${params.add(email)})
              RETURNING 1 AS "n"`,
            params.values,
          );
          add(`${installation.app}.contacts`, removed.length);
          const log = await eraseRunLog(tx, this.dialect, installation.id, email, keys);
          add('run log lines', log.lines);
          add('run summaries', log.summaries);
          add('rejected records', log.rejected);
        }
        add('delivery batches', await eraseFromDeliveries(tx, this.dialect, email));
        // Receivers must drop the person too: a `left` to the destinations of the profiles they are
        // in, queued before their memberships go (it reads them).
        if (this.departures) {
          for (const name of await this.workspaceNames(tx, scope.workspaceId)) {
            add('departures queued', await this.departures.forgetLeftIn(tx, name, email, options.at));
          }
        }
        const profiles = await eraseProfiles(tx, this.dialect, email, scope.workspaceId);
        add('profile memberships', profiles.members);
        add('profile history', profiles.changes);
        // Whatever else still names the address (another person's comment, a table this code does
        // not know) is anonymised where it stands.
        const customerTables = await this.customerTables(tx);
        add('anonymised values', await sweep(tx, this.dialect, email, customerTables, pendingForgetBatches(this.dialect)));
        const salt = (await erasureSalt(tx, this.dialect, true))!;
        const hash = emailHash(salt, email);
        // Two erasures of one address at once: the second waits and then finds the first's receipt.
        const lock = this.dialect.transactionLock(`erasure:${hash}`);
        if (lock) await tx.run(lock);
        const [standing] = await this.receipts(tx, { hash, active: true, workspaceId: scope.workspaceId ?? null });
        if (standing) {
          // One receipt per address and scope: a second one would keep the person out after the operator lifted the first.
          if (Object.keys(counts).length > 0) {
            const total = { ...standing.counts };
            for (const [what, n] of Object.entries(counts)) total[what] = (total[what] ?? 0) + n;
            const p = new Params(this.dialect);
            await tx.query(
              `UPDATE ${internalTable(this.dialect, 'erasure_receipts').sql} SET "counts" = ${p.add(JSON.stringify(total))} WHERE "id" = ${p.add(standing.id)}`,
              p.values,
            );
          }
          return { receipt: (await this.receipts(tx, { id: standing.id }))[0]!, alreadyForgotten: true, erased: counts };
        }
        const id = randomUUID();
        const p = new Params(this.dialect);
        await tx.query(
          `INSERT INTO ${internalTable(this.dialect, 'erasure_receipts').sql} ("id", "email_hash", "workspace_id", "erased_at", "erased_by", "counts")
           VALUES (${p.add(id)}, ${p.add(hash)}, ${p.add(scope.workspaceId ?? null)}, ${p.add(options.at.toISOString())}, ${p.add(actor ?? null)}, ${p.add(JSON.stringify(counts))})`,
          p.values,
        );
        return { receipt: (await this.receipts(tx, { id }))[0]!, alreadyForgotten: false, erased: counts };
      });
    } catch (error) {
      throw storageFailure('erase the data held about a customer', error, 'STORE_WRITE_FAILED');
    }
  }

  /** Deletes the person's records and the rows linked to them; returns the records' first key values (the run log names records by them). */
  private async eraseRecords(tx: Executor, installation: ScopedInstallation, email: string, contactId: string | undefined, add: (what: string, n: number) => void): Promise<string[]> {
    const { tables } = installation;
    if (tables.email === undefined) return [];
    for (const linked of tables.linked) {
      const params = new Params(this.dialect);
      const removed = await tx.query(
        `DELETE FROM ${linked.table.table.sql}
          WHERE EXISTS (SELECT 1 FROM ${tables.primary.table.sql} p
                         WHERE ${personCondition(tables, 'p', params, installation.id, email, contactId)} AND ${linkCondition(linked, 'p')})
          RETURNING 1 AS "n"`,
        params.values,
      );
      add(`${installation.app}.${linked.name}`, removed.length);
    }
    const params = new Params(this.dialect);
    const key = tables.keyColumns[0]!;
    const removed = await tx.query<Record<string, unknown>>(
      `DELETE FROM ${tables.primary.table.sql}
        WHERE ${personCondition(tables, tables.primary.table.sql, params, installation.id, email, contactId)}
        RETURNING ${q(key)}`,
      params.values,
    );
    add(`${installation.app}.${tables.primary.name}`, removed.length);
    return removed.map((row) => String(row[key]));
  }

  private async workspaceNames(tx: Executor, workspaceId: string | undefined): Promise<string[]> {
    const params = new Params(this.dialect);
    const rows = await tx.query<{ name: string }>(
      `SELECT "name" FROM ${internalTable(this.dialect, 'workspaces').sql}${workspaceId === undefined ? '' : ` WHERE "id" = ${params.add(workspaceId)}`} ORDER BY "name"`,
      params.values,
    );
    return rows.map((r) => r.name);
  }

  /** The users' own customer tables linked to installations: read-only for Tributary, never swept. */
  private async customerTables(tx: Executor): Promise<Set<string>> {
    const rows = await tx.query<{ customer_table: unknown }>(
      `SELECT "customer_table" FROM ${internalTable(this.dialect, 'installations').sql} WHERE "customer_table" IS NOT NULL`,
    );
    const names = new Set<string>();
    for (const row of rows) {
      const link = storedJson(row.customer_table) as { table?: unknown } | undefined;
      if (typeof link?.table === 'string') names.add(link.table.split('.').at(-1)!);
    }
    return names;
  }

  async lift(receiptId: string, options: { actor?: string; at: Date }): Promise<{ receipt: ErasureReceipt; changed: boolean }> {
    const actor = options.actor === undefined ? undefined : parseUserInput(operatorNameSchema, options.actor, 'operator');
    const notFound = () =>
      new ConfigError('ERASURE_RECEIPT_NOT_FOUND', `There is no erasure receipt "${receiptId}".`, {
        hint: 'tributary customers receipts lists them.',
      });
    if (!isStoreId(receiptId)) throw notFound();
    try {
      return await this.db.transaction(async (tx) => {
        const [receipt] = await this.receipts(tx, { id: receiptId });
        if (!receipt) throw notFound();
        if (receipt.liftedAt) return { receipt, changed: false };
        const p = new Params(this.dialect);
        await tx.query(
          `UPDATE ${internalTable(this.dialect, 'erasure_receipts').sql} SET "lifted_at" = ${p.add(options.at.toISOString())}, "lifted_by" = ${p.add(actor ?? null)} WHERE "id" = ${p.add(receiptId)}`,
          p.values,
        );
        return { receipt: (await this.receipts(tx, { id: receiptId }))[0]!, changed: true };
      });
    } catch (error) {
      throw storageFailure(`lift erasure receipt ${receiptId}`, error);
    }
  }
}

export { containsPattern, mentions };
