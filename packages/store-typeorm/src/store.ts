import { z } from 'zod';
import {
  ConfigError,
  identifierSchema,
  parseUserInput,
  silentLogger,
  type Installation,
  type InstallationSummary,
  type Logger,
  type NewInstallation,
  type PageWrite,
  type PageWriteResult,
  type RunOutcome,
  type RunFilter,
  type RunRecord,
  type RunLockHolder,
  type SavedCustomerPage,
  type RejectedRecordPage,
  type Store,
  type WorkspaceAdmin,
} from '@tributary/core';
import { openDatabase, type Database } from './database.js';
import { dialectFor } from './dialect.js';
import { storageFailure } from './errors.js';
import { Installations, isStoreId, storedDataModel, type InstallationChanges, type UninstallOptions } from './installations.js';
import { appTableName, type DialectName, type TableNaming } from './naming.js';
import { ContactIdCache } from './contact-id-cache.js';
import { WorkspaceAdmins } from './workspace-admins.js';
import { listWorkspaceNames } from './workspaces.js';
import { validatePageWrite, writePageRows } from './page-writer.js';
import { appTableOf } from './app-tables.js';
import { Runs } from './runs.js';
import type { SecretCipher } from './secrets.js';
import { parseDatabaseUrl } from './url.js';
// ---- Profiles ----
import type { EvaluateProfileOptions, FeedbackForm, ProfileDefinitionInput, ProfileEvaluation, ProfileHistoryEntry, ProfileMember, ProfileMemberPage, ProfileMembersOptions, ProfilePreview, StoredProfile, StreamedProfileEvaluation, StreamProfileOptions } from '@tributary/core';
import { Profiles } from './profiles/repository.js';
// ---- App lifecycle: remap, invoices, secret rotation ----
import type { BillingAccount, Invoice, MappedRows, NewInvoice, RewriteResult, RowBatch, RowQuery, SecretResealResult } from '@tributary/core';
import { Invoices } from './billing.js';
import { StoredRows } from './remap.js';
import { SecretRotation } from './secret-rotation.js';
// ---- Destinations ----
import type { Activation, ClaimedDelivery, DeliveryRecord, DeliveryResult, DeliveryStatus, DestinationStore, NewDestination, StoredDestination } from '@tributary/core';
import { Destinations } from './destinations/destinations.js';
import { queueBatches } from './destinations/outbox.js';
import { viewSqlName } from './destinations/views.js';
// ---- Scheduling (runner) ----
import type { DueSchedule, RunLockResult, ScheduleEntry, ScheduleState } from '@tributary/core';
import { Scheduling, scheduleOf, type ScheduleRow } from './scheduling.js';
// ---- Identity: users, sessions, API keys, audit log ----
import type { ApiKey, AuditEvent, Session, User, WorkspaceRole } from '@tributary/core';
import { Identities } from './identity.js';
import { AuditLog } from './audit.js';
// ---- Personal data: find, forget, retention ----
import type { CustomerDataReport, Erasure, ErasureReceipt, PersonalDataStore, RetentionResult, RetentionStore } from '@tributary/core';
import { PersonalData } from './personal-data.js';
import { applyRetention } from './retention.js';
// ---- Jobs queued over HTTP ----
import type { Job, JobOutcome, NewJob } from '@tributary/core';
import { Jobs } from './jobs.js';

/** Options of {@link createStore}. */
export interface StoreOptions {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://user:password@host:port/database`. */
  url: string;
  /** PostgreSQL schema for every table Tributary owns; default `tributary`. */
  schema?: string;
  /** SQLite prefix of every table Tributary owns; default `tributary_`. */
  tablePrefix?: string;
  /** Encrypts installation secrets at rest. */
  cipher: SecretCipher;
  /** Defaults to a silent logger. */
  logger?: Logger;
  /** PostgreSQL connection pool size; default 10. */
  poolSize?: number;
  /**
   * Whether a missing SQLite file (and its directory) may be created; default true. With false a
   * missing file is a ConfigError `STORE_MISSING`, so that a command that only reads creates nothing.
   */
  create?: boolean;
}

