import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { DataSource, MigrationExecutor, type EntityManager, type QueryRunner } from 'typeorm';
import { from as copyFrom } from 'pg-copy-streams';
import { ConfigError, StorageError, type Logger } from '@tributary/core';
import type { Dialect, Statement } from './dialect.js';
import { driverCode, storageFailure } from './errors.js';
import { quoteIdentifier } from './naming.js';
import { typeormLogger } from './typeorm-logger.js';
import type { DatabaseTarget } from './url.js';
import { postgresSnapshot, sqliteSnapshot, type RowsOptions, type SnapshotRead, type SqliteConnection } from './snapshot-reads.js';

export { FIRST_ROWS_SETTINGS, FIRST_BATCH, type SnapshotReader, type SnapshotRead } from './snapshot-reads.js';

/** Runs statements on one connection, inside or outside a transaction. */
export interface Executor {
  /** Runs bound SQL and returns its rows (none for statements without a result). */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a built statement. */
  run<T = Record<string, unknown>>(statement: Statement): Promise<T[]>;
  /** Runs a built statement that returns no rows; resolves to the number of rows it changed. */
  execute(statement: Statement): Promise<number>;
  /** TypeORM's entity manager on the same connection (and transaction). */
  readonly manager: EntityManager;
  /** Runs `COPY … FROM STDIN` with `data` as its input; PostgreSQL only (see Dialect.stageInsert). */
  copyIn?(sql: string, data: string): Promise<void>;
}

/** The part of a pg connection a COPY uses. */
interface PostgresConnection {
  query<T>(stream: T): T;
}

