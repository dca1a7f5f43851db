import { z } from 'zod';
import { parseUserInput, type RetentionResult } from '@tributary/core';
import type { Database, Executor } from './database.js';
import { internalTable } from './dialect.js';
import { storageFailure } from './errors.js';
import { isStoreId, storedDataModel } from './installation-checks.js';
import { linkCondition, Params, personTablesOf } from './person-tables.js';
import { INSTALLATION_COLUMN } from './app-tables.js';
import { quoteIdentifier as q } from './naming.js';
import { storedJson } from './migrations/helpers.js';

// An installation's retention period: its records (responses with their linked rows and raw
// copies), the records it set aside and the run log's customer lines are deleted once older than
// it. A batch per transaction, so that a sync of the same installation never waits long; records
// that old are not stored again either (the page writer drops them), so a reconciliation pass or a
// backfill does not bring back what retention deleted, and a re-run stays a no-op.

const optionsSchema = z.object({ batchSize: z.number().int().min(1).max(10_000).default(500) });

/** Deletes what is older than the installation's retention period at `now`. */
export async function applyRetention(db: Database, installationId: string, now: Date, input: { batchSize?: number } = {}): Promise<RetentionResult> {
  const { batchSize } = parseUserInput(optionsSchema, input, 'retention options');
  const result: RetentionResult = { installationId, records: 0, linked: 0, rejected: 0, runLogLines: 0, batches: 0 };
  if (!isStoreId(installationId)) return result;
  const dialect = db.dialect;
  try {
    const [row] = await db.withConnection((c) =>
      c.query<{ app: string; data_model: unknown; retention_days: number | null }>(
        `SELECT "app", "data_model", "retention_days" FROM ${internalTable(dialect, 'installations').sql} WHERE "id" = ${dialect.placeholder(1)}`,
        [installationId],
      ),
    );
    if (!row || row.retention_days === null) return result;
    const tables = personTablesOf(dialect, row.app, storedDataModel(storedJson(row.data_model), `Installation ${installationId}`));
    const cutoff = new Date(now.getTime() - Number(row.retention_days) * 86_400_000);
    result.cutoff = cutoff;
    const at = cutoff.toISOString();
    // Each step repeats until a batch finds nothing: the count it deleted says so.
    const repeat = async (step: (tx: Executor) => Promise<number>): Promise<void> => {
      for (;;) {
        const n = await db.transaction(async (tx) => {
          const lock = dialect.transactionLock(`installation:${installationId}`);
          if (lock) await tx.run(lock);
          return step(tx);
        });
        if (n === 0) return;
        result.batches += 1;
      }
    };
    if (tables.time) {
      const time = q(tables.time);
      const key = q(tables.keyColumns[0]!);
      await repeat(async (tx) => {
        const p = new Params(dialect);
        const keys = (
          await tx.query<Record<string, unknown>>(
            `SELECT ${key} FROM ${tables.primary.table.sql}
              WHERE ${q(INSTALLATION_COLUMN)} = ${p.add(installationId)} AND ${time} < ${p.add(at)}
              ORDER BY ${time} LIMIT ${p.add(batchSize)}`,
            p.values,
          )
        ).map((r) => r[tables.keyColumns[0]!]);
        if (keys.length === 0) return 0;
        const old = (params: Params, alias: string) =>
          `${alias}.${q(INSTALLATION_COLUMN)} = ${params.add(installationId)} AND ${alias}.${time} < ${params.add(at)}
           AND ${alias}.${key} IN (${keys.map((k) => params.add(k)).join(', ')})`;
        for (const linked of tables.linked) {
          const lp = new Params(dialect);
          const removed = await tx.query(
            `DELETE FROM ${linked.table.table.sql}
              WHERE EXISTS (SELECT 1 FROM ${tables.primary.table.sql} p WHERE ${old(lp, 'p')} AND ${linkCondition(linked, 'p')})
              RETURNING 1 AS "n"`,
            lp.values,
          );
          result.linked += removed.length;
        }
        const pp = new Params(dialect);
        const removed = await tx.query(`DELETE FROM ${tables.primary.table.sql} WHERE ${old(pp, tables.primary.table.sql)} RETURNING 1 AS "n"`, pp.values);
        result.records += removed.length;
        return removed.length;
      });
    }
    const rejected = internalTable(dialect, 'rejected_records').sql;
    await repeat(async (tx) => {
      const p = new Params(dialect);
      const removed = await tx.query(
        `DELETE FROM ${rejected} WHERE "id" IN (
           SELECT "id" FROM ${rejected} WHERE "installation_id" = ${p.add(installationId)} AND "created_at" < ${p.add(at)} LIMIT ${p.add(batchSize)})
         RETURNING 1 AS "n"`,
        p.values,
      );
      result.rejected += removed.length;
      return removed.length;
    });
    const runs = internalTable(dialect, 'runs').sql;
    const saved = internalTable(dialect, 'run_saved').sql;
    await repeat(async (tx) => {
      const p = new Params(dialect);
      const removed = await tx.query(
        `DELETE FROM ${saved} WHERE "id" IN (
           SELECT s."id" FROM ${saved} s JOIN ${runs} r ON r."id" = s."run_id"
            WHERE r."installation_id" = ${p.add(installationId)} AND r."started_at" < ${p.add(at)} LIMIT ${p.add(batchSize)})
         RETURNING 1 AS "n"`,
        p.values,
      );
      result.runLogLines += removed.length;
      return removed.length;
    });
    await db.transaction(async (tx) => {
      const p = new Params(dialect);
      // The first customers each old run record carries go with the lines they preview.
      await tx.query(
        `UPDATE ${runs} SET "saved" = ${p.add('[]')} WHERE "installation_id" = ${p.add(installationId)} AND "started_at" < ${p.add(at)} AND CAST("saved" AS TEXT) <> '[]'`,
        p.values,
      );
    });
    return result;
  } catch (error) {
    throw storageFailure(`delete the data of installation ${installationId} past its retention period`, error, 'STORE_WRITE_FAILED');
  }
}
