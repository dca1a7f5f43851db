import { randomUUID } from 'node:crypto';
import { In, IsNull } from 'typeorm';
import { z } from 'zod';
import {
  ConfigError,
  StorageError,
  billingSettingsSchema,
  dataModelSchema,
  describeIssues,
  identifierSchema,
  mappingSchema,
  operatorNameSchema,
  parseUserInput,
  validateMappings,
  type CustomerTableLink,
  type DataModel,
  type Installation,
  type InstallationSummary,
  type Logger,
  type Mapping,
  type NewInstallation,
  type Store,
} from '@tributary/core';
import { appTablesOf, INSTALLATION_COLUMN, provisionAppTables } from './app-tables.js';
import type { WorkspaceAdmins } from './workspace-admins.js';
import { billingColumns, billingOf, dropAppTablesWhenUnused } from './lifecycle.js';
import { checkCustomerTable, storedCustomerTable } from './customer-table.js';
import type { Database, Executor } from './database.js';
import { internalTable, type Dialect } from './dialect.js';
import { personTablesOf } from './person-tables.js';
import type { InstallationRow, InstallationSecretRow } from './entities.js';
import { isUniqueViolation, storageFailure } from './errors.js';
import type { SecretCipher } from './secrets.js';
import { dateFromDatabase } from './values.js';
import { neverSyncedRunAt } from './scheduling.js';

/** The changes `updateInstallation` accepts (named in core's store port). */
export type InstallationChanges = Parameters<Store['updateInstallation']>[1];
/** How to uninstall (named in core's store port). */
export type UninstallOptions = Parameters<Store['uninstall']>[1];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a store-assigned id; anything else cannot name a row (and PostgreSQL would refuse it). */
export function isStoreId(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id);
}

const workspaceNameSchema = z.string().trim().min(1).max(200);

const newInstallationSchema = z.object({
  workspace: workspaceNameSchema,
  app: identifierSchema,
  config: z.record(z.string(), z.unknown()),
  secretFields: z.array(z.string().min(1)),
  mappings: z.array(z.unknown()),
  dataModel: z.unknown(),
  customerTable: z.unknown().optional(),
  billing: billingSettingsSchema.optional(),
  actor: operatorNameSchema.optional(),
  connectorVersion: z.string().min(1).max(64).optional(),
  reattach: z.uuid().nullable().optional(),
  retentionDays: z.number().int().min(1).max(36_500).optional(),
});

const changesSchema = z
  .object({
    config: z.record(z.string(), z.unknown()).optional(),
    secretFields: z.array(z.string().min(1)).optional(),
    mappings: z.array(z.unknown()).optional(),
    dataModel: z.unknown().optional(),
    customerTable: z.unknown().optional(),
    billing: billingSettingsSchema.optional(),
    connectorVersion: z.string().min(1).max(64).optional(),
    retentionDays: z.number().int().min(1).max(36_500).nullable().optional(),
  })
  .refine((c) => (c.config === undefined) === (c.secretFields === undefined), {
    message: 'config and secretFields go together',
  });

const storedMappingsSchema = z.array(mappingSchema);

/** Retention ages records by their time: an app whose data model names none cannot have it. */
/** An installation row as {@link Installations.summaries} reads it. */
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

function checkRetention(dialect: Dialect, app: string, model: DataModel): void {
  if (personTablesOf(dialect, app, model).time === undefined) {
    throw new ConfigError('CONFIG_INVALID', `App "${app}" declares no response time in its data model, so its records cannot be kept for a number of days.`, {
      hint: 'Leave out the retention period for this app.',
    });
  }
}

/** Binds a sealed secret to its row: a value copied to another installation or field does not open. */
export function secretContext(installationId: string, name: string): string {
  return `tributary:installation:${installationId}:${name}`;
}

