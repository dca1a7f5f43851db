import type { BillingSettings } from '@tributary/core';
import { takeSchemaLocks } from './app-tables.js';
import type { Executor } from './database.js';
import { internalTable, type Dialect } from './dialect.js';
import type { InstallationRow } from './entities.js';
import { ownTable } from './naming.js';

/** The billing columns of an installation row; monthly without a PO number unless chosen otherwise. */
export function billingColumns(billing: BillingSettings | undefined): Pick<InstallationRow, 'billingPlan' | 'billingPo'> {
  return { billingPlan: billing?.plan ?? 'monthly', billingPo: billing?.poNumber ?? null };
}

/** The billing settings stored on an installation row. */
export function billingOf(row: Pick<InstallationRow, 'billingPlan' | 'billingPo'>): BillingSettings {
  return { plan: row.billingPlan, ...(row.billingPo ? { poNumber: row.billingPo } : {}) };
}

/**
 * Drops an app's tables once nothing needs them any more, inside the caller's transaction: no
 * installation of the app is active and none of its tables holds a row (every installation of it
 * was purged). All installations of an app share its tables, so a table that still holds another
 * installation's kept data stays. Only tables in the provisioned-tables registry are dropped.
 * Returns the names of the tables dropped.
 */
export async function dropAppTablesWhenUnused(tx: Executor, dialect: Dialect, app: string): Promise<string[]> {
  // The provisioning locks keep a concurrent install of the same app from using a table being dropped.
  await takeSchemaLocks(tx, dialect, app);
  const p = dialect.placeholder(1);
  const active = await tx.query(
    `SELECT 1 AS "found" FROM ${internalTable(dialect, 'installations').sql} WHERE "app" = ${p} AND "status" = 'active' LIMIT 1`,
    [app],
  );
  if (active.length > 0) return [];
  const registry = tx.manager.getRepository(dialect.entities.ProvisionedTable);
  const tables = (await registry.findBy({ app })).map((r) => ownTable(dialect.naming, bareNameOf(dialect, r.tableName)));
  for (const table of tables) {
    const exists = await tx.run(dialect.describeTable(table.schema, table.name));
    if (exists.length === 0) continue;
    const rows = await tx.query(`SELECT 1 AS "found" FROM ${table.sql} LIMIT 1`);
    if (rows.length > 0) return [];
  }
  for (const table of tables) await tx.query(`DROP TABLE IF EXISTS ${table.sql}`);
  await registry.delete({ app });
  return tables.map((t) => t.name);
}

/** The registry keeps names as the database knows them: with the SQLite prefix, which ownTable adds again. */
function bareNameOf(dialect: Dialect, tableName: string): string {
  const prefix = dialect.naming.dialect === 'sqlite' ? dialect.naming.tablePrefix : '';
  return prefix && tableName.startsWith(prefix) ? tableName.slice(prefix.length) : tableName;
}
