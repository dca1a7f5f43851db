import type { MigrationInterface } from 'typeorm';
import type { CellValue, ColumnType } from '@tributary/core';
import { defineEntities, type Entities } from './entities.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './migrations/index.js';
import { ownTable, quoteIdentifier as q, type DialectName, type PhysicalTable, type TableNaming } from './naming.js';
import { canonicalValue, type CanonicalValue, type SqlType } from './values.js';
import { copyText, stagingTable, STAGING_MIN_ROWS } from './postgres-staging.js';
import { chunk, fixedShapeChunks } from './statement-chunks.js';

// Every difference between PostgreSQL and SQLite lives in this file: column types, entities, which
// migration list applies (the lists are in migrations/index.ts), how rows are inserted in bulk, how
// tables are introspected, how writers are serialized. The rest of the store is written once
// against the Dialect interface.

// Statement sizing is shared by every module that builds SQL; it is re-exported here, where they import the dialect from.
export { chunk, fixedInList, fixedShapeChunks, IN_LIST_LIMIT } from './statement-chunks.js';

/** An SQL text with its bound values. */
export interface Statement {
  sql: string;
  params: unknown[];
  /**
   * Run on every job of the runner: PostgreSQL keeps it parsed and planned on each connection, by a
   * name made from its text (parsing and planning cost more than running such a statement). Only
   * for statements that name their columns, whose result no migration changes under a live connection.
   */
  prepare?: boolean;
}

/** A column of a bulk insert. */
export interface InsertColumn {
  name: string;
  type: SqlType;
}

/** What a conflicting row (same key) does in a bulk insert. */
export type ConflictAction =
  | { action: 'nothing' }
  /** Overwrites `columns`; with `onlyIfChanged`, only when one of them differs, so that equal data writes nothing. */
  | { action: 'update'; columns: readonly string[]; onlyIfChanged: boolean };

/** A set-based insert of many rows into one table. */
export interface InsertSpec {
  table: PhysicalTable;
  columns: readonly InsertColumn[];
  /** Values in column order, already canonical (see values.ts). */
  rows: readonly (readonly CanonicalValue[])[];
  /** The key a conflict is detected on; empty for a plain insert. */
  conflictKey: readonly string[];
  onConflict: ConflictAction;
  /** Columns to return for each row actually inserted or updated. */
  returning?: readonly string[];
}

/**
 * A bulk insert through a staging table: `lookup` returns one row whose `present` says whether
 * the session has the staging table; if not, `create` makes it. Then `copy` loads the rows and
 * `merge` moves them into the table as {@link Dialect.buildInsert}'s statements would (same
 * conflict handling, same RETURNING).
 */
export interface StagedInsert {
  lookup: Statement;
  create: Statement;
  copy: { sql: string; text: string };
  merge: Statement;
}

/** Name of the returned flag that tells an inserted row from an updated one (see Dialect.upsertFlag). */
export const INSERTED_FLAG = '__inserted';

/** A column as the database describes it. */
export interface DescribedColumn {
  name: string;
  /** The type as introspection reports it; compare with {@link Dialect.introspectedType}. */
  type: string;
  nullable: boolean;
  /** 1-based position in the primary key, 0 when not part of it. */
  pk: number;
}

/** Everything that differs between the databases the store supports. */
export interface Dialect {
  readonly name: DialectName;
  readonly naming: TableNaming;
  /** TypeORM entities of Tributary's own tables, typed for this dialect. */
  readonly entities: Entities;
  /** The migrations of Tributary's own tables, oldest first. */
  readonly migrations: readonly (new () => MigrationInterface)[];
  /** The statement that opens a write transaction. */
  readonly beginWrite: string;
  /** Statements that make a connection refuse writes for a while, and that end it. */
  readonly readOnly: { readonly begin: string; readonly end: string; readonly abort: string };
  /** DDL type of a column type. */
  columnType(type: SqlType): string;
  /** The type name introspection reports for a column created with {@link columnType}. */
  introspectedType(type: SqlType): string;
  /** Turns a canonical value into what the driver binds. */
  bind(type: SqlType, value: CanonicalValue): unknown;
  /** Bulk insert statements, split so that none exceeds the driver's limits. */
  buildInsert(spec: InsertSpec): Statement[];
  /**
   * The same insert through COPY into a staging table, where the database has COPY and the rows
   * are many enough for it to pay; undefined otherwise (use {@link buildInsert}).
   */
  stageInsert(spec: InsertSpec): StagedInsert | undefined;
  /**
   * Whether an insert that updates on conflict can return, with each row, a flag ({@link INSERTED_FLAG})
   * that tells a new row from an updated one. Where it can, one statement does what otherwise takes
   * an insert and a second, updating pass: a round trip less per table and page.
   */
  readonly upsertFlag: boolean;
  /** Describes a table's columns (none when it does not exist); names are bound, never spliced. */
  describeTable(schema: string | undefined, name: string): Statement;
  /** A statement held until commit that keeps other writers of the same key out, where the database has one. */
  transactionLock(key: string): Statement | undefined;
  /** Session-wide lock around migrations, and its release, where the database has one. */
  migrationLock(): { acquire: Statement; release: Statement } | undefined;
  /**
   * A lock held by one connection until released or until its session ends (the runner's run lock):
   * `tryAcquire` returns one row whose `locked` says whether it was free. Undefined where the
   * database has none.
   */
  sessionLock(key: string): { tryAcquire: Statement; release: Statement } | undefined;
  /** Positional placeholder of the n-th (1-based) parameter. */
  placeholder(n: number): string;
}

