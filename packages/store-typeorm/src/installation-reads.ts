import { In } from 'typeorm';
import { parseUserInput, type Installation, type InstallationSummary, type DataModel } from '@tributary/core';
import { appTablesOf, INSTALLATION_COLUMN } from './app-tables.js';
import { billingOf } from './lifecycle.js';
import type { Database, Executor } from './database.js';
import { internalTable } from './dialect.js';
import type { InstallationRow, InstallationSecretRow } from './entities.js';
import { storageFailure } from './errors.js';
import { isStoreId, notFound, storedDataModel, workspaceNameSchema } from './installation-checks.js';
import { openInstallation } from './installation-secrets.js';
import type { SecretCipher } from './secrets.js';
import { dateFromDatabase } from './values.js';

// Reading installations: one by id or by app, lists and summaries of a workspace's, the row counts of
// one. Installing, changing and uninstalling are installations.ts.

/** An installation row as {@link InstallationReads.summaries} reads it. */
interface SummaryRow {
  id: string;
  app: string;
  status: 'active' | 'uninstalled';
  config: unknown;
  created_at: Date | string;
  updated_at: Date | string;
  uninstalled_at: Date | string | null;
  billing_plan: 'monthly' | 'yearly';
  billing_po: string | null;
  purged_at: Date | string | null;
  connector_version: string | null;
  retention_days: number | string | null;
}

/** Installations as read: secrets opened (or, listing, set aside when they cannot be). */
export class InstallationReads {
  constructor(
    private readonly db: Database,
    private readonly cipher: SecretCipher,
  ) {}

  private get entities() {
    return this.db.dialect.entities;
  }

  /** Loads installations with their workspace names and secrets, in one query per table. */
  private async hydrateAll(db: Executor, rows: readonly InstallationRow[], tolerant = false): Promise<Installation[]> {
    if (rows.length === 0) return [];
    const workspaces = await db.manager
      .getRepository(this.entities.Workspace)
      .findBy({ id: In([...new Set(rows.map((r) => r.workspaceId))]) });
    const names = new Map(workspaces.map((w) => [w.id, w.name]));
    const secrets = await db.manager
      .getRepository(this.entities.InstallationSecret)
      .findBy({ installationId: In(rows.map((r) => r.id)) });
    const secretsByInstallation = new Map<string, typeof secrets>();
    for (const secret of secrets) {
      const list = secretsByInstallation.get(secret.installationId);
      if (list) list.push(secret);
      else secretsByInstallation.set(secret.installationId, [secret]);
    }
    return rows.map((row) => openInstallation(this.cipher, row, names.get(row.workspaceId) ?? '', secretsByInstallation.get(row.id) ?? [], tolerant));
  }

  async get(id: string): Promise<Installation | undefined> {
    if (!isStoreId(id)) return undefined;
    return this.read(`read installation ${id}`, async (db) => {
      const row = await db.manager.getRepository(this.entities.Installation).findOneBy({ id });
      return row ? (await this.hydrateAll(db, [row]))[0] : undefined;
    });
  }

