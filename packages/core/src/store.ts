import type { DataModel } from './data-model.js';
import type { RejectedRecord, SummaryValue } from './connector.js';
import type { Mapping, MappedRows, CellValue, Row } from './mapping.js';
import type { BillingAccount, BillingSettings, Invoice, NewInvoice } from './billing.js';
import type { WorkspaceAdmin } from './workspace-admins.js';
import type { EvaluateProfileOptions, FeedbackForm, ProfileDefinitionInput, ProfileEvaluation, ProfileHistoryEntry, StoredProfile } from './profile.js';

/** An app installed in a workspace. */
export interface Installation {
  /** Store-assigned id. */
  id: string;
  /** Workspace name. */
  workspace: string;
  /** Connector id, e.g. `closealert`. */
  app: string;
  /** Lifecycle state; an uninstalled app is never synced. */
  status: 'active' | 'uninstalled';
  /** The connector's configuration with secrets decrypted; only the runner and `check` see it. */
  config: Record<string, unknown>;
  /** Current data mappings. */
  mappings: Mapping[];
  /** The data model provisioned for this installation (defaults plus columns the operator added). */
  dataModel: DataModel;
  /** Read-only link to a user's own customers table, when chosen at install. */
  customerTable?: CustomerTableLink;
  /** When the app was installed. */
  createdAt: Date;
  /** When the configuration, mappings or data model last changed (the install time until then). */
  updatedAt: Date;
  /** When the app was uninstalled; only set once `status` is `uninstalled`. */
  uninstalledAt?: Date;
  /** Billing plan and PO number (the store fills it in; `monthly` unless chosen otherwise). */
  billing?: BillingSettings;
  /** When an uninstalled app's data was purged; unset while its data is kept (a reinstall reattaches it). */
  purgedAt?: Date;
  /**
   * Set only by `listInstallations` when a secret field cannot be opened (its key is missing, say):
   * why, for the operator. That field is then absent from `config`; a single read throws instead.
   */
  secretError?: string;
  /** The version of the connector it was installed with, or last synced with after an upgrade. */
  connectorVersion?: string;
}

/** A user's own customers table that responses link to by e-mail; Tributary only ever reads it. */
export interface CustomerTableLink {
  /** `schema.table` on PostgreSQL or `table` on SQLite. */
  table: string;
  /** Column holding the e-mail. */
  emailColumn: string;
  /** Column holding the customer id. */
  idColumn: string;
}

/** What installing needs; the store encrypts the secret fields listed. */
export interface NewInstallation {
  /** Workspace name; the workspace is created when it does not exist yet. */
  workspace: string;
  /** Connector id, a safe identifier: it becomes the first part of the app's table names. */
  app: string;
  /** The validated configuration, secrets included. */
  config: Record<string, unknown>;
  /** Config fields that are secrets: stored encrypted, apart from the rest of the config. */
  secretFields: readonly string[];
  mappings: Mapping[];
  dataModel: DataModel;
  /** Read-only link to a user's own customers table; the store checks that it exists and has the columns. */
  customerTable?: CustomerTableLink;
  /**
   * The uninstalled installation of the same app and workspace whose kept data (rows, contacts,
   * checkpoints) this install takes over, or `null` to start afresh. Left out: the newest one whose
   * data was kept.
   */
  reattach?: string | null;
  /** Billing plan and PO number; `monthly` without a PO number when left out. */
  billing?: BillingSettings;
  /**
   * The operator who installs. Only an administrator of the workspace may; in a workspace without
   * administrators (a new one) the operator becomes its first. Left out, nobody is checked: for
   * code that acts on its own authority (tests, benchmarks), never for a person's command.
   */
  actor?: string;
  /** The version of the connector that installs it. */
  connectorVersion?: string;
}

/** Changes to an installation; fields left out stay as they are. */
export interface InstallationChanges {
  /** The whole new configuration, secrets included (for example with a replaced API token). */
  config?: Record<string, unknown>;
  /** The secret fields of `config`; required together with `config`. */
  secretFields?: readonly string[];
  /** New mappings, validated against the (new) data model. */
  mappings?: Mapping[];
  /** A new data model; new tables and columns are provisioned in the same transaction. */
  dataModel?: DataModel;
  /** A new link to a user's customers table, or null to remove it. */
  customerTable?: CustomerTableLink | null;
  /** New billing settings; they apply from the next billing period. */
  billing?: BillingSettings;
  /** The connector's version, when a newer one took the installation over. */
  connectorVersion?: string;
}

