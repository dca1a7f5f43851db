import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import { z } from 'zod';
import {
  ConfigError,
  StorageError,
  parseUserInput,
  type RunOutcome,
  type RunRecord,
  type SavedFeedback,
} from '@tributary/core';
import type { Database, Executor } from './database.js';
import type { RunRow } from './entities.js';
import { storageFailure } from './errors.js';
import { isStoreId } from './installations.js';
import { chunk, internalTable } from './dialect.js';

const count = z.number().int().nonnegative();

const outcomeSchema = z.object({
  status: z.enum(['succeeded', 'failed']),
  fetched: count,
  inserted: count,
  unchanged: count,
  rejected: count,
  saved: z.array(
    z.object({
      email: z.string(),
      form: z.string().optional(),
      score: z.number().optional(),
      comment: z.string().optional(),
    }),
  ),
  error: z.string().optional(),
  errorCode: z.string().optional(),
  warnings: z.array(z.string()),
  duplicates: count.optional(),
  late: count.optional(),
  withoutEmail: count.optional(),
  reconciled: z.object({ since: z.string(), until: z.string() }).optional(),
});

/** The counts a run keeps in its `tallies` column; read back leniently, as an older run has none. */
const talliesSchema = z.object({
  duplicates: count.optional(),
  late: count.optional(),
  withoutEmail: count.optional(),
  reconciled: z.object({ since: z.string(), until: z.string() }).optional(),
});

function talliesOf(outcome: z.infer<typeof talliesSchema>): z.infer<typeof talliesSchema> {
  const { duplicates, late, withoutEmail, reconciled } = outcome;
  return {
    ...(duplicates === undefined ? {} : { duplicates }),
    ...(late === undefined ? {} : { late }),
    ...(withoutEmail === undefined ? {} : { withoutEmail }),
    ...(reconciled === undefined ? {} : { reconciled }),
  };
}

const filterSchema = z.object({
  workspace: z.string().optional(),
  app: z.string().optional(),
  limit: z.number().int().min(1).max(1000),
});

/** Installations whose newest run is read per statement: far below either database's parameter limit. */
const LATEST_CHUNK = 500;

const savedSchema = z.array(z.object({ email: z.string() }).loose());
const warningsSchema = z.array(z.string());

/** The run log: one row per sync run, with the records it set aside. */
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

  async list(input: { workspace?: string; app?: string; limit: number }): Promise<RunRecord[]> {
    const filter = parseUserInput(filterSchema, input, 'run filter');
    try {
      return await this.db.withConnection((db) => this.query(db, filter));
    } catch (error) {
      throw storageFailure('list runs', error);
    }
  }

  /** The newest run of each installation that has one, in the order of `installationIds`. */
  async latest(installationIds: readonly string[]): Promise<RunRecord[]> {
    const ids = [...new Set(installationIds)].filter(isStoreId);
    if (ids.length === 0) return [];
    const dialect = this.db.dialect;
    const runs = internalTable(dialect, 'runs').sql;
    try {
      const found = await this.db.withConnection(async (db) => {
        const records: RunRecord[] = [];
        for (const part of chunk(ids, LATEST_CHUNK)) {
          // Newest by start, then by id, as the log orders runs: one probe of the
          // (installation_id, started_at) index per installation, however long its history.
          const latest = (
            await db.query<{ id: string | null }>(
              `SELECT (SELECT r."id" FROM ${runs} r WHERE r."installation_id" = i."id"
                        ORDER BY r."started_at" DESC, r."id" DESC LIMIT 1) AS "id"
                 FROM ${internalTable(dialect, 'installations').sql} i
                WHERE i."id" IN (${part.map((_, i) => dialect.placeholder(i + 1)).join(', ')})`,
              part,
            )
          ).filter((r): r is { id: string } => r.id !== null);
          if (latest.length > 0) records.push(...(await this.query(db, { runIds: latest.map((r) => r.id), limit: latest.length })));
        }
        return records;
      });
      const order = new Map(ids.map((id, i) => [id, i]));
      return found.sort((a, b) => order.get(a.installationId)! - order.get(b.installationId)!);
    } catch (error) {
      throw storageFailure('read the latest runs', error);
    }
  }

  private async query(db: Executor, filter: z.infer<typeof filterSchema> & { runIds?: readonly string[] }): Promise<RunRecord[]> {
    const { Run, Installation, Workspace, RejectedRecord } = this.entities;
    let runsQuery = db.manager
      .getRepository(Run)
      .createQueryBuilder('run')
      .innerJoin(Installation.options.name, 'installation', 'installation.id = run.installationId')
      .innerJoin(Workspace.options.name, 'workspace', 'workspace.id = installation.workspaceId');
    if (filter.runIds !== undefined) runsQuery = runsQuery.andWhere('run.id IN (:...runIds)', { runIds: filter.runIds });
    if (filter.workspace !== undefined) runsQuery = runsQuery.andWhere('workspace.name = :workspace', { workspace: filter.workspace });
    if (filter.app !== undefined) runsQuery = runsQuery.andWhere('installation.app = :app', { app: filter.app });
    // Each run joins exactly one installation and one workspace, so LIMIT counts runs.
    const runs = await runsQuery.orderBy('run.startedAt', 'DESC').addOrderBy('run.id', 'DESC').limit(filter.limit).getMany();
    if (runs.length === 0) return [];
    const installations = await db.manager
      .getRepository(Installation)
      .find({ select: { id: true, app: true, workspaceId: true }, where: { id: In([...new Set(runs.map((r) => r.installationId))]) } });
    const byId = new Map(installations.map((i) => [i.id, i]));
    const workspaces = await db.manager
      .getRepository(Workspace)
      .findBy({ id: In([...new Set(installations.map((i) => i.workspaceId))]) });
    const wsNames = new Map(workspaces.map((w) => [w.id, w.name]));
    const rejected = await db.manager.getRepository(RejectedRecord).find({
      select: { id: true, runId: true, sourceId: true, reason: true },
      where: { runId: In(runs.map((r) => r.id)) },
      order: { id: 'ASC' },
    });
    return runs.map((run) => {
      const installation = byId.get(run.installationId)!;
      const saved = savedSchema.safeParse(run.saved);
      const warnings = warningsSchema.safeParse(run.warnings);
      const tallies = talliesSchema.safeParse(run.tallies);
      return {
        id: run.id,
        installationId: run.installationId,
        workspace: wsNames.get(installation.workspaceId) ?? '',
        app: installation.app,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
        status: run.status,
        fetched: run.fetched,
        inserted: run.inserted,
        unchanged: run.unchanged,
        rejected: run.rejected,
        saved: saved.success ? (saved.data as SavedFeedback[]) : [],
        ...(run.error === null ? {} : { error: run.error }),
        ...(run.errorCode === null ? {} : { errorCode: run.errorCode }),
        warnings: warnings.success ? warnings.data : [],
        ...(tallies.success ? talliesOf(tallies.data) : {}),
        rejectedRecords: rejected
          .filter((r) => r.runId === run.id)
          .map((r) => ({ ...(r.sourceId === null ? {} : { sourceId: r.sourceId }), reason: r.reason })),
      };
    });
  }
}
