import type { DataModel } from './data-model.js';
import type { RejectedRecord, SummaryValue } from './connector.js';
import type { Mapping, MappedRows, CellValue, Row } from './mapping.js';
import type { BillingSettings } from './billing.js';

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
  /** Days its responses and raw records are kept; absent: kept until deleted. */
  retentionDays?: number;
}

/**
 * An installation as a list shows it: its settings without any secret field (none is decrypted to
 * make it), and neither its mappings nor its data model.
 */
export interface InstallationSummary extends Omit<Installation, 'config' | 'mappings' | 'dataModel' | 'customerTable' | 'secretError'> {
  /** The configuration's plain (never encrypted) fields. */
  settings: Record<string, unknown>;
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
  /** Days its responses and raw records are kept; left out: kept until deleted. */
  retentionDays?: number;
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
  /** A new retention period in days, or null to keep the data until deleted. */
  retentionDays?: number | null;
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
  /** Records of a forgotten person (an erasure receipt keeps them out): not stored anywhere. */
  suppressed?: number;
  /** Of the page's rejected records, those that held a forgotten person's address: not set aside. */
  suppressedRejected?: number;
  /** Records older than the installation's retention period: not stored. */
  expired?: number;
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
  /** Records of forgotten people that were read and not stored (rejected ones included). */
  suppressed?: number;
  /** Records older than the retention period that were read and not stored. */
  expired?: number;
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

/** A page of the records a run set aside, each with its reason and the record as the source sent it. */
export interface RejectedRecordPage {
  runId: string;
  /** All records the run set aside. */
  total: number;
  records: { seq: number; sourceId?: string; reason: string; raw: unknown }[];
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

/** An active installation due to sync, with the schedule version its job must carry (0: never synced). */
export interface DueSchedule {
  installationId: string;
  version: number;
}

/** The outcome of {@link Store.withRunLock}. */
export type RunLockResult<T> = { acquired: true; value: T } | { acquired: false };

// ---- Jobs: syncs and remaps asked for over HTTP ----

export type JobKind = 'sync' | 'remap';
/**
 * `queued` until a server takes it (one at a time per installation, under its run lock, so that it
 * waits while another sync of the installation runs); `interrupted` when the process running it
 * died before it finished.
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'interrupted';

/** A sync or remap queued over HTTP, kept in the store so that any server process can run it and report on it. */
export interface Job {
  id: string;
  kind: JobKind;
  workspace: string;
  app: string;
  installationId: string;
  status: JobStatus;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** Records done so far, and of how many when known. */
  progress: { done: number; total?: number };
  /** The run a sync job made. */
  runId?: string;
  error?: { code: string; message: string };
  /** Why a job waits, did nothing or stopped, for the person polling it. */
  note?: string;
  result?: Record<string, unknown>;
}

/** A job to queue. */
export interface NewJob {
  kind: JobKind;
  installationId: string;
  workspace: string;
  app: string;
  createdAt: Date;
}

/** How a job ended (or, for `queued`, that it went back to the queue unfinished). */
export interface JobOutcome {
  status: Exclude<JobStatus, 'running'>;
  at: Date;
  progress: { done: number; total?: number };
  runId?: string;
  error?: { code: string; message: string };
  note?: string;
  result?: Record<string, unknown>;
}
