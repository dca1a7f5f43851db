import { ConfigError } from '@tributary/core';
import type { Database } from './database.js';
import { storageFailure } from './errors.js';
import type { Executor } from './database.js';
import { internalTable, type Dialect } from './dialect.js';

/** The id of the workspace named `name`; a ConfigError that says how a workspace comes into being when there is none. */
export async function requireWorkspaceId(db: Executor, dialect: Dialect, name: string): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    `SELECT "id" FROM ${internalTable(dialect, 'workspaces').sql} WHERE "name" = ${dialect.placeholder(1)}`,
    [name],
  );
  if (!row) {
    throw new ConfigError('WORKSPACE_NOT_FOUND', `There is no workspace "${name}".`, {
      hint: `A workspace comes into being when an app is installed in it: tributary install <app> --workspace ${name} …`,
    });
  }
  return row.id;
}

/** Every workspace's name, sorted (binary order, the same on both databases). */
export async function listWorkspaceNames(db: Database): Promise<string[]> {
  try {
    const rows = await db.withConnection((executor) =>
      executor.query<{ name: string }>(`SELECT "name" FROM ${internalTable(db.dialect, 'workspaces').sql}`),
    );
    return rows.map((r) => r.name).sort();
  } catch (error) {
    throw storageFailure('list the workspaces', error);
  }
}
