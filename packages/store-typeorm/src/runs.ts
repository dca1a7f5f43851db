import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, StorageError, parseUserInput, type RunOutcome } from '@tributary/core';
import type { Database } from './database.js';
import type { RunRow } from './entities.js';
import { storageFailure } from './errors.js';
import { isStoreId } from './installation-checks.js';
import { chunk, internalTable } from './dialect.js';
import { summarySchema } from './saved-lines.js';

// Writing the run log: a run started, finished, or closed as abandoned when its process died. Reading
// it back (lists, pages of a run's customers and rejected records) is run-log.ts.

const count = z.number().int().nonnegative();

const outcomeSchema = z.object({
  status: z.enum(['succeeded', 'failed', 'stopped']),
  fetched: count,
  inserted: count,
  unchanged: count,
  rejected: count,
  saved: z.array(summarySchema),
  error: z.string().optional(),
  errorCode: z.string().optional(),
  warnings: z.array(z.string()),
  duplicates: count.optional(),
  late: count.optional(),
  withoutEmail: count.optional(),
  reconciled: z.object({ since: z.string(), until: z.string() }).optional(),
  suppressed: count.optional(),
  expired: count.optional(),
});

/** The counts a run keeps in its `tallies` column; read back leniently, as an older run has none. */
export const talliesSchema = z.object({
  duplicates: count.optional(),
  late: count.optional(),
  withoutEmail: count.optional(),
  reconciled: z.object({ since: z.string(), until: z.string() }).optional(),
  suppressed: count.optional(),
  expired: count.optional(),
});

export function talliesOf(outcome: z.infer<typeof talliesSchema>): z.infer<typeof talliesSchema> {
  const { duplicates, late, withoutEmail, reconciled, suppressed, expired } = outcome;
  return {
    ...(suppressed ? { suppressed } : {}),
    ...(expired ? { expired } : {}),
    ...(duplicates === undefined ? {} : { duplicates }),
    ...(late === undefined ? {} : { late }),
    ...(withoutEmail === undefined ? {} : { withoutEmail }),
    ...(reconciled === undefined ? {} : { reconciled }),
  };
}

/** Installations whose newest run is read per statement: far below either database's parameter limit. */
export const LATEST_CHUNK = 500;

/** The run log's writes: one row per sync run, started, finished or abandoned. */
export class Runs {
  constructor(private readonly db: Database) {}

  private get entities() {
    return this.db.dialect.entities;
  }

  async start(installationId: string, startedAt: Date): Promise<string> {
    if (!isStoreId(installationId)) throw new ConfigError('INSTALLATION_NOT_FOUND', `No installation has the id "${installationId}".`);
    const id = randomUUID();
    const row: RunRow = {
      id,
      installationId,
      startedAt,
      finishedAt: null,
      status: 'running',
      fetched: 0,
      inserted: 0,
      unchanged: 0,
      rejected: 0,
      saved: [],
      error: null,
      errorCode: null,
      warnings: [],
      tallies: {},
    };
    try {
      await this.db.withConnection((db) => db.manager.getRepository(this.entities.Run).insert(row));
    } catch (error) {
      throw storageFailure(`start a run of installation ${installationId}`, error);
    }
    return id;
  }

  async finish(runId: string, input: RunOutcome, finishedAt: Date): Promise<void> {
    const outcome = parseUserInput(outcomeSchema, input, 'run outcome');
    const notFound = () => new StorageError('RUN_NOT_FOUND', `No run has the id "${runId}".`);
    if (!isStoreId(runId)) throw notFound();
    let affected: number | undefined;
    try {
      const result = await this.db.withConnection((db) =>
        db.manager.getRepository(this.entities.Run).update(
          { id: runId },
          {
            status: outcome.status,
            finishedAt,
            fetched: outcome.fetched,
            inserted: outcome.inserted,
            unchanged: outcome.unchanged,
            rejected: outcome.rejected,
            saved: outcome.saved,
            error: outcome.error ?? null,
            errorCode: outcome.errorCode ?? null,
            warnings: outcome.warnings,
            tallies: talliesOf(outcome),
          },
        ),
      );
      affected = result.affected;
    } catch (error) {
      throw storageFailure(`finish run ${runId}`, error);
    }
    if (affected === 0) throw notFound();
  }

  /** The runs still marked running, optionally of some installations, oldest first. */
  async running(installationIds?: readonly string[]): Promise<{ id: string; installationId: string }[]> {
    const dialect = this.db.dialect;
    const ids = installationIds === undefined ? undefined : [...new Set(installationIds)].filter(isStoreId);
    if (ids !== undefined && ids.length === 0) return [];
    try {
      return await this.db.withConnection(async (db) => {
        const found: { id: string; installationId: string }[] = [];
        for (const part of ids === undefined ? [undefined] : chunk(ids, LATEST_CHUNK)) {
          // The literal status matches the partial index of running runs.
          const where = part === undefined ? '' : ` AND "installation_id" IN (${part.map((_, i) => dialect.placeholder(i + 1)).join(', ')})`;
          const rows = await db.query<{ id: string; installation_id: string }>(
            `SELECT "id", "installation_id" FROM ${internalTable(dialect, 'runs').sql} WHERE "status" = 'running'${where} ORDER BY "started_at"`,
            part ?? [],
          );
          found.push(...rows.map((r) => ({ id: r.id, installationId: r.installation_id })));
        }
        return found;
      });
    } catch (error) {
      throw storageFailure('find the runs still marked running', error);
    }
  }

  /**
   * Closes a run whose process died, with what it committed: the rows of `primaryTable` that carry
   * its id, and the records it set aside. Only a run still marked running changes.
   */
  async abandon(runId: string, installationId: string, primaryTable: string | undefined, at: Date): Promise<boolean> {
    const dialect = this.db.dialect;
    const p = (n: number) => dialect.placeholder(n);
    const runs = internalTable(dialect, 'runs').sql;
    try {
      return await this.db.withConnection(async (db) => {
        const one = async (sql: string, params: unknown[]) => Number((await db.query<{ n: number | string }>(sql, params))[0]?.n ?? 0);
        const inserted =
          primaryTable === undefined
            ? 0
            : await one(`SELECT COUNT(*) AS "n" FROM ${primaryTable} WHERE "installation_id" = ${p(1)} AND "run_id" = ${p(2)}`, [installationId, runId]);
        const rejected = await one(`SELECT COUNT(*) AS "n" FROM ${internalTable(dialect, 'rejected_records').sql} WHERE "run_id" = ${p(1)}`, [runId]);
        // When the process died is not known: `finished_at` stays empty, and the warning says when it was found.
        const warning = `Abandoned (found ${at.toISOString()}): the process running it ended without closing it (killed, crashed or lost power). The counts are what it committed; the next run resumes after its last committed page.`;
        const updated = await db.run<{ id: string }>({
          sql: `UPDATE ${runs} SET "status" = 'abandoned', "fetched" = ${p(1)}, "inserted" = ${p(2)},
                       "unchanged" = 0, "rejected" = ${p(3)}, "warnings" = ${p(4)}
                 WHERE "id" = ${p(5)} AND "status" = 'running' RETURNING "id"`,
          params: [inserted + rejected, inserted, rejected, JSON.stringify([warning]), runId],
        });
        return updated.length === 1;
      });
    } catch (error) {
      throw storageFailure(`mark run ${runId} abandoned`, error);
    }
  }
}
