import type { DestinationStore, PersonalDataStore, RetentionStore, Store } from '@tributary/core';
import type { DialectName, TableNaming } from './naming.js';

// The interface the store implements, apart from the implementation: core's store roles composed
// with what the profile compiler and operators need.

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
