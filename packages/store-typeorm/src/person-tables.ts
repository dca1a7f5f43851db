import type { DataModel } from '@tributary/core';
import { appTableOf, CONTACT_ID_COLUMN, INSTALLATION_COLUMN, type AppTable } from './app-tables.js';
import type { Dialect } from './dialect.js';
import { quoteIdentifier as q } from './naming.js';

// Where one person's rows are in an app, read from its data model alone: the primary table (one
// row per record) with its customer e-mail column, and the tables whose rows belong to a record
// (the feedback view's answers, or any table carrying the primary table's key columns). Reference
// tables (forms, questions) hold nobody's data and are left alone.

/** A table whose rows belong to a record of the primary table. */
export interface LinkedTable {
  name: string;
  table: AppTable;
  /** Pairs of (column of this table, key column of the primary table). */
  links: [string, string][];
}

/** The tables of an app that hold a person's records. */
export interface PersonTables {
  primary: AppTable;
  /** Declared key columns of the primary table. */
  keyColumns: string[];
  /** The customer e-mail column of the primary table, when the model names one. */
  email?: string;
  /** The primary table's time column (the feedback view's response time), for retention. */
  time?: string;
  linked: LinkedTable[];
}

/** The tables of `model` that hold records, linked to the primary table. */
export function personTablesOf(dialect: Pick<Dialect, 'naming'>, app: string, model: DataModel): PersonTables {
  const primarySpec = model.tables.find((t) => t.name === model.primaryTable)!;
  const keyColumns = [...primarySpec.key];
  const feedback = model.feedback?.responses.table === model.primaryTable ? model.feedback : undefined;
  const linked: LinkedTable[] = [];
  for (const spec of model.tables) {
    if (spec.name === model.primaryTable) continue;
    const columns = new Set(spec.columns.map((c) => c.name));
    let links: [string, string][] | undefined;
    if (feedback && feedback.answers.table === spec.name && keyColumns.length === 1 && keyColumns[0] === feedback.responses.id) {
      links = [[feedback.answers.response, feedback.responses.id]];
    } else if (keyColumns.every((k) => columns.has(k))) {
      links = keyColumns.map((k) => [k, k]);
    }
    if (links) linked.push({ name: spec.name, table: appTableOf(dialect, app, model, spec), links });
  }
  return {
    primary: appTableOf(dialect, app, model, primarySpec),
    keyColumns,
    ...(model.customerEmailColumn ? { email: model.customerEmailColumn } : {}),
    ...(feedback ? { time: feedback.responses.time } : {}),
    linked,
  };
}

/** Collects bound values for a statement, numbering placeholders as the dialect wants them. */
export class Params {
  readonly values: unknown[] = [];
  constructor(private readonly dialect: Pick<Dialect, 'placeholder'>) {}

  add(value: unknown): string {
    this.values.push(value);
    return this.dialect.placeholder(this.values.length);
  }
}

/**
 * The condition that a row `alias` of the primary table is the person's: its e-mail column as
 * stored or trimmed and lower-cased, or its contact id.
 */
export function personCondition(tables: PersonTables, alias: string, params: Params, installationId: string, email: string, contactId: string | undefined): string {
  const column = `${alias}.${q(tables.email!)}`;
  // Placeholders are taken in the order they appear: SQLite's are positional.
  const installation = `${alias}.${q(INSTALLATION_COLUMN)} = ${params.add(installationId)}`;
  const byEmail = `${column} = ${params.add(email)} OR LOWER(TRIM(${column})) = ${params.add(email)}`;
  const byContact = tables.primary.contactIdOf && contactId !== undefined ? ` OR ${alias}.${q(CONTACT_ID_COLUMN)} = ${params.add(contactId)}` : '';
  return `${installation} AND (${byEmail}${byContact})`;
}

/** The condition that a row of `linked` (named by its full table name) belongs to a primary row `alias`. */
export function linkCondition(linked: LinkedTable, alias: string): string {
  const own = linked.table.table.sql;
  return [
    `${alias}.${q(INSTALLATION_COLUMN)} = ${own}.${q(INSTALLATION_COLUMN)}`,
    ...linked.links.map(([column, key]) => `${alias}.${q(key)} = ${own}.${q(column)}`),
  ].join(' AND ');
}

/** A LIKE pattern that finds `text` anywhere, with LIKE's wildcards escaped (use with `ESCAPE '\'`). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Whether a stored value (text, or JSON parsed or not) holds the address in any case. */
export function mentions(value: unknown, email: string): boolean {
  if (value === null || value === undefined) return false;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.toLowerCase().includes(email);
}
