/*
 * The store port, split by role: each caller asks for the roles it uses (a sync needs only
 * SyncStore), so that a second implementation or a test double knows what it must provide.
 * `Store` is all of them together, as a database implements it. The data types stay in store.ts.
 */
import type { MappedRows } from './mapping.js';
import type {
  Activation,
  ClaimedDelivery,
  DeliveryRecord,
  DeliveryResult,
  DeliveryStatus,
  NewDestination,
  StoredDestination,
} from './destination.js';
import type { BillingAccount, Invoice, NewInvoice } from './billing.js';
import type { WorkspaceAdmin } from './workspace-admins.js';
import type { ApiKey, AuditEvent, Session, User, WorkspaceRole } from './identity.js';
import type {
  EvaluateProfileOptions,
  FeedbackForm,
  ProfileDefinitionInput,
  ProfileEvaluation,
  ProfileHistoryEntry,
  ProfileMember,
  ProfilePreview,
  StoredProfile,
  StreamedProfileEvaluation,
  StreamProfileOptions,
  ProfileMembersOptions,
  ProfileMemberPage,
} from './profile.js';
import type {
  Installation,
  InstallationChanges,
  InstallationSummary,
  Job,
  JobOutcome,
  NewInstallation,
  NewJob,
  PageWrite,
  PageWriteResult,
  RewriteResult,
  RowBatch,
  RowQuery,
  RunLockHolder,
  RunLockResult,
  RunOutcome,
  RunRecord,
  RunStatus,
  RejectedRecordPage,
  SavedCustomerPage,
  ScheduleEntry,
  DueSchedule,
  ScheduleState,
  SecretResealResult,
  UninstallOptions,
} from './store.js';

/** What one sync needs (`runSync` of `@tributary/runner`): the checkpoints, the page writes and its own run record. */
export interface SyncStore {
  /** Reads the stored checkpoint of a stream, or null before the first page. */
  readCheckpoint(installationId: string, stream: string): Promise<unknown>;
  /**
   * Stores a page's rows, the contacts of new e-mails, its rejected records and its checkpoint in one
   * transaction. Known rows of `ignore` tables are skipped and those of `update` tables are rewritten
   * only when a value changed, so that writing the same page twice writes nothing the second time.
   * Refuses an installation that is not active.
   */
  writePage(write: PageWrite): Promise<PageWriteResult>;
  /** Opens a run record. */
  startRun(installationId: string, startedAt: Date): Promise<string>;
  /** Closes a run record with its outcome. */
  finishRun(runId: string, outcome: RunOutcome, finishedAt: Date): Promise<void>;
}

/** Which runs to list: all filters are optional but the limit; dates bound the run's start, `startedBefore` excluded. */
export interface RunFilter {
  workspace?: string;
  app?: string;
  status?: RunStatus;
  startedFrom?: Date;
  startedBefore?: Date;
  limit: number;
  /**
   * false: `saved` and `rejectedRecords` are left empty (`savedTotal` and `rejected` still count
   * them), for a list that shows only the counts and should not read each run's customers.
   */
  details?: boolean;
}

/** The run log as operators read it, and the clean-up of runs whose process died. */
export interface RunLogStore {
  /** The newest runs, newest first. */
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  /**
   * The newest run of each of these installations (none for one that never ran), in their order.
   * Their `saved` lists may be left empty (`savedTotal` still counts them): a status needs no customers.
   */
  latestRuns(installationIds: readonly string[]): Promise<RunRecord[]>;
  /** One run by id, or undefined. */
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Every customer a run saved, a page at a time, in the order it saved them; undefined for an unknown run. */
  listSavedCustomers(
    runId: string,
    page: { after?: number; limit: number },
  ): Promise<SavedCustomerPage | undefined>;
  /** The records a run set aside, with their raw record, a page at a time; undefined for an unknown run. */
  listRejectedRecords(
    runId: string,
    page: { after?: number; limit: number },
  ): Promise<RejectedRecordPage | undefined>;
  /**
   * Marks `running` runs whose process died as `abandoned`: a run is dead when its installation's
   * run lock is free (taking the lock proves it). Its counts become what it committed (rows carrying
   * its run id, records it set aside); `finishedAt` stays null (when it died is not known) and a
   * warning says it was found at `at`. Optionally only of some installations. Returns those marked.
   */
  markAbandonedRuns(at: Date, installationIds?: readonly string[]): Promise<RunRecord[]>;
}

