import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  BILLING_PLANS,
  InternalError,
  describeIssues,
  poNumberSchema,
  type BillingAccount,
  type Invoice,
  type NewInvoice,
} from '@tributary/core';
import type { Database, Executor } from './database.js';
import { internalTable, type Dialect } from './dialect.js';
import { dateFromDatabase } from './values.js';
import { storageFailure } from './errors.js';
import { isStoreId } from './installation-checks.js';

const newInvoiceSchema = z
  .object({
    installationId: z.string().refine(isStoreId, 'must be an installation id'),
    plan: z.enum(BILLING_PLANS),
    periodStart: z.date(),
    periodEnd: z.date(),
    amountMinor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    currency: z.string().regex(/^[A-Z]{3}$/),
    poNumber: poNumberSchema.optional(),
    issuedAt: z.date(),
  })
  .refine((i) => i.periodEnd.getTime() > i.periodStart.getTime(), { message: 'periodEnd must be after periodStart' });

const filterSchema = z.object({ workspace: z.string().optional(), installationId: z.string().optional() }).default({});

interface InvoiceRecord {
  id: string;
  installation_id: string;
  workspace: string;
  app: string;
  plan: Invoice['plan'];
  period_start: Date | string;
  period_end: Date | string;
  amount_minor: number | string;
  currency: string;
  po_number: string | null;
  issued_at: Date | string;
}


function toInvoice(row: InvoiceRecord): Invoice {
  return {
    id: row.id,
    installationId: row.installation_id,
    workspace: row.workspace,
    app: row.app,
    plan: row.plan,
    periodStart: dateFromDatabase(row.period_start),
    periodEnd: dateFromDatabase(row.period_end),
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    ...(row.po_number ? { poNumber: row.po_number } : {}),
    issuedAt: dateFromDatabase(row.issued_at),
  };
}

/** Invoices: recorded idempotently (one per installation and period start), listed per workspace. */
export class Invoices {
  constructor(private readonly db: Database) {}

  private get dialect(): Dialect {
    return this.db.dialect;
  }

  private async select(db: Executor, where: { workspace?: string; installationId?: string; ids?: readonly string[] }): Promise<Invoice[]> {
    const dialect = this.dialect;
    const conditions: string[] = [];
    const params: unknown[] = [];
    const bind = (value: unknown) => {
      params.push(value);
      return dialect.placeholder(params.length);
    };
    if (where.workspace !== undefined) conditions.push(`w."name" = ${bind(where.workspace)}`);
    if (where.installationId !== undefined) conditions.push(`i."installation_id" = ${bind(where.installationId)}`);
    if (where.ids !== undefined) conditions.push(`i."id" IN (${where.ids.map((id) => bind(id)).join(', ')})`);
    const rows = await db.query<InvoiceRecord>(
      `SELECT i."id", i."installation_id", w."name" AS "workspace", inst."app", i."plan", i."period_start", i."period_end",
              i."amount_minor", i."currency", i."po_number", i."issued_at"
         FROM ${internalTable(dialect, 'invoices').sql} i
         JOIN ${internalTable(dialect, 'installations').sql} inst ON inst."id" = i."installation_id"
         JOIN ${internalTable(dialect, 'workspaces').sql} w ON w."id" = inst."workspace_id"
        ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY i."period_start", w."name", inst."app", i."id"`,
      params,
    );
    return rows.map(toInvoice);
  }

  async record(input: readonly NewInvoice[]): Promise<Invoice[]> {
    const parsed = z.array(newInvoiceSchema).safeParse(input);
    // Invoices come from the billing code, never from a person: a malformed one is a bug.
    if (!parsed.success) throw new InternalError('INVOICE_INVALID', `Invalid invoices: ${describeIssues(parsed.error)}`);
    if (parsed.data.length === 0) return [];
    const dialect = this.dialect;
    try {
      return await this.db.transaction(async (tx) => {
        const fresh = await this.withoutOverlaps(tx, parsed.data);
        if (fresh.length === 0) return [];
        const ids: string[] = [];
        for (const statement of dialect.buildInsert({
          table: internalTable(dialect, 'invoices'),
          columns: [
            { name: 'id', type: 'uuid' },
            { name: 'installation_id', type: 'uuid' },
            { name: 'plan', type: 'text' },
            { name: 'period_start', type: 'timestamp' },
            { name: 'period_end', type: 'timestamp' },
            { name: 'amount_minor', type: 'bigint' },
            { name: 'currency', type: 'text' },
            { name: 'po_number', type: 'text' },
            { name: 'issued_at', type: 'timestamp' },
          ],
          rows: fresh.map((i) => [
            randomUUID(),
            i.installationId,
            i.plan,
            i.periodStart.toISOString(),
            i.periodEnd.toISOString(),
            i.amountMinor,
            i.currency,
            i.poNumber ?? null,
            i.issuedAt.toISOString(),
          ]),
          // The unique key makes a period billed once, however many runners produce invoices at once.
          conflictKey: ['installation_id', 'period_start'],
          onConflict: { action: 'nothing' },
          returning: ['id'],
        })) {
          for (const row of await tx.run<{ id: string }>(statement)) ids.push(row.id);
        }
        return ids.length === 0 ? [] : this.select(tx, { ids });
      });
    } catch (error) {
      throw storageFailure('record invoices', error);
    }
  }

