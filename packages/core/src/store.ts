import type { DataModel } from './data-model.js';
import type { RejectedRecord } from './connector.js';
import type { Mapping, MappedRows } from './mapping.js';

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
}

/** How to uninstall. */
export interface UninstallOptions {
  /** Whether to delete the installation's rows from the app tables and its checkpoints; run logs stay. */
  purge: boolean;
  /** When the app was uninstalled. */
  at: Date;
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
}

/** A customer saved by a run, with the feedback that was saved: the run log's main content. */
export interface SavedFeedback {
  email: string;
  form?: string;
  score?: number;
  comment?: string;
}

/** Final state of a run. */
export interface RunOutcome {
  status: 'succeeded' | 'failed';
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
}

/** A run as the log shows it. */
export interface RunRecord extends Omit<RunOutcome, 'status'> {
  id: string;
  installationId: string;
  workspace: string;
  app: string;
  startedAt: Date;
  finishedAt: Date | null;
  status: 'running' | 'succeeded' | 'failed';
  /** Rejected records with their reasons. */
  rejectedRecords: { sourceId?: string; reason: string }[];
}

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
   * app in a workspace with a ConfigError.
   */
  install(installation: NewInstallation): Promise<Installation>;
  /** An installation by id, whatever its status, or undefined. */
  getInstallation(id: string): Promise<Installation | undefined>;
  /** The active installation of an app in a workspace, or undefined. */
  findInstallation(workspace: string, app: string): Promise<Installation | undefined>;
  /** Every installation (active and uninstalled), optionally of one workspace. */
  listInstallations(workspace?: string): Promise<Installation[]>;
  /**
   * Creates the installation's app tables, or adds the columns and indexes its data model gained
   * (after a connector upgrade), idempotently. Never drops or narrows anything.
   */
  provision(installation: Installation): Promise<void>;
  /** Changes an active installation's config, secrets, mappings, data model or customer link in one transaction. */
  updateInstallation(id: string, changes: InstallationChanges): Promise<Installation>;
  /** Marks an installation uninstalled, deletes its secrets, and with `purge` its rows and checkpoints. */
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
  /** Releases connections. */
  close(): Promise<void>;
}
