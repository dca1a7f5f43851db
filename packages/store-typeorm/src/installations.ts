import { randomUUID } from 'node:crypto';
import { IsNull } from 'typeorm';
import { z } from 'zod';
import {
  ConfigError,
  billingSettingsSchema,
  dataModelSchema,
  identifierSchema,
  operatorNameSchema,
  parseUserInput,
  validateMappings,
  type CustomerTableLink,
  type DataModel,
  type Installation,
  type Logger,
  type Mapping,
  type NewInstallation,
  type Store,
} from '@tributary/core';
import { appTablesOf, INSTALLATION_COLUMN, provisionAppTables } from './app-tables.js';
import type { WorkspaceAdmins } from './workspace-admins.js';
import { billingColumns, dropAppTablesWhenUnused } from './lifecycle.js';
import { checkCustomerTable } from './customer-table.js';
import type { Database, Executor } from './database.js';
import { internalTable, type Dialect } from './dialect.js';
import { personTablesOf } from './person-tables.js';
import type { InstallationRow } from './entities.js';
import { isUniqueViolation, storageFailure } from './errors.js';
import { isStoreId, notFound, storedDataModel, workspaceNameSchema } from './installation-checks.js';
import { openInstallation, sealSecrets, splitConfig } from './installation-secrets.js';
import type { SecretCipher } from './secrets.js';
import { neverSyncedRunAt } from './scheduling.js';

// Installing, changing and uninstalling an installation. Reading installations is
// installation-reads.ts; sealing and opening their secrets is installation-secrets.ts. The checks
// and the secret context are re-exported for the importers that named this file before the split
// (profiles/, bench/); the store's own modules import them from where they live, which keeps them
// out of the import cycle between this file and scheduling.ts.
export { isStoreId, notFound, storedDataModel } from './installation-checks.js';
export { secretContext } from './installation-secrets.js';

/** The changes `updateInstallation` accepts (named in core's store port). */
export type InstallationChanges = Parameters<Store['updateInstallation']>[1];
/** How to uninstall (named in core's store port). */
export type UninstallOptions = Parameters<Store['uninstall']>[1];

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

/** Retention ages records by their time: an app whose data model names none cannot have it. */
function checkRetention(dialect: Dialect, app: string, model: DataModel): void {
  if (personTablesOf(dialect, app, model).time === undefined) {
    throw new ConfigError('CONFIG_INVALID', `App "${app}" declares no response time in its data model, so its records cannot be kept for a number of days.`, {
      hint: 'Leave out the retention period for this app.',
    });
  }
}

/** Installations: install, change, uninstall, and the locked row a write starts from. */
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
        const sealed = sealSecrets(this.cipher, id, secrets, now);
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
        return openInstallation(this.cipher, row, workspace.name, sealed);
      });
      return installation;
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicate();
      throw storageFailure(`install app "${base.app}" in workspace "${base.workspace}"`, error);
    }
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
          const sealed = sealSecrets(this.cipher, id, secrets, now);
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
        return openInstallation(this.cipher, updated, workspace.name, await secretsRepository.findBy({ installationId: id }));
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
}