/** A connected database: connections, transactions and migrations, the same for both dialects. */
export interface Database {
  readonly dialect: Dialect;
  readonly target: DatabaseTarget;
  /** Runs `work` on a connection outside a transaction. */
  withConnection<T>(work: (db: Executor) => Promise<T>): Promise<T>;
  /** Runs `work` in a write transaction: everything commits together or nothing does. */
  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T>;
  /** Runs `work` on a connection that refuses every write. */
  readOnly<T>(work: (db: Executor) => Promise<T>): Promise<T>;
  /**
   * The rows of one read-only SELECT, `batchSize` at a time, as the database produces them: a
   * server-side cursor on PostgreSQL, better-sqlite3's iterator on SQLite. The connection is held
   * until the generator ends; a caller that stops early (`return()`, or a `for await` left by
   * `break` or an error) closes the cursor, and no further rows are read. `firstRows` plans for
   * the first rows soon (PostgreSQL) rather than for all of them at the least total cost: for a
   * statement written to be read in an index's order.
   */
  stream<T>(statement: Statement, batchSize: number, options?: RowsOptions): AsyncGenerator<T[], void, undefined>;
  /**
   * Several read-only SELECTs read one after the other in one snapshot, each as {@link stream}
   * reads one: none sees what was committed after the first began. PostgreSQL: one REPEATABLE READ
   * transaction; SQLite: one read transaction. `read`'s values go to the caller; the connection is
   * held until the generator ends, and a caller that stops early closes the open statement.
   */
  snapshot<T, R = void>(read: SnapshotRead<T, R>): AsyncGenerator<T, R, undefined>;
  /** Applies pending migrations; returns their names. */
  migrate(): Promise<string[]>;
  /** The names of the migrations not applied yet, without applying (or creating) anything. */
  pendingMigrations(): Promise<string[]>;
  /** Reverts the newest applied migration. */
  revertLastMigration(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs tasks one after another. TypeORM's better-sqlite3 driver shares a single connection, so two
 * overlapping operations would otherwise interleave their statements inside one transaction.
 */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Names of prepared statements by their text (see Statement.prepare). */
const preparedNames = new Map<string, string>();

/**
 * What node-postgres runs for a statement: its text, or for a prepared one a named query, which the
 * connection parses and plans once. TypeORM hands it to node-postgres as it is; its logger and
 * errors print the text.
 */
function postgresText(statement: Statement): string {
  if (!statement.prepare) return statement.sql;
  let name = preparedNames.get(statement.sql);
  if (name === undefined) {
    name = `tributary_${createHash('sha256').update(statement.sql).digest('hex').slice(0, 32)}`;
    preparedNames.set(statement.sql, name);
  }
  const text = statement.sql;
  return { name, text, toString: () => text } as unknown as string;
}

function executorOf(queryRunner: QueryRunner): Executor {
  const postgres = queryRunner.connection.driver.options.type === 'postgres';
  const textOf = (statement: Statement) => (postgres ? postgresText(statement) : statement.sql);
  const query = async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
    const result = (await queryRunner.query(sql, [...params], true)) as { records?: T[] };
    return result.records ?? [];
  };
  const execute = async (statement: Statement): Promise<number> => {
    const result = (await queryRunner.query(textOf(statement), statement.params as unknown[], true)) as { affected?: number };
    return result.affected ?? 0;
  };
  const executor: Executor = { query, run: (statement) => query(textOf(statement), statement.params), execute, manager: queryRunner.manager };
  if (!postgres) return executor;
  executor.copyIn = async (sql, data) => {
    // The connection TypeORM's query runner holds, inside the same transaction as its statements.
    const connection = (queryRunner as unknown as { databaseConnection: PostgresConnection }).databaseConnection;
    const copy = connection.query(copyFrom(sql));
    copy.end(data);
    await finished(copy);
  };
  return executor;
}

function passwordOf(target: DatabaseTarget): string | undefined {
  if (target.dialect !== 'postgres') return undefined;
  try {
    return decodeURIComponent(new URL(target.url).password) || undefined;
  } catch {
    return undefined;
  }
}

function dataSourceFor(target: DatabaseTarget, dialect: Dialect, logger: Logger, poolSize: number | undefined): DataSource {
  const common = {
    entities: Object.values(dialect.entities),
    migrations: [...dialect.migrations],
    synchronize: false,
    migrationsRun: false,
    logger: typeormLogger(logger),
  };
  if (target.dialect === 'postgres') {
    return new DataSource({
      ...common,
      type: 'postgres',
      url: target.url,
      schema: dialect.naming.schema,
      migrationsTableName: 'migrations',
      installExtensions: false,
      applicationName: 'tributary',
      connectTimeoutMS: 10_000,
      // Tributary's statements are short and indexed; PostgreSQL's JIT would spend more compiling a
      // profile query over a million responses (about 15 ms here) than it saves running it.
      extra: { options: '-c jit=off' },
      ...(poolSize ? { poolSize } : {}),
    });
  }
  const inMemory = target.path === ':memory:';
  return new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: target.path,
    entityPrefix: dialect.naming.tablePrefix,
    migrationsTableName: `${dialect.naming.tablePrefix}migrations`,
    enableWAL: !inMemory,
    timeout: 10_000,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      // Wait for another process's write lock instead of failing at once.
      db.pragma('busy_timeout = 10000');
      // In WAL mode (enableWAL above) NORMAL syncs at checkpoints, not at every commit. A commit is
      // still atomic: a page's rows and its checkpoint are one transaction, in the WAL together or
      // not at all. A killed process loses nothing it committed (the WAL is written before COMMIT
      // returns); only a power cut may lose the last commits, whole, and the next run reads them again.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // A checkpoint copies the WAL's pages into the database and syncs it. Every 10,000 pages
      // (about 40 MB of WAL) instead of SQLite's 1,000, a page that a backfill rewrites many times
      // (index pages) is copied once per checkpoint rather than ten times: about 15% less time in
      // a backfill's inserts. Its cost is a larger WAL file on disk, not memory.
      db.pragma('wal_autocheckpoint = 10000');
    },
  });
}

/** Attempts of a transaction the database aborted for a conflict with another one. */
export const CONFLICT_ATTEMPTS = 5;

/**
 * Whether the database gave up on a transaction because of another one, so that running it again
 * from the start is safe and likely to succeed: a PostgreSQL deadlock (40P01) or serialization
 * failure (40001), or SQLite still busy after its busy timeout.
 */
export function isTransientConflict(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = driverCode(e);
    if (code === '40P01' || code === '40001' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED') return true;
  }
  return false;
}

