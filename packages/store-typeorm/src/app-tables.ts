import { ConfigError, type DataModel, type TableSpec } from '@tributary/core';
import type { Executor } from './database.js';
import type { Dialect, DescribedColumn } from './dialect.js';
import {
  appTableBareName,
  indexName,
  MAX_IDENTIFIER_LENGTH,
  ownTable,
  quoteIdentifier as q,
  type PhysicalTable,
} from './naming.js';
import type { SqlType } from './values.js';
import { memberOrderIndex } from './profiles/member-order-index.js';

/** The column every app table starts with: which installation a row belongs to. */
export const INSTALLATION_COLUMN = 'installation_id';
/** The table every app gets besides its data model: one row per customer e-mail seen. */
export const CONTACTS_TABLE = 'contacts';
/**
 * The column the store adds to an app's primary table when the model names a customer e-mail: the
 * id of that customer in the contacts table, written with the row. An index that carries the e-mail
 * as its last column (a covering index, which a query reads the e-mail from) carries the contact id
 * after it, so that a query which finds customers through that index has their contact ids without
 * a look-up per customer. An index that searches by the e-mail (it comes earlier) stays as declared.
 */
export const CONTACT_ID_COLUMN = 'contact_id';
/**
 * The column the store adds to every declared app table: the id of the run that first stored the
 * row (null for rows stored before the store kept it, or inserted by a remap). The primary table
 * has an index on it, so that the rows of one run are counted without reading the others.
 */
export const RUN_ID_COLUMN = 'run_id';

/** A column of an app table as the store creates it. */
export interface AppColumn {
  name: string;
  type: SqlType;
  nullable: boolean;
}

/** An app table as the store creates it: the declared table with the installation id in front. */
export interface AppTable {
  /** Table name in the data model (`form_responses`), or `contacts`. */
  name: string;
  table: PhysicalTable;
  columns: AppColumn[];
  /** Primary key: the installation id, then the declared key. */
  key: string[];
  /** Secondary indexes, each starting with the installation id. */
  indexes: string[][];
  onConflict: TableSpec['onConflict'];
  /** The customer e-mail column whose contact id the table's last column holds (the primary table only). */
  contactIdOf?: string;
}

function contactsTable(dialect: Pick<Dialect, 'naming'>, app: string): AppTable {
  return {
    name: CONTACTS_TABLE,
    table: ownTable(dialect.naming, appTableBareName(app, CONTACTS_TABLE)),
    columns: [
      { name: INSTALLATION_COLUMN, type: 'uuid', nullable: false },
      { name: 'email_normalized', type: 'text', nullable: false },
      { name: 'contact_id', type: 'uuid', nullable: false },
      { name: 'first_seen_at', type: 'timestamp', nullable: false },
    ],
    key: [INSTALLATION_COLUMN, 'email_normalized'],
    indexes: [[INSTALLATION_COLUMN, 'contact_id']],
    onConflict: 'ignore',
  };
}

/** The column of `spec` holding the customer e-mail, when `spec` is the model's primary table and the model names one. */
export function customerEmailColumnOf(model: DataModel, spec: TableSpec): string | undefined {
  return spec.name === model.primaryTable ? model.customerEmailColumn : undefined;
}

/** The app table of a declared table of `model`. */
export function appTableOf(
  dialect: Pick<Dialect, 'naming'>,
  app: string,
  model: DataModel,
  spec: TableSpec,
): AppTable {
  const keys = new Set(spec.key);
  const emailColumn = customerEmailColumnOf(model, spec);
  return {
    name: spec.name,
    table: ownTable(dialect.naming, appTableBareName(app, spec.name)),
    columns: [
      { name: INSTALLATION_COLUMN, type: 'uuid', nullable: false },
      ...spec.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable && !keys.has(c.name) })),
      ...(emailColumn ? [{ name: CONTACT_ID_COLUMN, type: 'uuid' as const, nullable: true }] : []),
      { name: RUN_ID_COLUMN, type: 'uuid', nullable: true },
    ],
    key: [INSTALLATION_COLUMN, ...spec.key],
    indexes: [
      ...spec.indexes.map((index) => [
        INSTALLATION_COLUMN,
        ...index,
        ...(emailColumn && index.at(-1) === emailColumn ? [CONTACT_ID_COLUMN] : []),
      ]),
      ...(spec.name === model.primaryTable ? [[INSTALLATION_COLUMN, RUN_ID_COLUMN]] : []),
    ],
    onConflict: spec.onConflict,
    ...(emailColumn ? { contactIdOf: emailColumn } : {}),
  };
}

