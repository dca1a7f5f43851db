import { appTableName, quoteIdentifier as q, type TableNaming } from '../naming.js';

// The only tables and columns the profile compiler ever names: CloseAlert's data model as the
// connector declares it (packages/connector-closealert/src/data-model.ts), the store's contacts
// table, and the columns the store adds: the installation to every app table, the contact id to the
// primary one. Nothing a user types can
// become an identifier; a user's own customers table is the one exception, and its validated link
// is quoted part by part (see customerTableSql).

/** The app whose data profiles read. */
export const PROFILE_APP = 'closealert';

const COLUMNS = {
  form_responses: [
    'installation_id',
    'response_id',
    'created_at',
    'email_normalized',
    'form_id',
    'mailing_id',
    'group_id',
    'backfilled',
    // Written by the store with each row (app-tables.ts, CONTACT_ID_COLUMN).
    'contact_id',
  ],
  answers: [
    'installation_id',
    'response_id',
    'form_id',
    'created_at',
    'question_index',
    'question',
    'value_text',
    'score',
  ],
  forms: ['installation_id', 'form_id', 'name'],
  mailings: ['installation_id', 'mailing_id', 'name'],
  groups: ['installation_id', 'group_id', 'name'],
  questions: ['installation_id', 'form_id', 'question_index', 'question'],
  contacts: ['installation_id', 'email_normalized', 'contact_id'],
} as const;

/** A table the compiler reads. */
export type ProfileTable = keyof typeof COLUMNS;
/** A column of one of those tables. */
export type ProfileColumn<T extends ProfileTable> = (typeof COLUMNS)[T][number];

/** The quoted, qualified SQL names of the tables profiles read, for one naming. */
export type ProfileTables = Record<ProfileTable, string>;

/** The tables of {@link PROFILE_APP} under a naming. */
export function profileTables(naming: TableNaming): ProfileTables {
  const tables = {} as ProfileTables;
  for (const table of Object.keys(COLUMNS) as ProfileTable[])
    tables[table] = appTableName(naming, PROFILE_APP, table);
  return tables;
}

/** `alias."column"` for a column of the fixed list; the alias is the compiler's own. */
export function column<T extends ProfileTable>(alias: string, _table: T, name: ProfileColumn<T>): string {
  return `${alias}.${q(name)}`;
}