/** Installing, changing and removing apps in workspaces. */
export interface InstallationStore {
  /**
   * Saves the workspace (when new), the installation, its encrypted secrets and its app tables in one
   * transaction; on failure nothing is left behind. Refuses a second active installation of the same
   * app in a workspace with a ConfigError. When an earlier installation of the app in the workspace
   * was uninstalled with its data kept, it is reattached: the same id (rows, contacts, checkpoints)
   * with the new settings and `createdAt` the reinstall moment (billing starts again from it).
   */
  install(installation: NewInstallation): Promise<Installation>;
  /** An installation by id, whatever its status, or undefined. */
  getInstallation(id: string): Promise<Installation | undefined>;
  /** The active installation of an app in a workspace, or undefined. */
  findInstallation(workspace: string, app: string): Promise<Installation | undefined>;
  /** Every installation (active and uninstalled), optionally of one workspace. */
  listInstallations(workspace?: string): Promise<Installation[]>;
  /** The installations of a workspace (active and uninstalled) as a list shows them, in `listInstallations`' order. */
  listInstallationSummaries(workspace: string): Promise<InstallationSummary[]>;
  /** The names of every workspace, sorted: those apps were installed in and those made for users only. */
  listWorkspaces(): Promise<string[]>;
  /**
   * Creates the installation's app tables, or adds the columns and indexes its data model gained
   * (after a connector upgrade), idempotently. Never drops or narrows anything.
   */
  provision(installation: Installation): Promise<void>;
  /** Changes an active installation's config, secrets, mappings, data model or customer link in one transaction. */
  updateInstallation(id: string, changes: InstallationChanges): Promise<Installation>;
  /**
   * Marks an installation uninstalled, deletes its secrets, and with `purge` its rows, checkpoints
   * and the profile memberships over its data, and sets `purgedAt`. Purging a purged installation
   * is a ConfigError `APP_ALREADY_PURGED`.
   */
  uninstall(id: string, options: UninstallOptions): Promise<void>;
}

/** The rows stored in an installation's app tables, outside a sync: counting them and remapping them. */
export interface AppDataStore {
  /**
   * How many rows of an installation each of its app tables holds (the contacts table included),
   * keyed by the table's name as the database knows it (inside the schema, or with the prefix).
   */
  countRows(installationId: string): Promise<Record<string, number>>;
  /** Reads rows of an installation's app table in key order, a batch at a time, for remapping stored data. */
  readRows(installationId: string, query: RowQuery): Promise<RowBatch>;
  /**
   * Writes rows with overwrite semantics into every table, the primary table included: a known row
   * gets the given values (only when one differs), a new one is inserted, and new e-mails get
   * contacts; set-based, in one transaction. Refuses an installation that is not active.
   */
  rewriteRows(installationId: string, rows: MappedRows): Promise<RewriteResult>;
}

/** Who may install and remove apps in a workspace. */
export interface WorkspaceAdminStore {
  /** The administrators of a workspace (none for a workspace nobody has claimed yet). */
  listWorkspaceAdmins(workspace: string): Promise<WorkspaceAdmin[]>;
  /** Makes `user` an administrator of the workspace; `actor` must be one (or claims a workspace that has none). */
  addWorkspaceAdmin(workspace: string, user: string, actor: string): Promise<void>;
  /** Takes `user`'s administrator role away; `actor` must be an administrator, and the last one stays. */
  removeWorkspaceAdmin(workspace: string, user: string, actor: string): Promise<void>;
  /**
   * Refuses (`NOT_WORKSPACE_ADMIN`) an operator who does not administer the workspace, before an
   * administrative change other than installing (destinations, activations, erasures); like install,
   * the first operator to act on a workspace nobody administers claims it. `action` reads "may not <action>".
   */
  authorizeWorkspaceAdmin(workspace: string, actor: string, action: string): Promise<void>;
}

