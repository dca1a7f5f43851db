import type { QueryRunner } from 'typeorm';
import { dataModelSchema } from '@tributary/core';
import { memberOrderIndex, type MemberOrderIndex } from '../profiles/member-order-index.js';
import { storedJson } from './helpers.js';
import { namingOf, tableNamer } from './naming-of.js';

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