  /**
   * An installation, its secrets opened, and its schedule row, in one plain-SQL query (one row per
   * secret): what a scheduled run reads once it holds the run lock, where three TypeORM reads and a
   * schedule read cost a round trip each for every job of the fleet.
   */
  async getWithSchedule(id: string): Promise<{ installation: Installation | undefined; schedule: Record<string, unknown> | undefined }> {
    if (!isStoreId(id)) return { installation: undefined, schedule: undefined };
    const t = (name: 'installations' | 'workspaces' | 'schedules' | 'installation_secrets') => internalTable(this.db.dialect, name).sql;
    const sql = `SELECT i."id", i."workspace_id", i."app", i."status", i."config", i."data_model", i."mappings", i."customer_table",
                        i."created_at", i."updated_at", i."uninstalled_at", i."billing_plan", i."billing_po", i."purged_at",
                        i."connector_version", i."retention_days", w."name" AS "workspace_name",
                        s."installation_id" AS "s_installation_id", s."next_run_at" AS "s_next_run_at", s."attempts" AS "s_attempts",
                        s."version" AS "s_version", s."last_started_at" AS "s_last_started_at", s."last_finished_at" AS "s_last_finished_at",
                        s."last_status" AS "s_last_status", s."last_error_code" AS "s_last_error_code",
                        k."name" AS "k_name", k."key_id" AS "k_key_id", k."iv" AS "k_iv", k."ciphertext" AS "k_ciphertext", k."tag" AS "k_tag",
                        k."updated_at" AS "k_updated_at"
                   FROM ${t('installations')} i
                   JOIN ${t('workspaces')} w ON w."id" = i."workspace_id"
                   LEFT JOIN ${t('schedules')} s ON s."installation_id" = i."id"
                   LEFT JOIN ${t('installation_secrets')} k ON k."installation_id" = i."id"
                  WHERE i."id" = ${this.db.dialect.placeholder(1)}`;
    // Read by every job of the runner: prepared.
    const rows = await this.read(`read installation ${id}`, (db) => db.run<Record<string, unknown>>({ sql, params: [id], prepare: true }));
    const first = rows[0];
    if (!first) return { installation: undefined, schedule: undefined };
    // SQLite hands back JSON as text and timestamps as ISO-8601 text; PostgreSQL parsed values.
    const json = (value: unknown): object => (typeof value === 'string' ? (JSON.parse(value) as object) : (value as object));
    const time = (value: unknown): Date => (value instanceof Date ? value : new Date(value as string));
    const optionalTime = (value: unknown): Date | null => (value === null || value === undefined ? null : time(value));
    const row: InstallationRow = {
      id: first.id as string,
      workspaceId: first.workspace_id as string,
      app: first.app as string,
      status: first.status as InstallationRow['status'],
      config: json(first.config),
      dataModel: json(first.data_model),
      mappings: json(first.mappings),
      customerTable: first.customer_table === null ? null : json(first.customer_table),
      createdAt: time(first.created_at),
      updatedAt: time(first.updated_at),
      uninstalledAt: optionalTime(first.uninstalled_at),
      billingPlan: first.billing_plan as InstallationRow['billingPlan'],
      billingPo: (first.billing_po as string | null) ?? null,
      purgedAt: optionalTime(first.purged_at),
      connectorVersion: (first.connector_version as string | null) ?? null,
      retentionDays: first.retention_days === null ? null : Number(first.retention_days),
    };
    const secrets: InstallationSecretRow[] = rows
      .filter((r) => r.k_name !== null && r.k_name !== undefined)
      .map((r) => ({
        installationId: row.id,
        name: r.k_name as string,
        keyId: r.k_key_id as string,
        iv: r.k_iv as string,
        ciphertext: r.k_ciphertext as string,
        tag: r.k_tag as string,
        updatedAt: time(r.k_updated_at),
      }));
    const schedule =
      first.s_installation_id === null || first.s_installation_id === undefined
        ? undefined
        : Object.fromEntries(Object.entries(first).filter(([key]) => key.startsWith('s_')).map(([key, value]) => [key.slice(2), value]));
    return { installation: openInstallation(this.cipher, row, first.workspace_name as string, secrets), schedule };
  }

  /** An installation's app and data model, without opening its secrets (which may be unreadable). */
  async appModel(id: string): Promise<{ app: string; dataModel: DataModel } | undefined> {
    if (!isStoreId(id)) return undefined;
    return this.read(`read installation ${id}`, async (db) => {
      const row = await db.manager.getRepository(this.entities.Installation).findOneBy({ id });
      return row ? { app: row.app, dataModel: storedDataModel(row.dataModel, `Installation ${id}`) } : undefined;
    });
  }

