import type { QueryRunner } from 'typeorm';
import { dataModelSchema, type DataModel } from '@tributary/core';
import { appTableBareName, indexName, ownTable, quoteIdentifier as q, type PhysicalTable, type TableNaming } from '../naming.js';
import { storedJson } from './helpers.js';
import { namingOf, tableNamer } from './naming-of.js';

// A frozen copy of profiles/member-order-index.ts as it shipped with this migration (see helpers.ts for why
// migrations never lean on the live store code).

const INSTALLATION = 'installation_id';
const CONTACT_ID = 'contact_id';

interface MemberOrderIndex {
  table: PhysicalTable;
  name: string;
  /** `CREATE INDEX IF NOT EXISTS …` for the naming's dialect. */
  create: string;
  /** `DROP INDEX IF EXISTS …`, schema-qualified on PostgreSQL. */
  drop: string;
}

function memberOrderIndex(naming: TableNaming, app: string, model: DataModel): MemberOrderIndex | undefined {
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


/** The member-order index of every installed feedback app whose responses table exists (a purged one has none). */
async function memberOrderIndexes(queryRunner: QueryRunner): Promise<MemberOrderIndex[]> {
  const naming = namingOf(queryRunner);
  const installations = tableNamer(queryRunner)('installations');
  const rows = (await queryRunner.query(`SELECT "app", "data_model" FROM ${installations.sql}`)) as { app: string; data_model: unknown }[];
  const byName = new Map<string, MemberOrderIndex>();
  for (const row of rows) {
    const parsed = dataModelSchema.safeParse(storedJson(row.data_model));
    // A model the store cannot read is reported by every command that uses the installation.
    if (!parsed.success) continue;
    const index = memberOrderIndex(naming, row.app, parsed.data);
    if (index) byName.set(`${index.table.sql}|${index.name}`, index);
  }
  const present: MemberOrderIndex[] = [];
  for (const index of byName.values()) {
    const [found] = (await queryRunner.query(
      naming.dialect === 'postgres'
        ? 'SELECT 1 AS "found" FROM pg_tables WHERE schemaname = $1 AND tablename = $2'
        : `SELECT 1 AS "found" FROM sqlite_master WHERE "type" = 'table' AND "name" = ?`,
      naming.dialect === 'postgres' ? [index.table.schema, index.table.name] : [index.table.name],
    )) as unknown[];
    if (found) present.push(index);
  }
  return present;
}

/** Builds the member-order index of the feedback apps installed before streamed profiles read through it. */
export async function addMemberOrderIndexes(queryRunner: QueryRunner): Promise<void> {
  for (const index of await memberOrderIndexes(queryRunner)) await queryRunner.query(index.create);
}

export async function dropMemberOrderIndexes(queryRunner: QueryRunner): Promise<void> {
  for (const index of await memberOrderIndexes(queryRunner)) await queryRunner.query(index.drop);
}