  /**
   * Leaves out invoices whose period overlaps one already recorded, under a per-installation lock:
   * two runners that computed periods under different plans (a plan changed in between) must not
   * both bill the same months. The unique key on the period start backs this up.
   */
  private async withoutOverlaps(tx: Executor, invoices: readonly NewInvoice[]): Promise<NewInvoice[]> {
    const dialect = this.dialect;
    const installationIds = [...new Set(invoices.map((i) => i.installationId))].sort();
    for (const id of installationIds) {
      const lock = dialect.transactionLock(`billing:${id}`);
      if (lock) await tx.run(lock);
    }
    const existing = await tx.query<{ installation_id: string; period_start: Date | string; period_end: Date | string }>(
      `SELECT "installation_id", "period_start", "period_end" FROM ${internalTable(dialect, 'invoices').sql}
        WHERE "installation_id" IN (${installationIds.map((_, i) => dialect.placeholder(i + 1)).join(', ')})`,
      installationIds,
    );
    const taken = existing.map((e) => ({ id: e.installation_id, start: dateFromDatabase(e.period_start).getTime(), end: dateFromDatabase(e.period_end).getTime() }));
    const fresh: NewInvoice[] = [];
    for (const invoice of invoices) {
      const start = invoice.periodStart.getTime();
      const end = invoice.periodEnd.getTime();
      if (taken.some((t) => t.id === invoice.installationId && t.start < end && start < t.end)) continue;
      taken.push({ id: invoice.installationId, start, end });
      fresh.push(invoice);
    }
    return fresh;
  }

  /** Every installation as billing needs it, with the end of its latest invoice, in one statement. */
  async accounts(): Promise<BillingAccount[]> {
    const dialect = this.dialect;
    const installations = internalTable(dialect, 'installations').sql;
    try {
      const rows = await this.db.withConnection((db) =>
        db.query<{
          id: string;
          workspace: string;
          app: string;
          status: BillingAccount['status'];
          created_at: Date | string;
          uninstalled_at: Date | string | null;
          billing_plan: BillingAccount['billing']['plan'];
          billing_po: string | null;
          billed_until: Date | string | null;
        }>(
          `SELECT inst."id", w."name" AS "workspace", inst."app", inst."status", inst."created_at", inst."uninstalled_at",
                  inst."billing_plan", inst."billing_po",
                  (SELECT MAX(v."period_end") FROM ${internalTable(dialect, 'invoices').sql} v WHERE v."installation_id" = inst."id") AS "billed_until"
             FROM ${installations} inst
             JOIN ${internalTable(dialect, 'workspaces').sql} w ON w."id" = inst."workspace_id"
            ORDER BY inst."created_at", inst."id"`,
        ),
      );
      return rows.map((row) => ({
        installationId: row.id,
        workspace: row.workspace,
        app: row.app,
        status: row.status,
        installedAt: dateFromDatabase(row.created_at),
        ...(row.uninstalled_at === null ? {} : { uninstalledAt: dateFromDatabase(row.uninstalled_at) }),
        billing: { plan: row.billing_plan, ...(row.billing_po ? { poNumber: row.billing_po } : {}) },
        ...(row.billed_until === null ? {} : { billedUntil: dateFromDatabase(row.billed_until) }),
      }));
    } catch (error) {
      throw storageFailure('list the installations to bill', error);
    }
  }

  async list(input?: { workspace?: string; installationId?: string }): Promise<Invoice[]> {
    const filter = filterSchema.parse(input);
    if (filter.installationId !== undefined && !isStoreId(filter.installationId)) return [];
    try {
      return await this.db.withConnection((db) => this.select(db, filter));
    } catch (error) {
      throw storageFailure('list invoices', error);
    }
  }
}