  async find(workspace: string, app: string): Promise<Installation | undefined> {
    return this.read(`find app "${app}" in workspace "${workspace}"`, async (db) => {
      const ws = await db.manager.getRepository(this.entities.Workspace).findOneBy({ name: workspace });
      if (!ws) return undefined;
      const row = await db.manager
        .getRepository(this.entities.Installation)
        .findOneBy({ workspaceId: ws.id, app, status: 'active' });
      return row ? (await this.hydrateAll(db, [row]))[0] : undefined;
    });
  }

  async list(workspace?: string): Promise<Installation[]> {
    return this.read('list installations', async (db) => {
      let where = {};
      if (workspace !== undefined) {
        const ws = await db.manager.getRepository(this.entities.Workspace).findOneBy({ name: workspace });
        if (!ws) return [];
        where = { workspaceId: ws.id };
      }
      const rows = await db.manager.getRepository(this.entities.Installation).find({ where, order: { createdAt: 'ASC', id: 'ASC' } });
      return this.hydrateAll(db, rows, true);
    });
  }

  /**
   * A workspace's installations for a list, in one statement: the stored plain settings, no secret
   * decrypted, no mappings or data model parsed (the API's app list asks on every page view).
   */
  async summaries(workspace: string): Promise<InstallationSummary[]> {
    const name = parseUserInput(workspaceNameSchema, workspace, 'workspace');
    const dialect = this.db.dialect;
    const t = (table: string) => internalTable(dialect, table).sql;
    return this.read('list installations', async (db) => {
      const rows = await db.query<SummaryRow>(
        `SELECT i."id", i."app", i."status", i."config", i."created_at", i."updated_at", i."uninstalled_at", i."billing_plan",
                i."billing_po", i."purged_at", i."connector_version", i."retention_days"
           FROM ${t('installations')} i
           JOIN ${t('workspaces')} w ON w."id" = i."workspace_id"
          WHERE w."name" = ${dialect.placeholder(1)}
          ORDER BY i."created_at", i."id"`,
        [name],
      );
      return rows.map((row) => {
        const config = typeof row.config === 'string' ? (JSON.parse(row.config) as unknown) : row.config;
        return {
          id: row.id,
          workspace: name,
          app: row.app,
          status: row.status,
          settings: config !== null && typeof config === 'object' ? { ...(config as Record<string, unknown>) } : {},
          createdAt: dateFromDatabase(row.created_at),
          updatedAt: dateFromDatabase(row.updated_at),
          ...(row.uninstalled_at === null ? {} : { uninstalledAt: dateFromDatabase(row.uninstalled_at) }),
          billing: billingOf({ billingPlan: row.billing_plan, billingPo: row.billing_po }),
          ...(row.purged_at === null ? {} : { purgedAt: dateFromDatabase(row.purged_at) }),
          ...(row.connector_version ? { connectorVersion: row.connector_version } : {}),
          ...(row.retention_days ? { retentionDays: Number(row.retention_days) } : {}),
        };
      });
    });
  }

  async countRows(id: string): Promise<Record<string, number>> {
    if (!isStoreId(id)) throw notFound(id);
    return this.read(`count the rows of installation ${id}`, async (db) => {
      const row = await db.manager.getRepository(this.entities.Installation).findOneBy({ id });
      if (!row) throw notFound(id);
      const counts: Record<string, number> = {};
      const p = this.db.dialect.placeholder(1);
      for (const table of appTablesOf(this.db.dialect, row.app, storedDataModel(row.dataModel, `Installation ${id}`))) {
        const [result] = await db.query<{ n: number | string }>(
          `SELECT count(*) AS n FROM ${table.table.sql} WHERE "${INSTALLATION_COLUMN}" = ${p}`,
          [id],
        );
        counts[table.table.name] = Number(result?.n ?? 0);
      }
      return counts;
    });
  }

  private async read<T>(action: string, work: (db: Executor) => Promise<T>): Promise<T> {
    try {
      return await this.db.withConnection(work);
    } catch (error) {
      throw storageFailure(action, error);
    }
  }
}