/** The TypeORM store: core's Store port plus what the profile compiler and operators need. */
export interface TypeOrmStore extends Store, DestinationStore, PersonalDataStore, RetentionStore {
  /** Which database this is. */
  readonly dialect: DialectName;
  /** Where Tributary's tables live (schema or prefix). */
  readonly naming: TableNaming;
  /** The database, named without secrets (for messages). */
  readonly database: string;
  /** The quoted, qualified SQL name of an app table, e.g. `"tributary"."closealert_form_responses"`. */
  appTable(app: string, table: string): string;
  /**
   * Runs a bound statement (`$1` placeholders on PostgreSQL, `?` on SQLite) on a read-only
   * connection, for the profile engine: any write is refused by the database. It goes through the
   * store so that, on SQLite, it never lands inside a running write.
   */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Reverts the newest migration of Tributary's own tables (app tables are left alone). */
  revertLastMigration(): Promise<void>;
  /** The names of the migrations {@link Store.migrate} would apply, without applying or creating anything. */
  pendingMigrations(): Promise<string[]>;
  // ---- Profiles ----
  /**
   * How the database runs a profile's query, one line per plan node (PostgreSQL `EXPLAIN`, with
   * `analyze` `EXPLAIN ANALYZE`; SQLite `EXPLAIN QUERY PLAN`), to check that it uses the indexes.
   * `streamed`: the plans of the reads `streamProfile` makes, each planned as its cursor is.
   */
  explainProfile(workspace: string, name: string, options?: { now?: Date; analyze?: boolean; app?: string; streamed?: boolean }): Promise<string[]>;
  // ---- Destinations ----
  /** The SQL name of a view an activation made (`"tributary"."suppress_unhappy"`), for messages. */
  viewName(bareName: string): string;
}

const optionsSchema = z.object({
  schema: identifierSchema.default('tributary'),
  tablePrefix: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,29}$/, 'must be 1-30 lower-case letters, digits or "_", starting with a letter')
    .default('tributary_'),
  cipher: z.custom<SecretCipher>(
    (v) => typeof v === 'object' && v !== null && typeof (v as SecretCipher).encrypt === 'function' && typeof (v as SecretCipher).decrypt === 'function',
    'must be a SecretCipher (see createSecretCipher)',
  ),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).child === 'function', 'must be a pino logger').optional(),
  poolSize: z.number().int().min(1).max(100).optional(),
  create: z.boolean().optional(),
});