/** How to uninstall. */
export interface UninstallOptions {
  /** Whether to delete the installation's rows from the app tables and its checkpoints; run logs stay. */
  purge: boolean;
  /** When the app was uninstalled. */
  at: Date;
  /** The operator who removes the app: an administrator of the workspace (see {@link NewInstallation.actor}). */
  actor?: string;
}

/** One page to store, with the checkpoint it reaches; written in one transaction. */
export interface PageWrite {
  installationId: string;
  runId: string;
  stream: string;
  /** Rows per app table, each batch already free of duplicate keys. */
  rows: MappedRows;
  /** Records set aside with their reasons. */
  rejected: RejectedRecord[];
  /** Checkpoint after this page, already validated by the stream's schema. */
  checkpoint: unknown;
  /**
   * The run-log line of each record of the page, by the record's key (as in `insertedKeys`): those
   * whose primary row turns out new are kept as the run's saved customers, in the same transaction.
   */
  saved?: readonly (SavedFeedback & { key: string })[];
}

/** What a page write did to one table. */
export interface TableWriteCounts {
  /** Rows that were new. */
  inserted: number;
  /** Known rows whose values changed (only tables with `onConflict: 'update'`). */
  updated: number;
  /** Known rows left as they were: nothing was written for them. */
  unchanged: number;
}

/** What a page write changed. */
export interface PageWriteResult {
  /** New rows in the primary table. */
  inserted: number;
  /** Primary-table rows that were already stored (overlap, re-runs). */
  unchanged: number;
  /** Keys (first key column, as text) of the primary-table rows that are new. */
  insertedKeys: string[];
  /** Counts per app table of the data model, by table name. */
  tables: Record<string, TableWriteCounts>;
  /** Customer e-mails seen for the first time by this installation. */
  newContacts: number;
  /**
   * Rejected records set aside by this page. One an earlier page already set aside for the same
   * reason (a look-back reads it again) is not recorded twice and not counted here.
   */
  rejected: number;
}

/** A customer saved by a run, with the feedback that was saved: the run log's main content. */
export interface SavedFeedback {
  /** The record's key; runs logged before the log was connector-neutral did not keep it. */
  key?: string;
  /** The contact (an e-mail), when the record has one. */
  contact?: string;
  /** What the record is, such as its form or survey. */
  label?: string;
  /** Named values, in the order the connector gave them. */
  fields?: Record<string, SummaryValue>;
}

/**
 * How a run ended: `succeeded`, `failed`, `stopped` (a shutdown signal stopped it between pages;
 * what it committed stays and the next run resumes), or `abandoned` (its process died without
 * closing the run; found out by the next run, `runner status` or `doctor`).
 */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'stopped' | 'abandoned';

/** Final state of a run. */
export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'stopped';
  fetched: number;
  inserted: number;
  unchanged: number;
  rejected: number;
  /** Customers saved, with their feedback. */
  saved: SavedFeedback[];
  /** Failure message, readable by an operator. */
  error?: string;
  /** Error code of the failure, for scripts. */
  errorCode?: string;
  /** Warnings, such as a token about to expire. */
  warnings: string[];
  /**
   * Records read more than once in this run (a busy second at a window boundary, a page that
   * shifted while it was read): counted once as new or already stored, and here for the rest, so
   * that fetched = inserted + unchanged + rejected + duplicates.
   */
  duplicates?: number;
  /** New records found behind the previous run's checkpoint, by the look-back or the reconciliation pass. */
  late?: number;
  /** New records without a usable customer e-mail: stored as received, never linked to a contact. */
  withoutEmail?: number;
  /** The range a reconciliation pass read again in this run, as ISO-8601 instants. */
  reconciled?: { since: string; until: string };
}