const POSTGRES_TYPES: Record<SqlType, { ddl: string; introspected: string }> = {
  text: { ddl: 'text', introspected: 'text' },
  integer: { ddl: 'integer', introspected: 'integer' },
  bigint: { ddl: 'bigint', introspected: 'bigint' },
  numeric: { ddl: 'numeric', introspected: 'numeric' },
  boolean: { ddl: 'boolean', introspected: 'boolean' },
  timestamp: { ddl: 'timestamptz', introspected: 'timestamp with time zone' },
  json: { ddl: 'jsonb', introspected: 'jsonb' },
  uuid: { ddl: 'uuid', introspected: 'uuid' },
};

/** SQLite has no boolean, timestamp or JSON types: 0/1 integers, ISO-8601 UTC text and JSON text stand in. */
const SQLITE_TYPES: Record<SqlType, string> = {
  text: 'TEXT',
  integer: 'INTEGER',
  bigint: 'INTEGER',
  numeric: 'REAL',
  boolean: 'INTEGER',
  timestamp: 'TEXT',
  json: 'TEXT',
  uuid: 'TEXT',
};

/** SQLite's bound-parameter limit (SQLITE_MAX_VARIABLE_NUMBER of the bundled build), with room to spare. */
const SQLITE_MAX_PARAMS = 32_000;
/** Rows per statement; PostgreSQL's unnest has no parameter limit, this only bounds memory per statement. */
const MAX_ROWS_PER_STATEMENT = 5_000;

/**
 * Rows per SQLite statement, largest first. better-sqlite3 (through TypeORM) keeps every distinct
 * SQL text prepared, and a multi-row VALUES of a size seen once is a large program kept for nothing:
 * with a few fixed sizes, a table needs at most four prepared inserts however its batches vary.
 */
const SQLITE_ROW_SHAPES = [256, 32, 4, 1];

function conflictClause(spec: InsertSpec, action: string): string {
  return spec.conflictKey.length > 0 ? ` ON CONFLICT (${spec.conflictKey.map(q).join(', ')}) ${action}` : '';
}

function returningClause(spec: InsertSpec): string {
  return spec.returning && spec.returning.length > 0 ? ` RETURNING ${spec.returning.map(q).join(', ')}` : '';
}

// PostgreSQL cannot store NUL characters in text or jsonb; a source that sends one must not stop a sync.
const NUL = '\u0000';
function withoutNul(text: string): string {
  return text.includes(NUL) ? text.replaceAll(NUL, '') : text;
}
function jsonWithoutNul(json: string): string {
  if (!json.includes('\\u0000')) return json;
  return JSON.stringify(JSON.parse(json), (_key, value: unknown) => (typeof value === 'string' ? withoutNul(value) : value));
}

const ARRAY_SPECIAL = /[\\"]/;
const ARRAY_SPECIAL_ALL = /[\\"]/g;

/**
 * A column of values as a PostgreSQL array literal, built here in one pass rather than by pg, which
 * escapes every element with two regular-expression replaces (a backfill's hottest JavaScript).
 * Every non-null element is quoted, so that no text can read as NULL or as nested braces.
 */
export function postgresArrayLiteral(type: SqlType, values: readonly CanonicalValue[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      parts[i] = 'NULL';
      continue;
    }
    if (typeof value === 'number') {
      parts[i] = String(value);
      continue;
    }
    if (typeof value === 'boolean') {
      parts[i] = value ? 't' : 'f';
      continue;
    }
    const text = bindPostgres(type, value) as string;
    parts[i] = `"${ARRAY_SPECIAL.test(text) ? text.replace(ARRAY_SPECIAL_ALL, '\\$&') : text}"`;
  }
  return `{${parts.join(',')}}`;
}

function bindPostgres(type: SqlType, value: CanonicalValue): unknown {
  if (typeof value !== 'string') return value;
  if (type === 'json') return jsonWithoutNul(value);
  return type === 'text' ? withoutNul(value) : value;
}

function bindSqlite(type: SqlType, value: CanonicalValue): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return value;
  if (type === 'numeric') return Number(value);
  // Decimal text only reaches here for integers beyond 2^53; better-sqlite3 binds BigInt exactly.
  if (type === 'integer' || type === 'bigint') return BigInt(value);
  return value;
}

