import type { QueryRunner } from 'typeorm';
import { InternalError } from '@tributary/core';
import { ownTable, type PhysicalTable, type TableNaming } from '../naming.js';

/**
 * The naming a migration runs under, read from the data source it runs on, so that one migration
 * class serves every schema (PostgreSQL) or table prefix (SQLite) an operator chooses.
 */
export function namingOf(queryRunner: QueryRunner): TableNaming {
  const options = queryRunner.connection.options;
  if (options.type === 'postgres') return { dialect: 'postgres', schema: options.schema ?? 'public', tablePrefix: '' };
  if (options.type === 'better-sqlite3') return { dialect: 'sqlite', schema: '', tablePrefix: options.entityPrefix ?? '' };
  throw new InternalError('INTERNAL', `Tributary has no migrations for the ${options.type} driver.`);
}

/** Runs statements in order on the migration's query runner. */
export async function runAll(queryRunner: QueryRunner, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await queryRunner.query(statement);
}

/** A function naming one of Tributary's own tables under the migration's naming. */
export function tableNamer(queryRunner: QueryRunner): (bareName: string) => PhysicalTable {
  const naming = namingOf(queryRunner);
  return (bareName) => ownTable(naming, bareName);
}