class TypeOrmStoreImpl implements TypeOrmStore {
  readonly dialect: DialectName;
  readonly naming: TableNaming;
  readonly database: string;
  private readonly installations: Installations;
  private readonly runs: Runs;
  private readonly workspaceAdmins: WorkspaceAdmins;
  /** Contact ids of committed pages, so that a page need not insert or look up customers met before. */
  private readonly contactIds = new ContactIdCache();
  // ---- Profiles ----
  private readonly profiles: Profiles;
  // ---- App lifecycle ----
  private readonly storedRows: StoredRows;
  private readonly invoices: Invoices;
  private readonly secretRotation: SecretRotation;
  // ---- Scheduling (runner) ----
  private readonly scheduling: Scheduling;
  // ---- Identity ----
  private readonly identities: Identities;
  private readonly auditLog: AuditLog;
  // ---- Destinations ----
  private readonly destinations: Destinations;
  // ---- Personal data ----
  private readonly personalData: PersonalData;
  // ---- Jobs ----
  private readonly jobs: Jobs;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    cipher: SecretCipher,
  ) {
    this.dialect = db.dialect.name;
    this.naming = db.dialect.naming;
    this.database = db.target.description;
    this.workspaceAdmins = new WorkspaceAdmins(db, logger);
    this.installations = new Installations(db, cipher, logger, this.workspaceAdmins);
    this.runs = new Runs(db);
    // ---- Profiles ----
    // A recorded evaluation queues its batches for the profile's destinations in its own transaction.
    this.profiles = new Profiles(db, logger, async (tx, recorded) => {
      await queueBatches(
        tx,
        db.dialect,
        {
          profileId: recorded.profileId,
          workspace: recorded.workspace,
          profile: recorded.name,
          reason: 'evaluation',
          evaluationId: recorded.evaluationId,
          evaluatedAt: recorded.evaluatedAt,
          entered: recorded.entered,
          left: recorded.left,
          members: recorded.members,
        },
        recorded.evaluatedAt,
      );
    });
    // ---- App lifecycle ----
    this.storedRows = new StoredRows(db, this.installations);
    this.invoices = new Invoices(db);
    this.destinations = new Destinations(db, cipher, logger);
    this.secretRotation = new SecretRotation(db, cipher, this.destinations);
    // ---- Scheduling (runner) ----
    this.scheduling = new Scheduling(db);
    // ---- Identity ----
    this.identities = new Identities(db);
    this.auditLog = new AuditLog(db);
    // ---- Personal data ----
    this.personalData = new PersonalData(db, this.destinations);
    // ---- Jobs ----
    this.jobs = new Jobs(db);
  }

  appTable(app: string, table: string): string {
    return appTableName(this.naming, parseUserInput(identifierSchema, app, 'app id'), parseUserInput(identifierSchema, table, 'table name'));
  }

  async migrate(): Promise<void> {
    await this.db.migrate();
  }

  revertLastMigration(): Promise<void> {
    return this.db.revertLastMigration();
  }

  pendingMigrations(): Promise<string[]> {
    return this.db.pendingMigrations();
  }

  install(installation: NewInstallation): Promise<Installation> {
    return this.installations.install(installation);
  }

  getInstallation(id: string): Promise<Installation | undefined> {
    return this.installations.get(id);
  }

  findInstallation(workspace: string, app: string): Promise<Installation | undefined> {
    return this.installations.find(workspace, app);
  }

  listInstallations(workspace?: string): Promise<Installation[]> {
    return this.installations.list(workspace);
  }

  listInstallationSummaries(workspace: string): Promise<InstallationSummary[]> {
    return this.installations.summaries(workspace);
  }

  listWorkspaces(): Promise<string[]> {
    return listWorkspaceNames(this.db);
  }

  provision(installation: Installation): Promise<void> {
    return this.installations.provision(installation);
  }

  updateInstallation(id: string, changes: InstallationChanges): Promise<Installation> {
    return this.installations.update(id, changes);
  }

  listWorkspaceAdmins(workspace: string): Promise<WorkspaceAdmin[]> {
    return this.workspaceAdmins.list(workspace);
  }

  addWorkspaceAdmin(workspace: string, user: string, actor: string): Promise<void> {
    return this.workspaceAdmins.add(workspace, user, actor);
  }

  removeWorkspaceAdmin(workspace: string, user: string, actor: string): Promise<void> {
    return this.workspaceAdmins.remove(workspace, user, actor);
  }

  authorizeWorkspaceAdmin(workspace: string, actor: string, action: string): Promise<void> {
    return this.workspaceAdmins.check(workspace, actor, action);
  }

  async uninstall(id: string, options: UninstallOptions): Promise<void> {
    await this.installations.uninstall(id, options);
    // An uninstalled installation is never written again; its contacts may be purged.
    this.contactIds.forget(id);
  }

  countRows(installationId: string): Promise<Record<string, number>> {
    return this.installations.countRows(installationId);
  }

  async readCheckpoint(installationId: string, stream: string): Promise<unknown> {
    if (!isStoreId(installationId)) return null;
    try {
      const row = await this.db.withConnection((db) =>
        db.manager.getRepository(this.db.dialect.entities.Checkpoint).findOneBy({ installationId, stream }),
      );
      return row ? row.value : null;
    } catch (error) {
      throw storageFailure(`read the checkpoint of stream "${stream}" of installation ${installationId}`, error);
    }
  }

  async writePage(input: PageWrite): Promise<PageWriteResult> {
    const write = validatePageWrite(input);
    const now = new Date();
    try {
      const written = await this.db.transaction(async (tx) => {
        // The lock makes a second worker writing the same installation wait for this page to commit.
        const row = await this.installations.lockedRow(tx, write.installationId);
        if (row.status !== 'active') {
          throw new ConfigError('INSTALLATION_NOT_ACTIVE', `Installation ${row.id} is uninstalled; its pages are no longer stored.`);
        }
        const model = storedDataModel(row.dataModel, `Installation ${row.id}`);
        return writePageRows(tx, this.db.dialect, row.app, model, write, now, this.contactIds, { workspaceId: row.workspaceId, retentionDays: row.retentionDays ?? null });
      });
      // Committed: the contacts exist now, whatever happens to a later page.
      this.contactIds.remember(write.installationId, written.contactIds);
      const result = written.page;
      this.logger.debug(
        { installationId: write.installationId, stream: write.stream, inserted: result.inserted, unchanged: result.unchanged, rejected: write.rejected.length },
        'page stored',
      );
      return result;
    } catch (error) {
      throw storageFailure(`store a page of stream "${write.stream}" for installation ${write.installationId}`, error, 'STORE_WRITE_FAILED');
    }
  }

  startRun(installationId: string, startedAt: Date): Promise<string> {
    return this.runs.start(installationId, startedAt);
  }

  finishRun(runId: string, outcome: RunOutcome, finishedAt: Date): Promise<void> {
    return this.runs.finish(runId, outcome, finishedAt);
  }

  listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return this.runs.list(filter);
  }

  latestRuns(installationIds: readonly string[]): Promise<RunRecord[]> {
    return this.runs.latest(installationIds);
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId);
  }

  listSavedCustomers(runId: string, page: { after?: number; limit: number }): Promise<SavedCustomerPage | undefined> {
    return this.runs.savedCustomers(runId, page);
  }

  listRejectedRecords(runId: string, page: { after?: number; limit: number }): Promise<RejectedRecordPage | undefined> {
    return this.runs.rejectedRecords(runId, page);
  }

  async markAbandonedRuns(at: Date, installationIds?: readonly string[]): Promise<RunRecord[]> {
    const running = await this.runs.running(installationIds);
    const marked: string[] = [];
    for (const installationId of new Set(running.map((r) => r.installationId))) {
      // Taking the run lock proves that no live process runs it; a held lock means the run is alive.
      const locked = await this.scheduling.withRunLock(installationId, () => this.abandonLocked(installationId, at));
      if (locked.acquired) marked.push(...locked.value);
    }
    const records: RunRecord[] = [];
    for (const id of marked) {
      const record = await this.runs.get(id);
      if (record) records.push(record);
    }
    return records;
  }

  /** With the installation's run lock held: every run of it still marked running is dead. */
  private async abandonLocked(installationId: string, at: Date): Promise<string[]> {
    const running = await this.runs.running([installationId]);
    if (running.length === 0) return [];
    // Only the tables matter here: an installation whose token cannot be opened is closed all the same.
    const installation = await this.installations.appModel(installationId);
    const model = installation?.dataModel;
    const spec = model?.tables.find((t) => t.name === model.primaryTable);
    const primary = installation && model && spec ? appTableOf(this.db.dialect, installation.app, model, spec).table.sql : undefined;
    const marked: string[] = [];
    for (const run of running) {
      if (await this.runs.abandon(run.id, installationId, primary, at)) marked.push(run.id);
    }
    if (marked.length > 0) this.logger.warn({ installationId, runs: marked }, 'runs whose process died marked abandoned');
    return marked;
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return await this.db.readOnly((db) => db.query<T>(sql, params));
    } catch (error) {
      throw storageFailure('run a query', error);
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  // ---- Profiles ----
  createProfile(workspace: string, definition: ProfileDefinitionInput): Promise<StoredProfile> {
    return this.profiles.create(workspace, definition, new Date());
  }

  listProfiles(workspace: string): Promise<StoredProfile[]> {
    return this.profiles.list(workspace);
  }

  getProfile(workspace: string, name: string): Promise<StoredProfile | undefined> {
    return this.profiles.get(workspace, name);
  }

  deleteProfile(workspace: string, name: string): Promise<boolean> {
    return this.profiles.delete(workspace, name);
  }

  evaluateProfile(workspace: string, name: string, options?: EvaluateProfileOptions): Promise<ProfileEvaluation> {
    return this.profiles.evaluate(workspace, name, options);
  }

  streamProfile(workspace: string, name: string, options?: StreamProfileOptions): AsyncGenerator<ProfileMember[], StreamedProfileEvaluation, undefined> {
    return this.profiles.stream(workspace, name, options);
  }

  profileMembers(workspace: string, name: string, options: ProfileMembersOptions): Promise<ProfileMemberPage> {
    return this.profiles.members(workspace, name, options);
  }

  updateProfile(workspace: string, name: string, definition: Omit<ProfileDefinitionInput, 'name'>): Promise<StoredProfile> {
    return this.profiles.update(workspace, name, definition, new Date());
  }

  previewProfile(workspace: string, definition: ProfileDefinitionInput, options?: { now?: Date; app?: string; limit?: number }): Promise<ProfilePreview> {
    return this.profiles.preview(workspace, definition, options);
  }

  profileHistory(workspace: string, name: string, options: { limit: number }): Promise<ProfileHistoryEntry[]> {
    return this.profiles.history(workspace, name, options);
  }

  explainProfile(workspace: string, name: string, options?: { now?: Date; analyze?: boolean; app?: string; streamed?: boolean }): Promise<string[]> {
    return this.profiles.explain(workspace, name, options);
  }

  listFeedbackForms(workspace: string, options?: { app?: string }): Promise<FeedbackForm[]> {
    return this.profiles.forms(workspace, options);
  }

  // ---- App lifecycle: remap, invoices, secret rotation ----
  readRows(installationId: string, query: RowQuery): Promise<RowBatch> {
    return this.storedRows.read(installationId, query);
  }

  rewriteRows(installationId: string, rows: MappedRows): Promise<RewriteResult> {
    return this.storedRows.rewrite(installationId, rows);
  }

  recordInvoices(invoices: readonly NewInvoice[]): Promise<Invoice[]> {
    return this.invoices.record(invoices);
  }

  listInvoices(filter?: { workspace?: string; installationId?: string }): Promise<Invoice[]> {
    return this.invoices.list(filter);
  }

  listBillingAccounts(): Promise<BillingAccount[]> {
    return this.invoices.accounts();
  }

  resealSecrets(): Promise<SecretResealResult> {
    return this.secretRotation.reseal();
  }

  // ---- Destinations ----
  addDestination(destination: NewDestination, now: Date): Promise<StoredDestination> {
    return this.destinations.add(destination, now);
  }

  listDestinations(workspace?: string): Promise<StoredDestination[]> {
    return this.destinations.list(workspace);
  }

  getDestination(workspace: string, name: string): Promise<StoredDestination | undefined> {
    return this.destinations.get(workspace, name);
  }

  removeDestination(workspace: string, name: string): Promise<boolean> {
    return this.destinations.remove(workspace, name);
  }

  activateProfile(workspace: string, profile: string, destination: string, now: Date): Promise<Activation> {
    return this.destinations.activate(workspace, profile, destination, now);
  }

  deactivateProfile(workspace: string, profile: string, destination: string): Promise<boolean> {
    return this.destinations.deactivate(workspace, profile, destination);
  }

  listActivations(workspace?: string): Promise<Activation[]> {
    return this.destinations.activations(workspace);
  }

  claimDeliveries(options: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
    return this.destinations.claim(options);
  }

  finishDelivery(id: string, result: DeliveryResult, at: Date): Promise<void> {
    return this.destinations.finish(id, result, at);
  }

  listDeliveries(filter: { workspace?: string; status?: DeliveryStatus; limit: number; before?: string }): Promise<DeliveryRecord[]> {
    return this.destinations.deliveries(filter);
  }

  enqueueForgetLeft(workspace: string, email: string, now: Date): Promise<number> {
    return this.destinations.forgetLeft(workspace, email, now);
  }

  viewName(bareName: string): string {
    return viewSqlName(this.db.dialect, bareName);
  }

  secretKeyUsage(): Promise<Record<string, number>> {
    return this.secretRotation.usage();
  }

  // ---- Scheduling (runner) ----
  listSchedules(): Promise<ScheduleEntry[]> {
    return this.scheduling.list();
  }

  listDueSchedules(now: Date, limit: number): Promise<DueSchedule[]> {
    return this.scheduling.listDue(now, limit);
  }

  readSchedule(installationId: string): Promise<ScheduleState | undefined> {
    return this.scheduling.read(installationId);
  }

  async readScheduledRun(installationId: string): Promise<{ installation: Installation | undefined; schedule: ScheduleState | undefined }> {
    const { installation, schedule } = await this.installations.getWithSchedule(installationId);
    return { installation, schedule: schedule ? scheduleOf(schedule as unknown as ScheduleRow) : undefined };
  }

  saveSchedule(state: Omit<ScheduleState, 'version'>, expectedVersion: number): Promise<boolean> {
    return this.scheduling.save(state, expectedVersion);
  }

  withRunLock<T>(installationId: string, work: () => Promise<T>): Promise<RunLockResult<T>> {
    return this.scheduling.withRunLock(installationId, async () => {
      // One look for both (almost always nothing), rather than a round trip each on every job.
      const left = await this.scheduling.leftRunning(installationId).catch((error: unknown) => {
        this.logger.warn({ installationId, error: (error as Error).message }, 'could not look for runs left running; the run goes ahead');
        return { runs: true, jobs: true };
      });
      // Whoever takes the lock next finds out about a run whose process died holding it.
      if (left.runs) {
        await this.abandonLocked(installationId, new Date()).catch((error: unknown) => {
          this.logger.warn({ installationId, error: (error as Error).message }, 'could not mark abandoned runs; the run goes ahead');
        });
      }
      // Likewise a job left running: no live process can be running it now.
      if (left.jobs) {
        await this.jobs.interruptLocked(installationId, new Date()).catch((error: unknown) => {
          this.logger.warn({ installationId, error: (error as Error).message }, 'could not mark interrupted jobs; the run goes ahead');
        });
      }
      return work();
    });
  }

  listRunLockHolders(installationIds?: readonly string[]): Promise<RunLockHolder[]> {
    return this.scheduling.holders(installationIds);
  }

  claimPeriodicTask(name: string, periodStart: Date, claimedAt: Date): Promise<boolean> {
    return this.scheduling.claimPeriodicTask(name, periodStart, claimedAt);
  }

  releasePeriodicTask(name: string, periodStart: Date): Promise<void> {
    return this.scheduling.releasePeriodicTask(name, periodStart);
  }

  // ---- Identity: users, sessions, API keys, audit log ----
  createUser(user: { email: string; passwordHash: string; mustChangePassword?: boolean }): Promise<User> {
    return this.identities.createUser(user);
  }

  findUserByEmail(email: string): Promise<{ user: User; passwordHash: string; failedLogins: number } | undefined> {
    return this.identities.findUserByEmail(email);
  }

  getUser(userId: string): Promise<User | undefined> {
    return this.identities.getUser(userId);
  }

  setMembership(userId: string, workspace: string, role: WorkspaceRole | undefined): Promise<void> {
    return this.identities.setMembership(userId, workspace, role);
  }

  listUsers(workspace: string): Promise<User[]> {
    return this.identities.listUsers(workspace);
  }

  setPassword(userId: string, passwordHash: string, options?: { mustChangePassword?: boolean }): Promise<void> {
    return this.identities.setPassword(userId, passwordHash, options);
  }

  recordFailedLogin(userId: string, lockUntil?: Date): Promise<number> {
    return this.identities.recordFailedLogin(userId, lockUntil);
  }

  clearFailedLogins(userId: string): Promise<void> {
    return this.identities.clearFailedLogins(userId);
  }

  createSession(session: { userId: string; tokenHash: string; csrfToken: string; expiresAt: Date }): Promise<Session> {
    return this.identities.createSession(session);
  }

  findSession(tokenHash: string, now: Date): Promise<Session | undefined> {
    return this.identities.findSession(tokenHash, now);
  }

  deleteSession(tokenHash: string): Promise<void> {
    return this.identities.deleteSession(tokenHash);
  }

  deleteUserSessions(userId: string): Promise<number> {
    return this.identities.deleteUserSessions(userId);
  }

  createApiKey(key: Omit<ApiKey, 'id' | 'createdAt' | 'revokedAt' | 'lastUsedAt'> & { secretHash: string }): Promise<ApiKey> {
    return this.identities.createApiKey(key);
  }

  findApiKey(secretHash: string, now: Date): Promise<ApiKey | undefined> {
    return this.identities.findApiKey(secretHash, now);
  }

  listApiKeys(workspace: string): Promise<ApiKey[]> {
    return this.identities.listApiKeys(workspace);
  }

  revokeApiKey(id: string, at: Date): Promise<boolean> {
    return this.identities.revokeApiKey(id, at);
  }

  recordAudit(event: Omit<AuditEvent, 'id'>): Promise<void> {
    return this.auditLog.recordAudit(event);
  }

  listAudit(filter: { workspace?: string; limit: number; before?: string }): Promise<AuditEvent[]> {
    return this.auditLog.listAudit(filter);
  }

  // ---- Personal data: find, forget, retention ----
  findCustomer(email: string, options: { workspace?: string }): Promise<CustomerDataReport> {
    return this.personalData.find(email, options);
  }

  forgetCustomer(email: string, options: { workspace?: string; actor?: string; at: Date }): Promise<Erasure> {
    return this.personalData.forget(email, options);
  }

  async liftErasure(receiptId: string, options: { actor?: string; at: Date }): Promise<ErasureReceipt> {
    return (await this.personalData.lift(receiptId, options)).receipt;
  }

  listErasureReceipts(): Promise<ErasureReceipt[]> {
    return this.personalData.list();
  }

  applyRetention(installationId: string, now: Date, options?: { batchSize?: number }): Promise<RetentionResult> {
    return applyRetention(this.db, installationId, now, options);
  }

  // ---- Jobs queued over HTTP ----
  createJob(job: NewJob): Promise<Job> {
    return this.jobs.create(job);
  }

  getJob(id: string): Promise<Job | undefined> {
    return this.jobs.get(id);
  }

  listQueuedJobs(options: { limit: number }): Promise<Job[]> {
    return this.jobs.queued(options);
  }

  jobQueueDepth(): Promise<{ queued: number; oldest?: Date }> {
    return this.jobs.depth();
  }

  claimJob(id: string, options: { at: Date; owner: string }): Promise<Job | undefined> {
    return this.jobs.claim(id, options);
  }

  updateJobProgress(id: string, progress: { done: number; total?: number }, note?: string): Promise<void> {
    return this.jobs.progress(id, progress, note);
  }

  noteQueuedJob(id: string, note: string): Promise<void> {
    return this.jobs.noteQueued(id, note);
  }

  finishJob(id: string, outcome: JobOutcome): Promise<void> {
    return this.jobs.finish(id, outcome);
  }

  async markInterruptedJobs(at: Date, installationIds?: readonly string[]): Promise<Job[]> {
    const marked: Job[] = [];
    for (const installationId of await this.jobs.runningInstallations(installationIds)) {
      // A held lock means a live process runs the job; taking it proves that none does.
      const locked = await this.scheduling.withRunLock(installationId, () => this.jobs.interruptLocked(installationId, at));
      if (locked.acquired) marked.push(...locked.value);
    }
    return marked;
  }
}

/**
 * Connects to the database named by `options.url` and returns the store. Tables are not touched
 * until {@link Store.migrate}. A bad URL is a ConfigError naming the accepted forms; an unreachable
 * database is a StorageError naming the database (never its password).
 */
export async function createStore(options: StoreOptions): Promise<TypeOrmStore> {
  const target = parseDatabaseUrl(options.url);
  const parsed = parseUserInput(optionsSchema, { ...options, url: undefined }, 'store options');
  const logger = (parsed.logger ?? silentLogger()).child({ component: 'store' });
  const dialect = dialectFor({ dialect: target.dialect, schema: parsed.schema, tablePrefix: parsed.tablePrefix });
  const db = await openDatabase({
    target,
    dialect,
    logger,
    ...(parsed.poolSize ? { poolSize: parsed.poolSize } : {}),
    ...(parsed.create === false ? { create: false } : {}),
  });
  return new TypeOrmStoreImpl(db, logger, parsed.cipher);
}
