import type { QueryRunner } from 'typeorm';
import type { Statement } from './dialect.js';

// Reads that hand their rows on in batches as the database produces them, several statements in
// one snapshot (see Database.snapshot): a PostgreSQL REPEATABLE READ transaction with one cursor at
// a time, or one SQLite read transaction with one statement iterator at a time.

/** The part of a better-sqlite3 connection a snapshot read uses. */
export interface SqliteConnection {
  prepare(sql: string): { iterate(...params: unknown[]): IterableIterator<unknown> };
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
}

/** How a statement read in a snapshot is planned. */
export interface RowsOptions {
  /**
   * Plan for the first rows soon (PostgreSQL) rather than for all of them at the least total cost:
   * for a statement written to be read in an index's order. Its first FETCH is small, too.
   */
  firstRows?: boolean;
}

/** Statements read inside one snapshot, one after the other. */
export interface SnapshotReader {
  /**
   * The rows of one read-only SELECT, `batchSize` at a time. One statement at a time: a reader ends
   * (or returns) one before it starts the next; return() closes its cursor or stops its statement.
   */
  rows<T>(statement: Statement, batchSize: number, options?: RowsOptions): AsyncGenerator<T[], void, undefined>;
}

/** What reads a snapshot: its generator's values go to the snapshot's reader. */
export type SnapshotRead<T, R> = (reader: SnapshotReader) => AsyncGenerator<T, R, undefined>;

/**
 * How PostgreSQL plans a stream read for its first rows (a statement written for an ordered index
 * scan that yields rows as it goes): for the first rows rather than for all of them, and without JIT
 * compilation, which would delay the first row by its compile time. Inside the stream's transaction.
 */
export const FIRST_ROWS_SETTINGS = ['SET LOCAL cursor_tuple_fraction = 0.01', 'SET LOCAL jit = off'] as const;

/** Rows of the first FETCH of a statement read for its first rows. */
export const FIRST_BATCH = 100;

async function* sqliteRows<T>(connection: SqliteConnection, statement: Statement, batchSize: number): AsyncGenerator<T[], void, undefined> {
  // better-sqlite3 binds no booleans; TypeORM's query() converts them the same way.
  const params = statement.params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  const rows = connection.prepare(statement.sql).iterate(...params) as IterableIterator<T>;
  try {
    let batch: T[] = [];
    for (const row of rows) {
      batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    // Stops the statement when the reader left early.
    rows.return?.();
  }
}

/**
 * `read` in one SQLite read transaction on `connection`: in WAL mode its snapshot is taken at its
 * first read and kept until COMMIT, whatever another connection commits in between.
 */
export async function* sqliteSnapshot<T, R>(connection: SqliteConnection, read: SnapshotRead<T, R>): AsyncGenerator<T, R, undefined> {
  connection.exec('BEGIN');
  try {
    return yield* read({ rows: <U>(statement: Statement, batchSize: number) => sqliteRows<U>(connection, statement, batchSize) });
  } finally {
    // A read transaction: COMMIT only ends it. Every statement of `read` has stopped by now.
    if (connection.inTransaction) connection.exec('COMMIT');
  }
}

async function* postgresCursor<T>(
  queryRunner: QueryRunner,
  name: string,
  statement: Statement,
  batchSize: number,
  options: RowsOptions,
): AsyncGenerator<T[], void, undefined> {
  if (options.firstRows) {
    for (const setting of FIRST_ROWS_SETTINGS) await queryRunner.query(setting);
  } else {
    // Planned for all of its rows, as the same query run whole is: PostgreSQL would otherwise
    // favour a plan that starts fast and finishes slow (it assumes a cursor reads a tenth).
    await queryRunner.query('SET LOCAL cursor_tuple_fraction = 1.0');
  }
  await queryRunner.query(`DECLARE "${name}" NO SCROLL CURSOR FOR ${statement.sql}`, [...statement.params]);
  try {
    // A first batch that is small when the rows are to come soon; then `batchSize` rows a round trip.
    let size = options.firstRows ? Math.min(FIRST_BATCH, Math.trunc(batchSize)) : Math.trunc(batchSize);
    for (;;) {
      const result = (await queryRunner.query(`FETCH ${size} FROM "${name}"`, [], true)) as { records?: T[] };
      const rows = result.records ?? [];
      if (rows.length > 0) yield rows;
      if (rows.length < size) break;
      size = Math.trunc(batchSize);
    }
  } finally {
    // Frees the cursor's portal for the next statement of the snapshot; the transaction's end
    // would close it anyway (and after a failed FETCH, only the end can).
    await queryRunner.query(`CLOSE "${name}"`).catch(() => undefined);
  }
}

/**
 * `read` in one PostgreSQL transaction, REPEATABLE READ and read only: every statement sees the
 * snapshot of the first. It ends with a ROLLBACK (nothing was written), which also closes any cursor.
 */
export async function* postgresSnapshot<T, R>(queryRunner: QueryRunner, read: SnapshotRead<T, R>): AsyncGenerator<T, R, undefined> {
  await queryRunner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let cursors = 0;
  try {
    return yield* read({
      rows: <U>(statement: Statement, batchSize: number, options: RowsOptions = {}) =>
        postgresCursor<U>(queryRunner, `tributary_stream_${++cursors}`, statement, batchSize, options),
    });
  } finally {
    await queryRunner.query('ROLLBACK').catch(() => undefined);
  }
}