/** Profiles: segments over a workspace's feedback (see @tributary/store-typeorm's README). */
export interface ProfileStore {
  /** Saves a new profile in a workspace; a ConfigError when the definition is invalid or the name is taken. */
  createProfile(workspace: string, definition: ProfileDefinitionInput): Promise<StoredProfile>;
  /** The profiles of a workspace, by name. */
  listProfiles(workspace: string): Promise<StoredProfile[]>;
  /** A profile by name, or undefined. */
  getProfile(workspace: string, name: string): Promise<StoredProfile | undefined>;
  /** Deletes a profile with its evaluation history; false when there was none. */
  deleteProfile(workspace: string, name: string): Promise<boolean>;
  /**
   * Evaluates a profile over the workspace's app data at `now`: its members, and who entered and who
   * left since the previous recorded evaluation. Records the evaluation unless `record` is false.
   */
  evaluateProfile(
    workspace: string,
    name: string,
    options?: EvaluateProfileOptions,
  ): Promise<ProfileEvaluation>;
  /**
   * Evaluates a profile as {@link evaluateProfile} does, handing its members on in batches, in e-mail
   * order, as the database produces them; the generator's return value is the evaluation without its
   * members. Recorded (unless `record` is false) only once the last member was read: a reader that
   * stops early (`return()`, `break`) stops the query and records nothing.
   */
  streamProfile(
    workspace: string,
    name: string,
    options?: StreamProfileOptions,
  ): AsyncGenerator<ProfileMember[], StreamedProfileEvaluation, undefined>;
  /**
   * A page of a profile's members by e-mail, evaluated at `now` and not recorded, with how many
   * there are in all: the database pages and counts, so that a large profile is never read whole.
   */
  profileMembers(workspace: string, name: string, options: ProfileMembersOptions): Promise<ProfileMemberPage>;
  /** Replaces a profile's definition, keeping its id and history; PROFILE_NOT_FOUND when there is none. */
  updateProfile(workspace: string, name: string, definition: Omit<ProfileDefinitionInput, 'name'>): Promise<StoredProfile>;
  /**
   * The members an unsaved definition would have at `now` (default the real clock), all of them or
   * the first `limit` by e-mail, with their count; records nothing.
   */
  previewProfile(workspace: string, definition: ProfileDefinitionInput, options?: { now?: Date; app?: string; limit?: number }): Promise<ProfilePreview>;
  /** Recorded evaluations of a profile with their membership changes, newest first. */
  profileHistory(workspace: string, name: string, options: { limit: number }): Promise<ProfileHistoryEntry[]>;
  /** The forms and questions of the workspace's feedback apps (or of `app`), by app and form id: what profiles can name. */
  listFeedbackForms(workspace: string, options?: { app?: string }): Promise<FeedbackForm[]>;
}

/** Invoices and what billing needs to produce them. */
export interface BillingStore {
  /** Records invoices; one whose (installation, period start) is already recorded is skipped. Returns those added. */
  recordInvoices(invoices: readonly NewInvoice[]): Promise<Invoice[]>;
  /** Invoices, oldest period first, optionally of one workspace or installation. */
  listInvoices(filter?: { workspace?: string; installationId?: string }): Promise<Invoice[]>;
  /** Every installation, active or not, as billing needs it: plan, install and uninstall times, billed until. */
  listBillingAccounts(): Promise<BillingAccount[]>;
}

/** Rotation of the key that seals the installations' secrets. */
export interface SecretStore {
  /** Seals every stored secret again under the cipher's current key, in one transaction. */
  resealSecrets(): Promise<SecretResealResult>;
  /** How many stored secrets each key id sealed. */
  secretKeyUsage(): Promise<Record<string, number>>;
}

/** The runner's bookkeeping: hourly schedules, run locks and periodic tasks (tables `schedules` and `periodic_tasks`, see @tributary/store-typeorm's README). */
export interface ScheduleStore {
  /** Every active installation with its schedule, for the scheduler's tick and `tributary runner status`. */
  listSchedules(): Promise<ScheduleEntry[]>;
  /**
   * At most `limit` active installations due at `now`: installations never synced yet, oldest install
   * first, then schedules whose next run has come, oldest first. The scheduler's tick, so that it
   * costs what is due rather than what is installed.
   */
  listDueSchedules(now: Date, limit: number): Promise<DueSchedule[]>;
  /** The schedule of one installation, or undefined before its first scheduled run. */
  readSchedule(installationId: string): Promise<ScheduleState | undefined>;
  /**
   * What a worker holding the run lock reads before a scheduled sync, in one round trip: the
   * installation (secrets opened; undefined when it does not exist) and its schedule (undefined
   * before its first scheduled run).
   */
  readScheduledRun(installationId: string): Promise<{ installation: Installation | undefined; schedule: ScheduleState | undefined }>;
  /**
   * Saves an installation's schedule if it is still at `expectedVersion` (0: never saved) and bumps
   * its version; returns false, writing nothing, when another worker saved it first.
   */
  saveSchedule(state: Omit<ScheduleState, 'version'>, expectedVersion: number): Promise<boolean>;
  /**
   * Runs `work` holding the installation's run lock, or returns `{ acquired: false }` at once when
   * another worker holds it. PostgreSQL: a session advisory lock on a connection of its own, held for
   * the whole run and dropped by the database when the process dies. SQLite: a lease row renewed while
   * the work runs, so that other processes on the same file see it; a dead holder's lease expires.
   */
  withRunLock<T>(installationId: string, work: () => Promise<T>): Promise<RunLockResult<T>>;
  /** Who holds run locks right now (optionally of some installations); holders that died are left out. */
  listRunLockHolders(installationIds?: readonly string[]): Promise<RunLockHolder[]>;
  /**
   * Claims the period of a periodic task that starts at `periodStart`: true for the one caller that
   * moves the task to this period, false when it is already there (or later).
   */
  claimPeriodicTask(name: string, periodStart: Date, claimedAt: Date): Promise<boolean>;
  /** Gives back a claimed period after the task failed, so that a later tick tries it again. */
  releasePeriodicTask(name: string, periodStart: Date): Promise<void>;
}