/**
 * Fills the contact id of rows written before the table had the column, from the contacts table.
 * Exact for an e-mail column that holds normalized addresses (CloseAlert's does): the page writer
 * normalizes with JavaScript's trim and toLowerCase, while SQLite's TRIM and LOWER only know spaces
 * and ASCII, so an unnormalized non-ASCII address may stay without an id here. Profiles look those up.
 */
export function fillContactIdsSql(table: AppTable, contacts: AppTable): string | undefined {
  if (!table.contactIdOf) return undefined;
  const email = `${table.table.sql}.${q(table.contactIdOf)}`;
  return `UPDATE ${table.table.sql} SET ${q(CONTACT_ID_COLUMN)} = (
    SELECT c.${q('contact_id')} FROM ${contacts.table.sql} c
     WHERE c.${q(INSTALLATION_COLUMN)} = ${table.table.sql}.${q(INSTALLATION_COLUMN)}
       AND c.${q('email_normalized')} IN (${email}, LOWER(TRIM(${email}))))
   WHERE ${email} IS NOT NULL AND ${q(CONTACT_ID_COLUMN)} IS NULL`;
}

/** The contacts table of an app. */
export function contactsTableOf(dialect: Pick<Dialect, 'naming'>, app: string): AppTable {
  return contactsTable(dialect, app);
}

/**
 * Every table an installation needs, after checking that the model's names fit: no table may be
 * called `contacts`, no column `installation_id`, and every physical name fits in 63 characters.
 */
