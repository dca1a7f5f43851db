import type { ColumnType, CustomerTableLink, DataModel, FeedbackView, SourceId } from '@tributary/core';
import { CONTACT_ID_COLUMN, CONTACTS_TABLE, INSTALLATION_COLUMN } from '../app-tables.js';
import { appTableName, quoteIdentifier as q, type TableNaming } from '../naming.js';
import { answerCopiesOf } from './answer-copies.js';

// The only tables and columns the profile compiler ever names: those an installation's connector
// declares in its feedback view (validated identifiers of its data model, stored with the
// installation), the store's contacts table, and the columns the store adds: the installation to
// every app table, the contact id to the primary one. Nothing a user types can become an
// identifier; a user's own customers table is the one exception, and its validated link is quoted
// part by part (see customerTableSql in compile.ts).

/** Which response columns every answer row repeats, as the installation's mappings fill them. */
export interface AnswerCopies {
  /** The answers' time role is a copy of the response's time. */
  createdAt: boolean;
  /** The answers' form role is a copy of the response's form. */
  formId: boolean;
}

/** The feedback of one installation, as the profile compiler reads it. */
export interface FeedbackSource {
  /** The connector id, which prefixes the app's tables. */
  app: string;
  installationId: string;
  view: FeedbackView;
  /** The quoted, qualified SQL names of the tables of the view, and the app's contacts table. */
  tables: {
    responses: string;
    answers: string;
    forms?: string;
    mailings?: string;
    groups?: string;
    questions?: string;
    contacts: string;
  };
  /** Whether the responses table carries the contact id the store writes with each row. */
  hasContactId: boolean;
  /** Response columns the answers repeat; time and form conditions then narrow answers through their index. */
  answerCopies: AnswerCopies;
  /** The user's own customers table, when the installation links one. */
  customerTable?: CustomerTableLink;
  /** The declared type of a column of the app's data model. */
  typeOf(table: string, column: string): ColumnType | undefined;
}

/** What {@link feedbackSourceOf} needs of an installation. */
export interface FeedbackInstallation {
  id: string;
  app: string;
  dataModel: DataModel;
  mappings: unknown;
  customerTable?: CustomerTableLink | undefined;
}

/** The feedback source of an installation, or undefined when its connector declares no feedback view. */
export function feedbackSourceOf(naming: TableNaming, installation: FeedbackInstallation): FeedbackSource | undefined {
  const model = installation.dataModel;
  const view = model.feedback;
  if (!view) return undefined;
  const table = (name: string) => appTableName(naming, installation.app, name);
  const types = new Map<string, ColumnType>();
  for (const spec of model.tables) for (const c of spec.columns) types.set(`${spec.name}.${c.name}`, c.type);
  const hasContactId = view.responses.table === model.primaryTable && model.customerEmailColumn !== undefined;
  return {
    app: installation.app,
    installationId: installation.id,
    view,
    tables: {
      responses: table(view.responses.table),
      answers: table(view.answers.table),
      ...(view.forms ? { forms: table(view.forms.table) } : {}),
      ...(view.mailings ? { mailings: table(view.mailings.table) } : {}),
      ...(view.groups ? { groups: table(view.groups.table) } : {}),
      ...(view.questions ? { questions: table(view.questions.table) } : {}),
      contacts: table(CONTACTS_TABLE),
    },
    hasContactId,
    answerCopies: answerCopiesOf(installation.mappings, view),
    ...(installation.customerTable ? { customerTable: installation.customerTable } : {}),
    typeOf: (t, c) => types.get(`${t}.${c}`),
  };
}

/** `alias."column"`; the alias is the compiler's own, the column a validated identifier of the view. */
export function column(alias: string, name: string): string {
  return `${alias}.${q(name)}`;
}

/** The column the store adds to every app table: the installation the row belongs to. */
export const INSTALLATION = INSTALLATION_COLUMN;
/** The column the store adds to the primary table: the contact id of the row's e-mail. */
export const CONTACT_ID = CONTACT_ID_COLUMN;

const NUMERIC: ReadonlySet<ColumnType> = new Set(['integer', 'bigint', 'numeric']);

/** Whether a declared column holds numbers (compared with numbers) rather than text. */
export function isNumericType(type: ColumnType | undefined): boolean {
  return type !== undefined && NUMERIC.has(type);
}

/**
 * How an id a user typed compares with a column: a number with a numeric column as a number, with
 * a text column as its decimal text; a string with a text column as is. A string against a
 * numeric column can match nothing there (undefined), and is never sent to the database, whose
 * cast would fail the whole statement.
 */
export function idValue(id: SourceId, numeric: boolean): number | string | undefined {
  if (typeof id === 'number') return numeric ? id : String(id);
  return numeric ? undefined : id;
}

/** A question key compared with the answers' question column: a number only where the key is an integer. */
export function questionKeyValue(key: string, numeric: boolean): number | string | undefined {
  if (!numeric) return key;
  return /^-?\d{1,15}$/.test(key) ? Number(key) : undefined;
}