/** A run as the log shows it. */
export interface RunRecord extends Omit<RunOutcome, 'status'> {
  id: string;
  installationId: string;
  workspace: string;
  app: string;
  startedAt: Date;
  finishedAt: Date | null;
  status: RunStatus;
  /** How many customers the run saved; `saved` holds only the first of them (see {@link Store.listSavedCustomers}). */
  savedTotal: number;
  /** Rejected records with their reasons. */
  rejectedRecords: { sourceId?: string; reason: string }[];
}

/** One customer a run saved, with its place in the run's list (the cursor for the next page). */
export interface SavedCustomer extends SavedFeedback {
  /** Position in the run's list, increasing; pass the last one as `after` for the next page. */
  seq: number;
}

/** A page of the customers a run saved. */
export interface SavedCustomerPage {
  runId: string;
  /** All customers the run saved. */
  total: number;
  customers: SavedCustomer[];
  /** The `after` of the next page, or undefined on the last page. */
  next?: number;
}

/** Who holds an installation's run lock: a running sync (scheduled or manual). */
export interface RunLockHolder {
  installationId: string;
  /** Host name and process id of the process that holds it. */
  host: string;
  pid: number;
  /** When it took the lock. */
  since: Date;
}

// ---- App lifecycle: stored rows for remapping, invoices, secret rotation ----

/** A batch of rows of one app table read in key order (keyset pagination). */
export interface RowQuery {
  /** Table of the installation's data model. */
  table: string;
  /** Columns to read besides the key columns, which every row carries. */
  columns: readonly string[];
  /** Key values (the table's declared key, in order) of the last row already read; omit for the first batch. */
  after?: readonly CellValue[];
  /** At most this many rows. */
  limit: number;
}

/** Rows read by {@link Store.readRows}: JSON columns come as JSON text, timestamps as ISO-8601 UTC text. */
export interface RowBatch {
  rows: Row[];
  /** Key of the last row, to pass as `after`; undefined once the table is exhausted. */
  after?: CellValue[];
}

/** What rewriting rows changed. */
export interface RewriteResult {
  /** Counts per app table of the data model, by table name. */
  tables: Record<string, TableWriteCounts>;
  /** Customer e-mails seen for the first time by this installation. */
  newContacts: number;
}

/** What re-sealing the secrets under the current key did. */
export interface SecretResealResult {
  /** Secrets sealed again. */
  resealed: number;
  /** The key they are sealed with now. */
  keyId: string;
}

// ---- Scheduling: the runner's bookkeeping (hourly syncs, periodic tasks) ----

/** How a run the scheduler made ended; `interrupted` means a shutdown stopped it between pages. */
export type ScheduledRunStatus = 'succeeded' | 'failed' | 'interrupted';

/** Where an installation stands in the runner's schedule. */
export interface ScheduleState {
  installationId: string;
  /** When the next run is due. */
  nextRunAt: Date;
  /** Failed runs in a row; 0 after a success. */
  attempts: number;
  /** Start and end of the last run the scheduler made, and how it ended. */
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastStatus: ScheduledRunStatus | null;
  /** Error code of the last failure (e.g. `SOURCE_RATE_LIMITED`), null after a success. */
  lastErrorCode: string | null;
  /** Bumped by every save, so that a job made for an older state is recognised as stale; 0 before the first save. */
  version: number;
}

/** An active installation and its schedule (`state` is undefined until its first scheduled run). */
export interface ScheduleEntry {
  installationId: string;
  workspace: string;
  app: string;
  installedAt: Date;
  state: ScheduleState | undefined;
}

/** The outcome of {@link Store.withRunLock}. */
export type RunLockResult<T> = { acquired: true; value: T } | { acquired: false };

/**
 * The store port: everything the runner and the CLI need from a database. Implementations must
 * write a page and its checkpoint atomically, never create or change a table they do not own, and
 * bind every value as a parameter. Failures are TributaryErrors: ConfigError for what the user must
 * change, StorageError for what the database refused.
 */