/** `INSERT INTO … AS "target" (…)` and its `ON CONFLICT … RETURNING …`, around any row source. */
function postgresInsertClauses(spec: InsertSpec): { head: string; tail: string } {
  const columns = spec.columns.map((c) => q(c.name)).join(', ');
  let conflict = 'DO NOTHING';
  if (spec.onConflict.action === 'update' && spec.onConflict.columns.length > 0) {
    const set = spec.onConflict.columns.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ');
    const current = spec.onConflict.columns.map((c) => `"target".${q(c)}`).join(', ');
    const proposed = spec.onConflict.columns.map((c) => `EXCLUDED.${q(c)}`).join(', ');
    conflict = `DO UPDATE SET ${set}`;
    if (spec.onConflict.onlyIfChanged) conflict += ` WHERE ROW(${current}) IS DISTINCT FROM ROW(${proposed})`;
  }
  // A row version an INSERT … ON CONFLICT DO UPDATE wrote carries the updating transaction in
  // xmax, a freshly inserted one 0: PostgreSQL's own way to tell the two apart in RETURNING.
  const flag = spec.onConflict.action === 'update' && spec.returning?.length ? `, ("target"."xmax" = 0) AS ${q(INSERTED_FLAG)}` : '';
  return {
    head: `INSERT INTO ${spec.table.sql} AS "target" (${columns})`,
    tail: `${conflictClause(spec, conflict)}${returningClause(spec)}${flag}`,
  };
}

function postgresDialect(naming: TableNaming): Dialect {
  return {
    name: 'postgres',
    naming,
    entities: defineEntities({ uuid: 'uuid', text: 'text', integer: 'integer', bigint: 'bigint', json: 'jsonb', timestamp: 'timestamptz' }),
    migrations: POSTGRES_MIGRATIONS,
    beginWrite: 'BEGIN',
    readOnly: { begin: 'BEGIN READ ONLY', end: 'COMMIT', abort: 'ROLLBACK' },
    columnType: (type) => POSTGRES_TYPES[type].ddl,
    introspectedType: (type) => POSTGRES_TYPES[type].introspected,
    bind: bindPostgres,
    upsertFlag: true,
    buildInsert(spec) {
      // One array parameter per column, however many rows: INSERT … SELECT * FROM unnest($1::t[], …).
      const arrays = spec.columns.map((c, i) => `$${i + 1}::${POSTGRES_TYPES[c.type].ddl}[]`).join(', ');
      const { head, tail } = postgresInsertClauses(spec);
      const sql = `${head} SELECT * FROM unnest(${arrays})${tail}`;
      return chunk(spec.rows, MAX_ROWS_PER_STATEMENT).map((rows) => ({
        sql,
        params: spec.columns.map((column, i) => postgresArrayLiteral(column.type, rows.map((row) => row[i] ?? null))),
      }));
    },
    stageInsert(spec) {
      if (spec.rows.length < STAGING_MIN_ROWS) return undefined;
      const columns = spec.columns.map((c) => ({ name: c.name, type: c.type, ddl: POSTGRES_TYPES[c.type].ddl }));
      const staging = stagingTable(columns);
      const names = spec.columns.map((c) => q(c.name)).join(', ');
      const { head, tail } = postgresInsertClauses(spec);
      return {
        lookup: { sql: `SELECT to_regclass($1) IS NOT NULL AS "present"`, params: [staging.name] },
        create: { sql: staging.create, params: [] },
        copy: { sql: `COPY ${staging.name} (${names}) FROM STDIN`, text: copyText(columns, spec.rows, bindPostgres) },
        merge: { sql: `${head} SELECT ${names} FROM ${staging.name}${tail}`, params: [] },
      };
    },
    describeTable: (schema, name) => ({
      sql: `SELECT c.column_name AS "name", c.data_type AS "type", c.is_nullable = 'YES' AS "nullable",
              COALESCE((SELECT k.ordinal_position
                          FROM information_schema.table_constraints t
                          JOIN information_schema.key_column_usage k
                            ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name
                         WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema
                           AND t.table_name = c.table_name AND k.column_name = c.column_name), 0)::int AS "pk"
         FROM information_schema.columns c
        WHERE c.table_schema = $1 AND c.table_name = $2
        ORDER BY c.ordinal_position`,
      params: [schema ?? 'public', name],
    }),
    transactionLock: (key) => ({
      sql: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))',
      params: [`tributary:${naming.schema}:${key}`],
    }),
    migrationLock: () => {
      const params = [`tributary:${naming.schema}:migrations`];
      return {
        acquire: { sql: 'SELECT pg_advisory_lock(hashtextextended($1, 0))', params },
        release: { sql: 'SELECT pg_advisory_unlock(hashtextextended($1, 0))', params },
      };
    },
    sessionLock: (key) => {
      const params = [`tributary:${naming.schema}:${key}`];
      return {
        tryAcquire: { sql: 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS "locked"', params },
        release: { sql: 'SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS "released"', params },
      };
    },
    placeholder: (n) => `$${n}`,
  };
}