export function appTablesOf(dialect: Dialect, app: string, model: DataModel): AppTable[] {
  const problems: string[] = [];
  for (const spec of model.tables) {
    if (spec.name === CONTACTS_TABLE)
      problems.push(`table name "${CONTACTS_TABLE}" is reserved for the store's contacts table`);
    if (spec.columns.some((c) => c.name === INSTALLATION_COLUMN)) {
      problems.push(
        `table "${spec.name}" declares a column "${INSTALLATION_COLUMN}", which the store adds itself`,
      );
    }
    if (spec.columns.some((c) => c.name === RUN_ID_COLUMN)) {
      problems.push(`table "${spec.name}" declares a column "${RUN_ID_COLUMN}", which the store adds itself`);
    }
    if (customerEmailColumnOf(model, spec) && spec.columns.some((c) => c.name === CONTACT_ID_COLUMN)) {
      problems.push(
        `table "${spec.name}" declares a column "${CONTACT_ID_COLUMN}", which the store adds beside the customer e-mail`,
      );
    }
  }
  const tables = [
    ...model.tables.map((spec) => appTableOf(dialect, app, model, spec)),
    contactsTable(dialect, app),
  ];
  for (const table of tables) {
    if (table.table.name.length > MAX_IDENTIFIER_LENGTH) {
      problems.push(`table name "${table.table.name}" is longer than ${MAX_IDENTIFIER_LENGTH} characters`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(
      'DATA_MODEL_INVALID',
      `The data model of app "${app}" cannot be provisioned: ${problems.join('; ')}`,
    );
  }
  return tables;
}

async function describe(db: Executor, dialect: Dialect, table: PhysicalTable): Promise<DescribedColumn[]> {
  const rows = await db.run<{ name: string; type: string; nullable: unknown; pk: unknown }>(
    dialect.describeTable(table.schema, table.name),
  );
  return rows.map((r) => ({ name: r.name, type: r.type, nullable: Boolean(r.nullable), pk: Number(r.pk) }));
}

function columnDdl(dialect: Dialect, column: AppColumn): string {
  return `${q(column.name)} ${dialect.columnType(column.type)}${column.nullable ? '' : ' NOT NULL'}`;
}

async function createTable(db: Executor, dialect: Dialect, table: AppTable): Promise<void> {
  const columns = table.columns.map((c) => columnDdl(dialect, c));
  await db.query(
    `CREATE TABLE ${table.table.sql} (${columns.join(', ')}, PRIMARY KEY (${table.key.map(q).join(', ')}))`,
  );
}

/** Brings an existing table of ours up to the model: adds missing columns, refuses incompatible changes. */
async function upgradeTable(
  db: Executor,
  dialect: Dialect,
  table: AppTable,
  existing: DescribedColumn[],
): Promise<string[]> {
  const sameName = (a: string, b: string) =>
    dialect.name === 'sqlite' ? a.toLowerCase() === b.toLowerCase() : a === b;
  const existingKey = existing
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  if (
    existingKey.length !== table.key.length ||
    existingKey.some((name, i) => !sameName(name, table.key[i]!))
  ) {
    throw new ConfigError(
      'DATA_MODEL_INCOMPATIBLE',
      `Table ${table.table.sql} has the key (${existingKey.join(', ')}), but the data model declares (${table.key.join(', ')}); a key cannot change in place.`,
      { hint: 'A connector that changes a table key must ship a migration for it.' },
    );
  }
  const added: string[] = [];
  for (const column of table.columns) {
    const found = existing.find((c) => sameName(c.name, column.name));
    if (!found) {
      // Rows of other installations already exist, so a column added later is always nullable.
      await db.query(
        `ALTER TABLE ${table.table.sql} ADD COLUMN ${columnDdl(dialect, { ...column, nullable: true })}`,
      );
      added.push(column.name);
    } else if (found.type.toLowerCase() !== dialect.introspectedType(column.type).toLowerCase()) {
      throw new ConfigError(
        'DATA_MODEL_INCOMPATIBLE',
        `Column ${table.table.sql}.${q(column.name)} is ${found.type}, but the data model declares ${column.type} (${dialect.columnType(column.type)}).`,
        { hint: 'Map the value to a new column instead of changing the type of an existing one.' },
      );
    }
  }
  return added;
}

/**
 * Every schema change of app tables (provision, drop) takes the same locks in the same order: one
 * lock for all schema changes, then the app's. Two changes never wait for each other crosswise.
 */
export async function takeSchemaLocks(db: Executor, dialect: Dialect, app: string): Promise<void> {
  for (const key of ['schema-changes', `provision:${app}`]) {
    const lock = dialect.transactionLock(key);
    if (lock) await db.run(lock);
  }
}

/** Names of the indexes a table has, from the catalog (which takes no lock on the table). */
async function existingIndexes(db: Executor, dialect: Dialect, table: PhysicalTable): Promise<Set<string>> {
  const rows =
    dialect.name === 'postgres'
      ? await db.query<{ name: string }>('SELECT indexname AS "name" FROM pg_indexes WHERE schemaname = $1 AND tablename = $2', [
          table.schema ?? 'public',
          table.name,
        ])
      : await db.query<{ name: string }>(`SELECT "name" FROM sqlite_master WHERE "type" = 'index' AND "tbl_name" = ?`, [table.name]);
  return new Set(rows.map((row) => row.name));
}

/** What provisioning did, for logs. */
export interface ProvisionReport {
  created: string[];
  altered: string[];
}

/**
 * Creates or upgrades an app's tables, idempotently, inside the caller's transaction. A table that
 * exists under one of our names but is not in the provisioned-tables registry was not created by
 * Tributary, and is refused rather than altered.
 */
export async function provisionAppTables(
  db: Executor,
  dialect: Dialect,
  app: string,
  model: DataModel,
  now: Date,
): Promise<ProvisionReport> {
  const tables = appTablesOf(dialect, app, model);
  await takeSchemaLocks(db, dialect, app);
  const registry = db.manager.getRepository(dialect.entities.ProvisionedTable);
  const report: ProvisionReport = { created: [], altered: [] };
  for (const table of tables) {
    const existing = await describe(db, dialect, table.table);
    if (existing.length === 0) {
      await createTable(db, dialect, table);
      await registry
        .createQueryBuilder()
        .insert()
        .values({ tableName: table.table.name, app, createdAt: now })
        .orIgnore()
        .execute();
      report.created.push(table.table.name);
    } else {
      const ours = await registry.existsBy({ tableName: table.table.name });
      if (!ours) {
        throw new ConfigError(
          'TABLE_NOT_OURS',
          `Table ${table.table.sql} already exists and was not created by Tributary; it is left untouched.`,
          {
            hint: 'Rename or move that table: the app needs its name for a table of its own.',
          },
        );
      }
      const added = await upgradeTable(db, dialect, table, existing);
      if (added.length > 0) report.altered.push(`${table.table.name} (+${added.join(', ')})`);
      const fill = added.includes(CONTACT_ID_COLUMN)
        ? fillContactIdsSql(table, contactsTable(dialect, app))
        : undefined;
      if (fill) await db.query(fill);
    }
    // Even CREATE INDEX IF NOT EXISTS locks the table against writes until the transaction ends, and
    // a page write holds row locks on the app's other tables: an install that re-ran it on every
    // shared table deadlocked with running syncs. An index in place costs a catalog read only.
    const present = await existingIndexes(db, dialect, table.table);
    for (const index of table.indexes) {
      const name = indexName(table.table, index);
      if (present.has(name)) continue;
      await db.query(`CREATE INDEX IF NOT EXISTS ${q(name)} ON ${table.table.sql} (${index.map(q).join(', ')})`);
    }
  }
  // Streamed profiles read a feedback app's responses in member order (byte order of e-mail).
  const ordered = memberOrderIndex(dialect.naming, app, model);
  if (ordered && !(await existingIndexes(db, dialect, ordered.table)).has(ordered.name)) await db.query(ordered.create);
  return report;
}