function splitConfig(config: Record<string, unknown>, secretFields: readonly string[]) {
  const plain: Record<string, unknown> = {};
  const secrets: [string, unknown][] = [];
  const secretNames = new Set(secretFields);
  for (const [name, value] of Object.entries(config)) {
    if (!secretNames.has(name)) plain[name] = value;
    else if (value !== undefined) secrets.push([name, value]);
  }
  return { plain, secrets };
}

/** Reads a data model back from the database, where it was stored valid; anything else is damage. */
export function storedDataModel(value: unknown, what: string): DataModel {
  const parsed = dataModelSchema.safeParse(value);
  if (!parsed.success) throw new StorageError('STORE_DATA_INVALID', `${what} holds an invalid data model: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The error for an id that names no installation. */
export function notFound(id: string): ConfigError {
  return new ConfigError('INSTALLATION_NOT_FOUND', `No installation has the id "${id}".`, {
    hint: 'List the installations and their ids with: tributary apps --json',
  });
}

/** Installations: install, read (secrets decrypted), change, uninstall. */
export class Installations {
  constructor(
    private readonly db: Database,
    private readonly cipher: SecretCipher,
    private readonly logger: Logger,
    private readonly admins: WorkspaceAdmins,
  ) {}

  private get entities() {
    return this.db.dialect.entities;
  }

  private seal(installationId: string, secrets: readonly [string, unknown][], now: Date): InstallationSecretRow[] {
    return secrets.map(([name, value]) => ({
      installationId,
      name,
      // JSON keeps a secret's type: a numeric PIN comes back as a number.
      ...this.cipher.encrypt(JSON.stringify(value), secretContext(installationId, name)),
      updatedAt: now,
    }));
  }

  /**
   * `tolerant` (listing) leaves a secret that cannot be opened out of the config and says why in
   * `secretError`, so that one installation sealed with a missing key does not hide the others.
   */
  private hydrate(row: InstallationRow, workspace: string, secrets: readonly InstallationSecretRow[], tolerant = false): Installation {
    const what = `Installation ${row.id}`;
    const mappings = storedMappingsSchema.safeParse(row.mappings);
    if (!mappings.success) throw new StorageError('STORE_DATA_INVALID', `${what} holds invalid mappings: ${describeIssues(mappings.error)}`);
    const config: Record<string, unknown> = { ...(row.config as Record<string, unknown>) };
    let secretError: string | undefined;
    for (const secret of secrets) {
      try {
        config[secret.name] = JSON.parse(this.cipher.decrypt(secret, secretContext(row.id, secret.name)));
      } catch (error) {
        if (!tolerant) throw error;
        secretError ??= (error as Error).message;
      }
    }
    const customerTable = storedCustomerTable(row.customerTable);
    return {
      id: row.id,
      workspace,
      app: row.app,
      status: row.status,
      config,
      mappings: mappings.data,
      dataModel: storedDataModel(row.dataModel, what),
      ...(customerTable ? { customerTable } : {}),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      ...(row.uninstalledAt ? { uninstalledAt: row.uninstalledAt } : {}),
      billing: billingOf(row),
      ...(row.purgedAt ? { purgedAt: row.purgedAt } : {}),
      ...(row.connectorVersion ? { connectorVersion: row.connectorVersion } : {}),
      ...(row.retentionDays ? { retentionDays: row.retentionDays } : {}),
      ...(secretError ? { secretError } : {}),
    };
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
    return rows.map((row) => this.hydrate(row, names.get(row.workspaceId) ?? '', secretsByInstallation.get(row.id) ?? [], tolerant));
  }

  /** Reads an installation row inside a transaction, holding the installation's write lock. */
  async lockedRow(tx: Executor, id: string): Promise<InstallationRow> {
    if (!isStoreId(id)) throw notFound(id);
    const lock = this.db.dialect.transactionLock(`installation:${id}`);
    if (lock) await tx.run(lock);
    const row = await tx.manager.getRepository(this.entities.Installation).findOneBy({ id });
    if (!row) throw notFound(id);
    return row;
  }

  async install(input: NewInstallation): Promise<Installation> {
    const base = parseUserInput(newInstallationSchema, input, 'installation');
    const dataModel = parseUserInput(dataModelSchema, base.dataModel, 'data model');
    if (base.retentionDays !== undefined) checkRetention(this.db.dialect, base.app, dataModel);
    const mappings = validateMappings(base.mappings as Mapping[], dataModel);
    appTablesOf(this.db.dialect, base.app, dataModel);
    const now = new Date();
    const { plain, secrets } = splitConfig(base.config, base.secretFields);
    const duplicate = () =>
      new ConfigError('INSTALLATION_EXISTS', `App "${base.app}" is already installed in workspace "${base.workspace}".`, {
        hint: 'Change it instead (tributary app token, tributary mappings, tributary app billing), or uninstall it first.',
      });
    try {
      const installation = await this.db.transaction(async (tx) => {
        const workspaces = tx.manager.getRepository(this.entities.Workspace);
        const installations = tx.manager.getRepository(this.entities.Installation);
        await workspaces.createQueryBuilder().insert().values({ id: randomUUID(), name: base.workspace, createdAt: now }).orIgnore().execute();
        const workspace = await workspaces.findOneByOrFail({ name: base.workspace });
        if (base.actor !== undefined) await this.admins.authorize(tx, workspace, base.actor, `install ${base.app}`, now);
        if (await installations.existsBy({ workspaceId: workspace.id, app: base.app, status: 'active' })) throw duplicate();
        const report = await provisionAppTables(tx, this.db.dialect, base.app, dataModel, now);
        const customerTable: CustomerTableLink | undefined =
          base.customerTable === undefined ? undefined : await checkCustomerTable(tx, this.db.dialect, base.customerTable);
        // App rows, contacts and checkpoints are keyed by the installation id: reusing the id of the
        // newest uninstall that kept its data reattaches all of it, and the next sync resumes.
        const keptWhere = { workspaceId: workspace.id, app: base.app, status: 'uninstalled' as const, purgedAt: IsNull() };
        const kept =
          base.reattach === null
            ? null
            : await installations.findOne({
                where: base.reattach === undefined ? keptWhere : { ...keptWhere, id: base.reattach },
                order: { uninstalledAt: 'DESC', createdAt: 'DESC' },
              });
        if (base.reattach && !kept) {
          throw new ConfigError('INSTALLATION_NOT_FOUND', `Workspace "${base.workspace}" has no uninstalled ${base.app} installation ${base.reattach} whose data was kept.`);
        }
        const id = kept?.id ?? randomUUID();
        // The install moment is now, also for a reattached installation: billing starts again from
        // it (the months it was uninstalled are not billed) and older responses count as backfilled.
        const settings = {
          status: 'active' as const,
          createdAt: now,
          config: plain,
          dataModel,
          mappings,
          customerTable: customerTable ?? null,
          updatedAt: now,
          uninstalledAt: null,
          connectorVersion: base.connectorVersion ?? null,
          retentionDays: base.retentionDays ?? null,
          ...billingColumns(base.billing),
        };
        const row: InstallationRow = kept
          ? { ...kept, ...settings }
          : { id, workspaceId: workspace.id, app: base.app, purgedAt: null, ...settings };
        if (kept) await installations.update({ id }, settings);
        else await installations.insert(row);
        const sealed = this.seal(id, secrets, now);
        if (sealed.length > 0) await tx.manager.getRepository(this.entities.InstallationSecret).insert(sealed);
        // Due at once, found by the tick through the index on next_run_at (see scheduling.ts). A
        // reattached installation keeps the schedule it had.
        const p = (n: number) => this.db.dialect.placeholder(n);
        await tx.query(
          `INSERT INTO ${internalTable(this.db.dialect, 'schedules').sql} ("installation_id", "next_run_at", "attempts", "version", "updated_at")
           VALUES (${p(1)}, ${p(2)}, 0, 1, ${p(3)}) ON CONFLICT ("installation_id") DO NOTHING`,
          [id, neverSyncedRunAt(now).toISOString(), now.toISOString()],
        );
        this.logger.info({ workspace: base.workspace, app: base.app, installationId: id, reattached: Boolean(kept), ...report }, 'app installed');
        return this.hydrate(row, workspace.name, sealed);
      });
      return installation;
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicate();
      throw storageFailure(`install app "${base.app}" in workspace "${base.workspace}"`, error);
    }
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
    return { installation: this.hydrate(row, first.workspace_name as string, secrets), schedule };
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

  async provision(installation: Installation): Promise<void> {
    const app = parseUserInput(identifierSchema, installation.app, 'app id');
    const dataModel = parseUserInput(dataModelSchema, installation.dataModel, 'data model');
    try {
      const report = await this.db.transaction((tx) => provisionAppTables(tx, this.db.dialect, app, dataModel, new Date()));
      this.logger.info({ installationId: installation.id, app, ...report }, 'app tables provisioned');
    } catch (error) {
      throw storageFailure(`provision the tables of app "${app}"`, error);
    }
  }

  async update(id: string, input: InstallationChanges): Promise<Installation> {
    const changes = parseUserInput(changesSchema, input, 'installation changes');
    try {
      return await this.db.transaction(async (tx) => {
        const row = await this.lockedRow(tx, id);
        if (row.status !== 'active') throw new ConfigError('INSTALLATION_NOT_ACTIVE', `Installation ${id} is uninstalled and cannot change.`);
        const now = new Date();
        const dataModel =
          changes.dataModel === undefined
            ? storedDataModel(row.dataModel, `Installation ${id}`)
            : parseUserInput(dataModelSchema, changes.dataModel, 'data model');
        const mappings = validateMappings((changes.mappings ?? row.mappings) as Mapping[], dataModel);
        if (changes.dataModel !== undefined) {
          const report = await provisionAppTables(tx, this.db.dialect, row.app, dataModel, now);
          this.logger.info({ installationId: id, ...report }, 'app tables provisioned');
        }
        let customerTable = row.customerTable;
        if (changes.customerTable === null) customerTable = null;
        else if (changes.customerTable !== undefined) customerTable = await checkCustomerTable(tx, this.db.dialect, changes.customerTable);
        let config = row.config;
        const secretsRepository = tx.manager.getRepository(this.entities.InstallationSecret);
        if (changes.config !== undefined) {
          const { plain, secrets } = splitConfig(changes.config, changes.secretFields ?? []);
          config = plain;
          await secretsRepository.delete({ installationId: id });
          const sealed = this.seal(id, secrets, now);
          if (sealed.length > 0) await secretsRepository.insert(sealed);
        }
        const billing = changes.billing === undefined ? { billingPlan: row.billingPlan, billingPo: row.billingPo } : billingColumns(changes.billing);
        const connectorVersion = changes.connectorVersion ?? row.connectorVersion;
        if (changes.retentionDays) checkRetention(this.db.dialect, row.app, dataModel);
        const retentionDays = changes.retentionDays === undefined ? row.retentionDays : changes.retentionDays;
        const updated: InstallationRow = { ...row, config, dataModel, mappings, customerTable, ...billing, connectorVersion, retentionDays, updatedAt: now };
        await tx.manager
          .getRepository(this.entities.Installation)
          .update({ id }, { config, dataModel, mappings, customerTable, ...billing, connectorVersion, retentionDays, updatedAt: now });
        const workspace = await tx.manager.getRepository(this.entities.Workspace).findOneByOrFail({ id: row.workspaceId });
        return this.hydrate(updated, workspace.name, await secretsRepository.findBy({ installationId: id }));
      });
    } catch (error) {
      throw storageFailure(`change installation ${id}`, error);
    }
  }

  async uninstall(id: string, options: UninstallOptions): Promise<void> {
    const { purge, at, actor } = parseUserInput(
      z.object({ purge: z.boolean(), at: z.date(), actor: operatorNameSchema.optional() }),
      options,
      'uninstall options',
    );
    try {
      await this.db.transaction(async (tx) => {
        const row = await this.lockedRow(tx, id);
        if (actor !== undefined) {
          const workspace = await tx.manager.getRepository(this.entities.Workspace).findOneByOrFail({ id: row.workspaceId });
          await this.admins.authorize(tx, workspace, actor, `remove ${row.app}`, new Date());
        }
        if (purge && row.purgedAt) {
          throw new ConfigError(
            'APP_ALREADY_PURGED',
            `The data of installation ${id} (${row.app}) was already purged on ${row.purgedAt.toISOString()}; nothing is left to delete.`,
          );
        }
        const installations = tx.manager.getRepository(this.entities.Installation);
        if (row.status === 'active') await installations.update({ id }, { status: 'uninstalled', uninstalledAt: at, updatedAt: at });
        // The token is useless once uninstalled; keeping it would only keep a risk.
        await tx.manager.getRepository(this.entities.InstallationSecret).delete({ installationId: id });
        let dropped: string[] = [];
        if (purge) {
          await this.purge(tx, row);
          await installations.update({ id }, { purgedAt: at });
          dropped = await dropAppTablesWhenUnused(tx, this.db.dialect, row.app);
        }
        this.logger.info({ installationId: id, app: row.app, purge, dropped }, 'app uninstalled');
      });
    } catch (error) {
      throw storageFailure(`uninstall installation ${id}`, error);
    }
  }

  /**
   * Deletes everything an installation collected: app rows, contacts, checkpoints, rejected records,
   * saved feedback, and the profile evaluations over its data with the members and membership
   * changes they recorded (e-mails all of them). Profiles themselves belong to the workspace and stay.
   */
  private async purge(tx: Executor, row: InstallationRow): Promise<void> {
    const dialect = this.db.dialect;
    const p = dialect.placeholder(1);
    const evaluations = `SELECT "id" FROM ${internalTable(dialect, 'profile_evaluations').sql} WHERE "installation_id" = ${p}`;
    await tx.query(`DELETE FROM ${internalTable(dialect, 'profile_membership_changes').sql} WHERE "evaluation_id" IN (${evaluations})`, [row.id]);
    await tx.query(`DELETE FROM ${internalTable(dialect, 'profile_members').sql} WHERE "since_evaluation_id" IN (${evaluations})`, [row.id]);
    await tx.query(`DELETE FROM ${internalTable(dialect, 'profile_evaluations').sql} WHERE "installation_id" = ${p}`, [row.id]);
    for (const table of appTablesOf(dialect, row.app, storedDataModel(row.dataModel, `Installation ${row.id}`))) {
      await tx.query(`DELETE FROM ${table.table.sql} WHERE "${INSTALLATION_COLUMN}" = ${p}`, [row.id]);
    }
    await tx.manager.getRepository(this.entities.Checkpoint).delete({ installationId: row.id });
    await tx.manager.getRepository(this.entities.RejectedRecord).delete({ installationId: row.id });
    await tx.manager.getRepository(this.entities.Run).update({ installationId: row.id }, { saved: [] });
    await tx.query(
      `DELETE FROM ${internalTable(dialect, 'run_saved').sql} WHERE "run_id" IN (SELECT "id" FROM ${internalTable(dialect, 'runs').sql} WHERE "installation_id" = ${p})`,
      [row.id],
    );
  }

  private async read<T>(action: string, work: (db: Executor) => Promise<T>): Promise<T> {
    try {
      return await this.db.withConnection(work);
    } catch (error) {
      throw storageFailure(action, error);
    }
  }
}