/**
 * Syncs and remaps asked for over HTTP (table `jobs`): queued here so that they outlive the server
 * process that took the request and any server on the same database can run them and report on them.
 * A job runs under its installation's run lock: it is claimed, updated and finished while the lock
 * is held, so a `running` job whose installation's lock is free belongs to a process that died.
 */
export interface JobStore {
  /** Queues a job. */
  createJob(job: NewJob): Promise<Job>;
  /** A job by id, or undefined. */
  getJob(id: string): Promise<Job | undefined>;
  /** Queued jobs, oldest first. */
  listQueuedJobs(options: { limit: number }): Promise<Job[]>;
  /** How many jobs wait to start, and since when the oldest waits (undefined when none does). */
  jobQueueDepth(): Promise<{ queued: number; oldest?: Date }>;
  /**
   * Moves a queued job to `running` for `owner` (host and process, for messages); undefined when it
   * is no longer queued (another server took it). Call it holding the installation's run lock.
   */
  claimJob(id: string, options: { at: Date; owner: string }): Promise<Job | undefined>;
  /** Records a running job's progress and note (a server throttles these). */
  updateJobProgress(id: string, progress: { done: number; total?: number }, note?: string): Promise<void>;
  /** Sets the note of a queued job (why it waits); nothing for a job that is no longer queued. */
  noteQueuedJob(id: string, note: string): Promise<void>;
  /** Ends a running job, or with status `queued` puts it back in the queue (its server stopped mid-way). */
  finishJob(id: string, outcome: JobOutcome): Promise<void>;
  /**
   * Marks `interrupted`, with a note, the running jobs whose process died: those whose installation's
   * run lock is free (taking it proves it). Optionally only of some installations. Returns those marked.
   */
  markInterruptedJobs(at: Date, installationIds?: readonly string[]): Promise<Job[]>;
}