function sqliteDialect(naming: TableNaming): Dialect {
  return {
    name: 'sqlite',
    naming,
    entities: defineEntities({
      uuid: 'text',
      text: 'text',
      integer: 'integer',
      bigint: 'integer',
      json: 'json',
      timestamp: 'text',
      timestampTransformer: {
        to: (value: Date | null | undefined) => (value instanceof Date ? value.toISOString() : value),
        from: (value: string | null) => (value === null ? null : new Date(value)),
      },
    }),
    migrations: SQLITE_MIGRATIONS,
    // IMMEDIATE takes the write lock up front, so a transaction never fails half-way on a busy database.
    beginWrite: 'BEGIN IMMEDIATE',
    readOnly: { begin: 'PRAGMA query_only = ON', end: 'PRAGMA query_only = OFF', abort: 'PRAGMA query_only = OFF' },
    columnType: (type) => SQLITE_TYPES[type],
    introspectedType: (type) => SQLITE_TYPES[type],
    bind: bindSqlite,
    // SQLite's RETURNING cannot tell an inserted row from an updated one; its round trips cost nothing.
    upsertFlag: false,
    // SQLite has no COPY; its multi-row inserts run in process.
    stageInsert: () => undefined,
    buildInsert(spec) {
      // Multi-row VALUES with one parameter per cell, chunked under the bound-parameter limit.
      const columns = spec.columns.map((c) => q(c.name)).join(', ');
      let conflict = 'DO NOTHING';
      if (spec.onConflict.action === 'update' && spec.onConflict.columns.length > 0) {
        const set = spec.onConflict.columns.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ');
        conflict = `DO UPDATE SET ${set}`;
        if (spec.onConflict.onlyIfChanged) {
          conflict += ` WHERE NOT (${spec.onConflict.columns.map((c) => `${q(c)} IS excluded.${q(c)}`).join(' AND ')})`;
        }
      }
      const tuple = `(${spec.columns.map(() => '?').join(', ')})`;
      const shapes = SQLITE_ROW_SHAPES.filter((n) => n === 1 || n * spec.columns.length <= SQLITE_MAX_PARAMS);
      const types = spec.columns.map((c) => c.type);
      const width = types.length;
      const suffix = `${conflictClause(spec, conflict)}${returningClause(spec)}`;
      // One SQL text per shape, and each statement's values in one preallocated array: no array per row.
      const texts = new Map<number, string>();
      return fixedShapeChunks(spec.rows, shapes).map((rows) => {
        let sql = texts.get(rows.length);
        if (sql === undefined) {
          sql = `INSERT INTO ${spec.table.sql} (${columns}) VALUES ${new Array<string>(rows.length).fill(tuple).join(', ')}${suffix}`;
          texts.set(rows.length, sql);
        }
        const params = new Array<unknown>(rows.length * width);
        let k = 0;
        for (const row of rows) for (let i = 0; i < width; i++) params[k++] = bindSqlite(types[i]!, row[i] ?? null);
        return { sql, params };
      });
    },
    describeTable: (_schema, name) => ({
      sql: `SELECT "name", "type", "notnull" = 0 AS "nullable", "pk" FROM pragma_table_info(?, 'main') ORDER BY "cid"`,
      params: [name],
    }),
    // One writer at a time is SQLite's nature: BEGIN IMMEDIATE already excludes every other writer.
    transactionLock: () => undefined,
    migrationLock: () => undefined,
    sessionLock: () => undefined,
    placeholder: () => '?',
  };
}

/** The dialect for a naming; the one function that picks between databases. */
export function dialectFor(naming: TableNaming): Dialect {
  return naming.dialect === 'postgres' ? postgresDialect(naming) : sqliteDialect(naming);
}

/**
 * A value as the store keeps it in a column of `type`: what a query comparing against that column
 * must bind (on SQLite a timestamp is ISO-8601 UTC text and a boolean is 0/1). Throws a TypeError
 * subclass when the column cannot hold the value.
 */
export function databaseValue(dialect: DialectName, type: ColumnType, value: CellValue): unknown {
  const canonical = canonicalValue(type, value);
  return dialect === 'postgres' ? bindPostgres(type, canonical) : bindSqlite(type, canonical);
}

/** A table of Tributary's own, named for a dialect. */
export function internalTable(dialect: Dialect, bareName: string): PhysicalTable {
  return ownTable(dialect.naming, bareName);
}