export interface Store {
  /** Creates or upgrades Tributary's own tables. */
  migrate(): Promise<void>;
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
  /** The administrators of a workspace (none for a workspace nobody has claimed yet). */
  listWorkspaceAdmins(workspace: string): Promise<WorkspaceAdmin[]>;
  /** Makes `user` an administrator of the workspace; `actor` must be one (or claims a workspace that has none). */
  addWorkspaceAdmin(workspace: string, user: string, actor: string): Promise<void>;
  /** Takes `user`'s administrator role away; `actor` must be an administrator, and the last one stays. */
  removeWorkspaceAdmin(workspace: string, user: string, actor: string): Promise<void>;
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
  /**
   * How many rows of an installation each of its app tables holds (the contacts table included),
   * keyed by the table's name as the database knows it (inside the schema, or with the prefix).
   */
  countRows(installationId: string): Promise<Record<string, number>>;
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
  /** The newest runs, newest first. */
  listRuns(filter: { workspace?: string; app?: string; limit: number }): Promise<RunRecord[]>;
  /**
   * The newest run of each of these installations (none for one that never ran), in their order.
   * Their `saved` lists may be left empty (`savedTotal` still counts them): a status needs no customers.
   */
  latestRuns(installationIds: readonly string[]): Promise<RunRecord[]>;
  /** One run by id, or undefined. */
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Every customer a run saved, a page at a time, in the order it saved them; undefined for an unknown run. */
  listSavedCustomers(runId: string, page: { after?: number; limit: number }): Promise<SavedCustomerPage | undefined>;
  /**
   * Marks `running` runs whose process died as `abandoned`: a run is dead when its installation's
   * run lock is free (taking the lock proves it). Its counts become what it committed (rows carrying
   * its run id, records it set aside); `finishedAt` stays null (when it died is not known) and a
   * warning says it was found at `at`. Optionally only of some installations. Returns those marked.
   */
  markAbandonedRuns(at: Date, installationIds?: readonly string[]): Promise<RunRecord[]>;

  // --- Profiles (segments over an app's feedback; see @tributary/store-typeorm's README) ---
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
  evaluateProfile(workspace: string, name: string, options?: EvaluateProfileOptions): Promise<ProfileEvaluation>;
  /** Recorded evaluations of a profile with their membership changes, newest first. */
  profileHistory(workspace: string, name: string, options: { limit: number }): Promise<ProfileHistoryEntry[]>;
  /** The forms and questions of the workspace's feedback, by form id: what profiles can name. */
  listFeedbackForms(workspace: string): Promise<FeedbackForm[]>;
  // --- end of profiles ---

  /** Releases connections. */
  close(): Promise<void>;

  // ---- App lifecycle: remapping, invoices, secret rotation ----
  /** Reads rows of an installation's app table in key order, a batch at a time, for remapping stored data. */
  readRows(installationId: string, query: RowQuery): Promise<RowBatch>;
  /**
   * Writes rows with overwrite semantics into every table, the primary table included: a known row
   * gets the given values (only when one differs), a new one is inserted, and new e-mails get
   * contacts; set-based, in one transaction. Refuses an installation that is not active.
   */
  rewriteRows(installationId: string, rows: MappedRows): Promise<RewriteResult>;
  /** Records invoices; one whose (installation, period start) is already recorded is skipped. Returns those added. */
  recordInvoices(invoices: readonly NewInvoice[]): Promise<Invoice[]>;
  /** Invoices, oldest period first, optionally of one workspace or installation. */
  listInvoices(filter?: { workspace?: string; installationId?: string }): Promise<Invoice[]>;
  /** Every installation, active or not, as billing needs it: plan, install and uninstall times, billed until. */
  listBillingAccounts(): Promise<BillingAccount[]>;
  /** Seals every stored secret again under the cipher's current key, in one transaction. */
  resealSecrets(): Promise<SecretResealResult>;
  /** How many stored secrets each key id sealed. */
  secretKeyUsage(): Promise<Record<string, number>>;

  // ---- Scheduling (runner): see @tributary/store-typeorm's README, tables `schedules` and `periodic_tasks` ----
  /** Every active installation with its schedule, for the scheduler's tick and `tributary runner status`. */
  listSchedules(): Promise<ScheduleEntry[]>;
  /** The schedule of one installation, or undefined before its first scheduled run. */
  readSchedule(installationId: string): Promise<ScheduleState | undefined>;
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
  // ---- end of scheduling ----
}
