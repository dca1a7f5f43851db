import { createHash } from 'node:crypto';

/** The two databases the store speaks. */
export type DialectName = 'postgres' | 'sqlite';

/**
 * Where Tributary's tables live: in their own schema on PostgreSQL, behind a name prefix on SQLite
 * (which has no schemas). Every table name the store builds goes through this.
 */
export interface TableNaming {
  readonly dialect: DialectName;
  /** PostgreSQL schema holding every table Tributary owns; unused on SQLite. */
  readonly schema: string;
  /** Prefix of every table (and index) Tributary owns on SQLite; unused on PostgreSQL. */
  readonly tablePrefix: string;
}

/** A table as the database knows it. */
export interface PhysicalTable {
  /** Schema on PostgreSQL; undefined on SQLite. */
  readonly schema: string | undefined;
  /** Table name inside the schema (PostgreSQL) or with the prefix (SQLite). */
  readonly name: string;
  /** The quoted, qualified reference to put into SQL. */
  readonly sql: string;
}

/** PostgreSQL's identifier length limit; SQLite has none, but one rule for both keeps names portable. */
export const MAX_IDENTIFIER_LENGTH = 63;

/** Quotes an SQL identifier. Callers pass only validated names; doubling quotes makes it safe regardless. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A table Tributary owns, by its bare name (`runs`, `closealert_form_responses`). */
export function ownTable(naming: TableNaming, bareName: string): PhysicalTable {
  if (naming.dialect === 'postgres') {
    return { schema: naming.schema, name: bareName, sql: `${quoteIdentifier(naming.schema)}.${quoteIdentifier(bareName)}` };
  }
  const name = `${naming.tablePrefix}${bareName}`;
  return { schema: undefined, name, sql: quoteIdentifier(name) };
}

/** The bare name of an app table: `{app}_{table}`, e.g. `closealert_form_responses`. */
export function appTableBareName(app: string, table: string): string {
  return `${app}_${table}`;
}

/**
 * The quoted, qualified SQL reference of an app's table, e.g. `"tributary"."closealert_form_responses"`
 * on PostgreSQL or `"tributary_closealert_form_responses"` on SQLite. The contacts table of an app is
 * `appTableName(naming, app, 'contacts')`.
 */
export function appTableName(naming: TableNaming, app: string, table: string): string {
  return ownTable(naming, appTableBareName(app, table)).sql;
}

/**
 * Name of an index Tributary owns. On SQLite index names share one namespace with tables, so they
 * carry the table's (prefixed) name; names too long for PostgreSQL end in a short hash instead.
 */
export function indexName(table: PhysicalTable, columns: readonly string[], suffix = 'idx'): string {
  const full = `${table.name}_${columns.join('_')}_${suffix}`;
  if (full.length <= MAX_IDENTIFIER_LENGTH) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 10);
  return `${full.slice(0, MAX_IDENTIFIER_LENGTH - hash.length - suffix.length - 2)}_${hash}_${suffix}`;
}
