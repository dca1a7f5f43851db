import type { SavedFeedback } from './store.js';

// One person's data, found and erased on request (the GDPR's rights of access and erasure), and
// the retention period after which an installation's responses and raw records are deleted. The
// store finds a person through each connector's data model (its customer e-mail column, its
// feedback view, the rows linked to a response by its key), never through one connector's names.

/**
 * An address as erasure matches it: without any whitespace and lower-cased, so that
 * `" Ann@Example.COM "` is the same person as `ann@example.com`.
 */
export function normalizeCustomerEmail(input: string): string {
  return input.replace(/\s+/gu, '').toLowerCase();
}

/** A row of an app table, its values as the database returns them. */
export type StoredRow = Record<string, unknown>;

/** One record of the person (a row of the app's primary table) with the rows linked to it. */
export interface CustomerRecord {
  /** The primary table's name in the data model (`form_responses`). */
  table: string;
  row: StoredRow;
  /** Rows of other tables that belong to the record (its answers), by table name. */
  linked: Record<string, StoredRow[]>;
}

/** What one installation holds about the person. */
export interface CustomerAppData {
  workspace: string;
  app: string;
  installationId: string;
  status: 'active' | 'uninstalled';
  records: CustomerRecord[];
  /** Rows of the app's contacts table (the customer's id in that app). */
  contacts: StoredRow[];
  /** Lines of the run log that name the person. */
  runLog: { runId: string; startedAt: Date; line: SavedFeedback }[];
  /** Records set aside whose raw copy or reason holds the address. */
  rejected: { runId: string; sourceId?: string; reason: string; raw: unknown; createdAt: Date }[];
}

/** The person in one profile: member since when, and every entry and exit recorded. */
export interface CustomerProfileData {
  workspace: string;
  profile: string;
  /** When the evaluation that made them a member ran; absent when they are not a member now. */
  memberSince?: Date;
  history: { evaluatedAt: Date; change: 'entered' | 'left' }[];
}

/** An erasure: which scope, when, by whom, how many rows; never the address. */
export interface ErasureReceipt {
  id: string;
  /** The workspace the erasure covered; absent: every workspace. */
  workspace?: string;
  erasedAt: Date;
  erasedBy?: string;
  /** Rows deleted or anonymised, by where they were. */
  counts: Record<string, number>;
  /** When the operator let syncs import the person again; absent while they are kept out. */
  liftedAt?: Date;
  liftedBy?: string;
}

/** What one erasure did: the receipt in force for that address and scope, and what this pass erased. */
export interface Erasure {
  /**
   * The receipt that keeps the person out. A second erasure of the same address in the same scope
   * reuses the standing one (its counts grow by what this pass erased), so that lifting it lets the
   * person back and no forgotten duplicate keeps them out.
   */
  receipt: ErasureReceipt;
  /** Whether an unlifted receipt for this address and scope stood already. */
  alreadyForgotten: boolean;
  /** Rows this pass deleted or anonymised, by where they were (empty when nothing was left). */
  erased: Record<string, number>;
}

/** Everything held about one person. */
export interface CustomerDataReport {
  /** The address as it was matched (see {@link normalizeCustomerEmail}). */
  email: string;
  workspace?: string;
  apps: CustomerAppData[];
  profiles: CustomerProfileData[];
  /** Erasures of this address whose suppression still keeps syncs from importing it. */
  suppressedBy: ErasureReceipt[];
}

/** What a retention pass deleted from one installation. */
export interface RetentionResult {
  installationId: string;
  /** Rows older than this went; absent when the installation keeps its data (no retention set). */
  cutoff?: Date;
  /** Records of the primary table deleted (their linked rows with them). */
  records: number;
  /** Rows of the other tables linked to them. */
  linked: number;
  rejected: number;
  runLogLines: number;
  /** Transactions it took. */
  batches: number;
}

/** Finding and erasing one person's data. */
export interface PersonalDataStore {
  /**
   * Everything held about the address, in every app of the workspace (or of every workspace); with a
   * workspace, `suppressedBy` holds only the receipts that cover it (its own and those of every workspace).
   */
  findCustomer(email: string, options: { workspace?: string }): Promise<CustomerDataReport>;
  /**
   * Erases or anonymises everything held about the address in one transaction, records a receipt
   * (a salted hash, never the address) and from then on keeps syncs from storing that person. A
   * standing receipt of the same address and scope is reused rather than doubled.
   */
  forgetCustomer(email: string, options: { workspace?: string; actor?: string; at: Date }): Promise<Erasure>;
  /** Lets syncs import the person of a receipt again; the data erased stays erased. */
  liftErasure(receiptId: string, options: { actor?: string; at: Date }): Promise<ErasureReceipt>;
  /** Every erasure receipt, newest first. */
  listErasureReceipts(): Promise<ErasureReceipt[]>;
}

/** Deleting an installation's responses and raw records older than its retention period. */
export interface RetentionStore {
  /** Deletes what is older than the installation's retention period at `now`, `batchSize` records per transaction. */
  applyRetention(installationId: string, now: Date, options?: { batchSize?: number }): Promise<RetentionResult>;
}
