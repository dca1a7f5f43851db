import type {
  Installation,
  InstallationSummary,
  NewInstallation,
  PageWrite,
  PageWriteResult,
  RunOutcome,
  RunFilter,
  RunRecord,
  RunLockHolder,
  SavedCustomerPage,
  RejectedRecordPage,
  Store,
  WorkspaceAdmin,
} from '@tributary/core';
import type { Database } from './database.js';
import type { InstallationReads } from './installation-reads.js';
import type { Installations, InstallationChanges, UninstallOptions } from './installations.js';
import type { WorkspaceAdmins } from './workspace-admins.js';
import { listWorkspaceNames } from './workspaces.js';
import type { Runs } from './runs.js';
import type { RunLog } from './run-log.js';
import type { RunRecovery } from './run-recovery.js';
import type { SyncWrites } from './sync-writes.js';
// ---- Profiles ----
import type { EvaluateProfileOptions, FeedbackForm, ProfileDefinitionInput, ProfileEvaluation, ProfileHistoryEntry, ProfileMember, ProfileMemberPage, ProfileMembersOptions, ProfilePreview, StoredProfile, StreamedProfileEvaluation, StreamProfileOptions } from '@tributary/core';
import type { Profiles } from './profiles/repository.js';
// ---- App lifecycle: remap, invoices, secret rotation ----
import type { BillingAccount, Invoice, MappedRows, NewInvoice, RewriteResult, RowBatch, RowQuery, SecretResealResult } from '@tributary/core';
import type { Invoices } from './billing.js';
import type { StoredRows } from './remap.js';
import type { SecretRotation } from './secret-rotation.js';
// ---- Destinations ----
import type { Destinations } from './destinations/destinations.js';
// ---- Scheduling (runner) ----
import type { DueSchedule, RunLockResult, ScheduleEntry, ScheduleState } from '@tributary/core';
import { scheduleOf, type Scheduling, type ScheduleRow } from './scheduling.js';
// ---- Identity: users, sessions, API keys, audit log ----
import type { ApiKey, AuditEvent, Session, User, WorkspaceRole } from '@tributary/core';
import type { Identities } from './identity.js';
import type { AuditLog } from './audit.js';
// ---- Personal data ----
import type { PersonalData } from './personal-data.js';
// ---- Jobs queued over HTTP ----
import type { Job, JobOutcome, NewJob } from '@tributary/core';
import type { Jobs } from './jobs.js';

// Core's Store port, method by method, handed to the part of the store that does it; what the
// TypeORM store adds to it (destinations, personal data, SQL for operators) is store.ts. The parts
// are built and wired together by createStore (create-store.ts).

/** Core's Store port over the store's parts. */
export class CoreStore implements Store {
  constructor(
    protected readonly db: Database,
    private readonly workspaceAdmins: WorkspaceAdmins,
    private readonly installations: Installations,
    private readonly installationReads: InstallationReads,
    private readonly runs: Runs,
    private readonly runLog: RunLog,
    private readonly syncWrites: SyncWrites,
    private readonly runRecovery: RunRecovery,
    // ---- Profiles ----
    protected readonly profiles: Profiles,
    // ---- App lifecycle ----
    private readonly storedRows: StoredRows,
    private readonly invoices: Invoices,
    private readonly secretRotation: SecretRotation,
    // ---- Scheduling (runner) ----
    private readonly scheduling: Scheduling,
    // ---- Identity ----
    private readonly identities: Identities,
    private readonly auditLog: AuditLog,
    // ---- Destinations ----
    protected readonly destinations: Destinations,
    // ---- Personal data ----
    protected readonly personalData: PersonalData,
    // ---- Jobs ----
    private readonly jobs: Jobs,
  ) {}

  async migrate(): Promise<void> {
    await this.db.migrate();
  }

  install(installation: NewInstallation): Promise<Installation> {
    return this.installations.install(installation);
  }

  getInstallation(id: string): Promise<Installation | undefined> {
    return this.installationReads.get(id);
  }

  findInstallation(workspace: string, app: string): Promise<Installation | undefined> {
    return this.installationReads.find(workspace, app);
  }

  listInstallations(workspace?: string): Promise<Installation[]> {
    return this.installationReads.list(workspace);
  }

  listInstallationSummaries(workspace: string): Promise<InstallationSummary[]> {
    return this.installationReads.summaries(workspace);
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
    this.syncWrites.forget(id);
  }

  countRows(installationId: string): Promise<Record<string, number>> {
    return this.installationReads.countRows(installationId);
  }

  readCheckpoint(installationId: string, stream: string): Promise<unknown> {
    return this.syncWrites.readCheckpoint(installationId, stream);
  }

  writePage(input: PageWrite): Promise<PageWriteResult> {
    return this.syncWrites.writePage(input);
  }

  startRun(installationId: string, startedAt: Date): Promise<string> {
    return this.runs.start(installationId, startedAt);
  }

  finishRun(runId: string, outcome: RunOutcome, finishedAt: Date): Promise<void> {
    return this.runs.finish(runId, outcome, finishedAt);
  }

  listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return this.runLog.list(filter);
  }

  latestRuns(installationIds: readonly string[]): Promise<RunRecord[]> {
    return this.runLog.latest(installationIds);
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runLog.get(runId);
  }

  listSavedCustomers(runId: string, page: { after?: number; limit: number }): Promise<SavedCustomerPage | undefined> {
    return this.runLog.savedCustomers(runId, page);
  }

  listRejectedRecords(runId: string, page: { after?: number; limit: number }): Promise<RejectedRecordPage | undefined> {
    return this.runLog.rejectedRecords(runId, page);
  }

  markAbandonedRuns(at: Date, installationIds?: readonly string[]): Promise<RunRecord[]> {
    return this.runRecovery.markAbandonedRuns(at, installationIds);
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
    const { installation, schedule } = await this.installationReads.getWithSchedule(installationId);
    return { installation, schedule: schedule ? scheduleOf(schedule as unknown as ScheduleRow) : undefined };
  }

  saveSchedule(state: Omit<ScheduleState, 'version'>, expectedVersion: number): Promise<boolean> {
    return this.scheduling.save(state, expectedVersion);
  }

  withRunLock<T>(installationId: string, work: () => Promise<T>): Promise<RunLockResult<T>> {
    return this.runRecovery.withRunLock(installationId, work);
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

  markInterruptedJobs(at: Date, installationIds?: readonly string[]): Promise<Job[]> {
    return this.runRecovery.markInterruptedJobs(at, installationIds);
  }
}