/** Runs a whole transaction again, after a short randomized backoff, when the database aborted it for a conflict. */
export async function retryingConflicts<T>(logger: Logger, attempt: () => Promise<T>, attempts = CONFLICT_ATTEMPTS): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= attempts || !isTransientConflict(error)) throw error;
      // Randomized so that the two sides of a deadlock do not collide again in step.
      const delay = Math.round((25 * 2 ** n) * (0.5 + Math.random()));
      logger.warn({ attempt: n, delayMs: delay, code: driverCode(error) }, 'transaction aborted by a conflict with another one; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** The most of a SQLite file a stream's connection maps into memory (address space, not RSS). */
const STREAM_MMAP_BYTES = 1024 * 1024 * 1024;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  target: DatabaseTarget;
  dialect: Dialect;
  logger: Logger;
  poolSize?: number;
  /**
   * Whether a missing SQLite file may be created (default true). When false, a missing file is a
   * ConfigError `STORE_MISSING` and nothing, not even its directory, is created.
   */
  create?: boolean;
}

/**
 * Creates a missing SQLite file 0600 in a directory created 0700: it holds e-mails, comments and raw
 * records. SQLite gives its -wal and -shm files the mode of the database file. An existing
 * directory keeps its mode: it may be the user's own (or /tmp).
 */
