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
  workspace: string;
  app: string;
  config: Record<string, unknown>;
  secretFields: readonly string[];
  mappings: Mapping[];
  dataModel: DataModel;
  customerTable?: CustomerTableLink;
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

/** What a page write changed. */
export interface PageWriteResult {
  /** New rows in the primary table. */
  inserted: number;
  /** Primary-table rows that were already stored (overlap, re-runs). */
  unchanged: number;
  /** Keys (first key column, as text) of the primary-table rows that are new. */
  insertedKeys: string[];
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
 * bind every value as a parameter.
 */
export interface Store {
  /** Creates or upgrades Tributary's own tables. */
  migrate(): Promise<void>;
  /** Saves an installation and provisions its tables in one step; on failure nothing is left behind. */
  install(installation: NewInstallation): Promise<Installation>;
  /** The active installation of an app in a workspace, or undefined. */
  findInstallation(workspace: string, app: string): Promise<Installation | undefined>;
  /** Every installation, optionally of one workspace. */
  listInstallations(workspace?: string): Promise<Installation[]>;
  /** Reads the stored checkpoint of a stream, or null before the first page. */
  readCheckpoint(installationId: string, stream: string): Promise<unknown>;
  /** Stores a page's rows, rejected records and checkpoint in one transaction. */
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