/** Setting the store up and closing it. */
export interface StoreLifecycle {
  /** Creates or upgrades Tributary's own tables. */
  migrate(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * The store port: everything the runner and the CLI need from a database. Implementations must
 * write a page and its checkpoint atomically, never create or change a table they do not own, and
 * bind every value as a parameter. Failures are TributaryErrors: ConfigError for what the user must
 * change, StorageError for what the database refused.
 */
export interface Store
  extends
    StoreLifecycle,
    InstallationStore,
    WorkspaceAdminStore,
    AppDataStore,
    SyncStore,
    RunLogStore,
    ProfileStore,
    BillingStore,
    SecretStore,
    ScheduleStore,
    IdentityStore,
    CredentialStore,
    AuditStore,
    JobStore {}

/**
 * Users, sessions and API keys of the HTTP API. Passwords, session tokens and API keys arrive here
 * already hashed (the caller hashes: scrypt for passwords, SHA-256 for high-entropy tokens); the
 * store never sees a secret in the clear.
 */
export interface IdentityStore {
  /** Creates a user with a password hash; refuses an e-mail already taken (`USER_EXISTS`). */
  createUser(user: { email: string; passwordHash: string; mustChangePassword?: boolean }): Promise<User>;
  /** The user, their password hash and failed sign-ins in a row, by normalized e-mail; undefined when there is none. */
  findUserByEmail(email: string): Promise<{ user: User; passwordHash: string; failedLogins: number } | undefined>;
  getUser(userId: string): Promise<User | undefined>;
  /** Grants (or changes) a user's role in a workspace; a role of undefined removes the membership. */
  setMembership(userId: string, workspace: string, role: WorkspaceRole | undefined): Promise<void>;
  listUsers(workspace: string): Promise<User[]>;
  /** Replaces the password hash (and whether it is a one-time password); clears failed sign-ins and the lock. */
  setPassword(userId: string, passwordHash: string, options?: { mustChangePassword?: boolean }): Promise<void>;
  /** Counts a failed sign-in; locks the account until `lockUntil` when given. */
  recordFailedLogin(userId: string, lockUntil?: Date): Promise<number>;
  /** Clears failed sign-ins and any lock after a successful one. */
  clearFailedLogins(userId: string): Promise<void>;
}

/** Browser sessions and API keys, looked up by the hash of the secret the client presents. */
export interface CredentialStore {
  createSession(session: { userId: string; tokenHash: string; csrfToken: string; expiresAt: Date }): Promise<Session>;
  findSession(tokenHash: string, now: Date): Promise<Session | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Ends every session of a user (after a password change or reset); returns how many there were. */
  deleteUserSessions(userId: string): Promise<number>;
  createApiKey(key: Omit<ApiKey, 'id' | 'createdAt' | 'revokedAt' | 'lastUsedAt'> & { secretHash: string }): Promise<ApiKey>;
  /** An unrevoked, unexpired key by its hash; marks it used. */
  findApiKey(secretHash: string, now: Date): Promise<ApiKey | undefined>;
  listApiKeys(workspace: string): Promise<ApiKey[]>;
  revokeApiKey(id: string, at: Date): Promise<boolean>;
}

/** The audit log of changes. */
export interface AuditStore {
  recordAudit(event: Omit<AuditEvent, 'id'>): Promise<void>;
  /** Newest first; `before` is the id of the last event of the previous page. */
  listAudit(filter: { workspace?: string; limit: number; before?: string }): Promise<AuditEvent[]>;
}

/**
 * Destinations of a workspace, which profiles send their changes to, and the outbox of batches to
 * deliver. A recorded evaluation writes its batches in its own transaction, so that no change is
 * lost between recording and delivering.
 */
export interface DestinationStore {
  /** Adds a destination, sealing its secret fields; `DESTINATION_EXISTS` when the name is taken. */
  addDestination(destination: NewDestination, now: Date): Promise<StoredDestination>;
  /** The destinations, optionally of one workspace, without their secrets. */
  listDestinations(workspace?: string): Promise<StoredDestination[]>;
  /** A destination with its secrets opened, or undefined. */
  getDestination(workspace: string, name: string): Promise<StoredDestination | undefined>;
  /** Removes a destination, its activations (and their views) and its batches; false when there was none. */
  removeDestination(workspace: string, name: string): Promise<boolean>;
  /**
   * Sends a profile's changes to a destination from now on. A push destination gets one batch with
   * every current member as `entered`; a view destination gets its view created.
   */
  activateProfile(workspace: string, profile: string, destination: string, now: Date): Promise<Activation>;
  /** Stops it (dropping the view of a view destination); false when it was not active. Batches already queued stay. */
  deactivateProfile(workspace: string, profile: string, destination: string): Promise<boolean>;
  /** Activations, optionally of one workspace. */
  listActivations(workspace?: string): Promise<Activation[]>;
  /**
   * Claims up to `limit` due batches for one attempt each: the oldest pending batch of each
   * (destination, profile), so that a receiver hears changes in order. A claim moves the next attempt
   * `leaseMs` on: a process that dies mid-delivery leaves the batch due again after it.
   */
  claimDeliveries(options: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedDelivery[]>;
  /** Records how an attempt ended. */
  finishDelivery(id: string, result: DeliveryResult, at: Date): Promise<void>;
  /** Batches, newest first; with `before` (a batch id), only those queued before that batch (the next page). */
  listDeliveries(filter: { workspace?: string; status?: DeliveryStatus; limit: number; before?: string }): Promise<DeliveryRecord[]>;
  /**
   * Queues a `left` for one person to every push destination of the workspace's active profiles
   * (the right to erasure: the receivers must drop them too). Returns the batches queued.
   */
  enqueueForgetLeft(workspace: string, email: string, now: Date): Promise<number>;
}