function createSqliteFile(path: string, description: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return; // another process created it first
    throw new StorageError('STORE_UNREACHABLE', `Could not create the ${description}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Connects to the database; a failure becomes a StorageError naming the database, never its password. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const { target, dialect, logger } = options;
  if (target.dialect === 'sqlite' && target.path !== ':memory:') {
    if (options.create === false) {
      if (!existsSync(target.path)) {
        throw new ConfigError('STORE_MISSING', `No database at ${target.path}.`, {
          hint: 'Install an app first, or create the database by applying the migrations.',
        });
      }
    } else {
      createSqliteFile(target.path, target.description);
    }
  }
  const dataSource = dataSourceFor(target, dialect, logger, options.poolSize);
  try {
    await dataSource.initialize();
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    const password = passwordOf(target);
    let reason = (error as Error).message ?? String(error);
    if (password) reason = reason.replaceAll(password, '***');
    throw new StorageError('STORE_UNREACHABLE', `Could not reach the ${target.description}: ${reason}`, {
      cause: Object.assign(new Error(reason), { code: (error as { code?: unknown }).code }),
      hint: 'Check TRIBUTARY_DATABASE_URL, that the database is running, and that this machine may connect to it.',
    });
  }
  logger.debug({ database: target.description }, 'store connected');

  const serial = target.dialect === 'sqlite' ? new SerialQueue() : undefined;
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => (serial ? serial.run(task) : task());

  const withQueryRunner = <T>(work: (queryRunner: QueryRunner) => Promise<T>): Promise<T> =>
    exclusive(async () => {
      const queryRunner = dataSource.createQueryRunner();
      try {
        await queryRunner.connect();
        return await work(queryRunner);
      } finally {
        await queryRunner.release();
      }
    });

  // A connection held for as long as a stream is read: on SQLite it is the only one, so the serial
  // queue keeps its slot until the stream ends.
  const holdQueryRunner = (): { ready: Promise<QueryRunner>; release: () => void } => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const ready = new Promise<QueryRunner>((resolve, reject) => {
      void exclusive(async () => {
        const queryRunner = dataSource.createQueryRunner();
        try {
          await queryRunner.connect();
        } catch (error) {
          await queryRunner.release().catch(() => undefined);
          reject(error as Error);
          return;
        }
        resolve(queryRunner);
        await released;
        await queryRunner.release();
      });
    });
    return { ready, release };
  };

  async function* snapshot<T, R>(read: SnapshotRead<T, R>): AsyncGenerator<T, R, undefined> {
    if (target.dialect === 'sqlite' && target.path !== ':memory:') {
      // A connection of its own, read-only: in WAL mode it reads a snapshot while the store's one
      // connection goes on writing, so a slow reader (an HTTP client) never holds up syncs or the API.
      const { default: Sqlite } = await import('better-sqlite3');
      const own = new Sqlite(target.path, { readonly: true, fileMustExist: true });
      try {
        own.pragma('busy_timeout = 10000');
        // Read through a memory map rather than a read() per page: a profile read in member order
        // probes its answers all over the file, and the page cache of a connection is small.
        own.pragma(`mmap_size = ${STREAM_MMAP_BYTES}`);
        return yield* sqliteSnapshot(own, read);
      } finally {
        own.close();
      }
    }
    const held = holdQueryRunner();
    try {
      const queryRunner = await held.ready;
      if (dialect.name === 'postgres') return yield* postgresSnapshot(queryRunner, read);
      const connection = (queryRunner.connection.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
      return yield* sqliteSnapshot(connection, read);
    } finally {
      held.release();
    }
  }

  const stream = <T>(statement: Statement, batchSize: number, options: RowsOptions = {}): AsyncGenerator<T[], void, undefined> =>
    snapshot<T[], void>((reader) => reader.rows<T>(statement, batchSize, options));

  const migrationExecutor = (queryRunner: QueryRunner): MigrationExecutor => {
    const executor = new MigrationExecutor(dataSource, queryRunner);
    executor.transaction = 'all';
    return executor;
  };

  // Several processes may start at once; on PostgreSQL a session lock lets one migrate while the others wait.
  const underMigrationLock = <T>(work: (queryRunner: QueryRunner) => Promise<T>): Promise<T> =>
    withQueryRunner(async (queryRunner) => {
      const lock = dialect.migrationLock();
      if (lock) await queryRunner.query(lock.acquire.sql, lock.acquire.params);
      try {
        return await work(queryRunner);
      } finally {
        if (lock) await queryRunner.query(lock.release.sql, lock.release.params).catch(() => undefined);
      }
    });

  return {
    dialect,
    target,
    withConnection: (work) => withQueryRunner((queryRunner) => work(executorOf(queryRunner))),
    transaction: (work) =>
      retryingConflicts(logger, () => withQueryRunner(async (queryRunner) => {
        await queryRunner.query(dialect.beginWrite);
        let result;
        try {
          result = await work(executorOf(queryRunner));
        } catch (error) {
          await queryRunner.query('ROLLBACK').catch((rollbackError: unknown) => {
            logger.warn({ error: (rollbackError as Error).message }, 'rollback failed');
          });
          throw error;
        }
        await queryRunner.query('COMMIT');
        return result;
      })),
    readOnly: (work) =>
      withQueryRunner(async (queryRunner) => {
        await queryRunner.query(dialect.readOnly.begin);
        let result;
        try {
          result = await work(executorOf(queryRunner));
        } catch (error) {
          await queryRunner.query(dialect.readOnly.abort).catch(() => undefined);
          throw error;
        }
        await queryRunner.query(dialect.readOnly.end);
        return result;
      }),
    stream,
    snapshot,
    migrate: () =>
      underMigrationLock(async (queryRunner) => {
        try {
          if (dialect.name === 'postgres') {
            await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(dialect.naming.schema)}`);
          }
          const applied = await migrationExecutor(queryRunner).executePendingMigrations();
          for (const migration of applied) logger.info({ migration: migration.name }, 'migration applied');
          return applied.map((m) => m.name);
        } catch (error) {
          throw storageFailure(`migrate the ${target.description}`, error, 'STORE_MIGRATION_FAILED');
        }
      }),
    pendingMigrations: () =>
      withQueryRunner(async (queryRunner) => {
        try {
          // TypeORM reads its history table only when it exists, so nothing is created here.
          return (await migrationExecutor(queryRunner).getPendingMigrations()).map((m) => m.name);
        } catch (error) {
          throw storageFailure(`read the migration history of the ${target.description}`, error);
        }
      }),
    revertLastMigration: () =>
      underMigrationLock(async (queryRunner) => {
        try {
          await migrationExecutor(queryRunner).undoLastMigration();
        } catch (error) {
          throw storageFailure(`revert the last migration of the ${target.description}`, error, 'STORE_MIGRATION_FAILED');
        }
      }),
    close: () => exclusive(() => dataSource.destroy()),
  };
}
