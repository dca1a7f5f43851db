import type { DataModel } from '@tributary/core';
import { appTableBareName, indexName, ownTable, quoteIdentifier as q, type PhysicalTable, type TableNaming } from '../naming.js';

// The index a streamed profile reads its responses through: by e-mail in byte order (the order
// members are listed in on both databases), each e-mail's newest response first. A streamed
// evaluation then needs no sort before its first member (see compileProfile's `streamed`).

const INSTALLATION = 'installation_id';
const CONTACT_ID = 'contact_id';

/** The member-order index of an app's feedback responses table, or undefined for an app without a feedback view. */
export interface MemberOrderIndex {
  table: PhysicalTable;
  name: string;
  /** `CREATE INDEX IF NOT EXISTS …` for the naming's dialect. */
  create: string;
  /** `DROP INDEX IF EXISTS …`, schema-qualified on PostgreSQL. */
  drop: string;
}

export function memberOrderIndex(naming: TableNaming, app: string, model: DataModel): MemberOrderIndex | undefined {
  const view = model.feedback;
  if (!view) return undefined;
  const responses = view.responses;
  const table = ownTable(naming, appTableBareName(app, responses.table));
  const name = indexName(table, [INSTALLATION, responses.email, responses.time, responses.id], 'member_order_idx');
  // Carried in the index so that the scan reads nothing else for a member: its form and contact id.
  const carried = [
    ...(responses.form === undefined ? [] : [responses.form]),
    ...(responses.table === model.primaryTable && model.customerEmailColumn !== undefined ? [CONTACT_ID] : []),
  ].filter((column, i, all) => all.indexOf(column) === i && ![responses.email, responses.time, responses.id].includes(column));
  const ordered = [q(INSTALLATION), `${q(responses.email)}`, `${q(responses.time)} DESC`, `${q(responses.id)} DESC`];
  // PostgreSQL sorts text by the database's collation unless told: COLLATE "C" is byte order, which
  // the planner matches with ORDER BY … COLLATE "C" (a C.UTF-8 database collation it does not).
  // SQLite's default BINARY collation is byte order already.
  const create =
    naming.dialect === 'postgres'
      ? `CREATE INDEX IF NOT EXISTS ${q(name)} ON ${table.sql} (${q(INSTALLATION)}, ${q(responses.email)} COLLATE "C", ${ordered.slice(2).join(', ')})${carried.length > 0 ? ` INCLUDE (${carried.map(q).join(', ')})` : ''}`
      : `CREATE INDEX IF NOT EXISTS ${q(name)} ON ${table.sql} (${[...ordered, ...carried.map(q)].join(', ')})`;
  const drop = `DROP INDEX IF EXISTS ${table.schema === undefined ? q(name) : `${q(table.schema)}.${q(name)}`}`;
  return { table, name, create, drop };
}
