import { In } from 'typeorm';
import { z } from 'zod';
import {
  parseUserInput,
  type RunFilter,
  type RunRecord,
  type RejectedRecordPage,
  type SavedCustomerPage,
  type SavedFeedback,
} from '@tributary/core';
import type { Database, Executor } from './database.js';
import { storageFailure } from './errors.js';
import { isStoreId } from './installation-checks.js';
import { chunk, internalTable } from './dialect.js';
import { dateFromDatabase } from './values.js';
import { SAVED_COLUMNS, savedCustomerOf, savedLinesOf, type SavedRow } from './saved-lines.js';
import { LATEST_CHUNK, talliesOf, talliesSchema } from './runs.js';

// Reading the run log: lists of runs, the newest run of each installation, one run, and the pages of
// the customers a run saved and the records it set aside. Writing it is runs.ts.

const filterSchema = z.object({
  workspace: z.string().optional(),
  app: z.string().optional(),
  status: z.enum(['running', 'succeeded', 'failed', 'stopped', 'abandoned']).optional(),
  startedFrom: z.date().optional(),
  startedBefore: z.date().optional(),
  limit: z.number().int().min(1).max(1000),
  details: z.boolean().optional(),
});

/** A run as {@link RunLog.summaries} reads it: the run's columns with its app, workspace and saved count. */
interface RunSummaryRow {
  id: string;
  installation_id: string;
  workspace: string;
  app: string;
  started_at: Date | string;
  finished_at: Date | string | null;
  status: RunRecord['status'];
  fetched: number | string;
  inserted: number | string;
  unchanged: number | string;
  rejected: number | string;
  error: string | null;
  error_code: string | null;
  warnings: unknown;
  tallies: unknown;
  saved_total: number | string;
  /** Only for a run from before `run_saved` (none of its rows there): its list in `runs.saved`. */
  legacy_saved: unknown;
}

/** JSON as the dialect returns it: parsed on PostgreSQL, text on SQLite. */
function jsonOf(value: unknown): unknown {
  return typeof value === 'string' ? parseJson(value) : value;
}

/** Saved customers a run record carries; the rest are listed a page at a time by {@link RunLog.savedCustomers}. */
const SAVED_PREVIEW = 20;

const savedPageSchema = z.object({
  after: z.number().int().nonnegative().optional(),
  limit: z.number().int().min(1).max(10_000),
});

const warningsSchema = z.array(z.string());

/** A page of the customers a run from before `run_saved` kept in `runs.saved`. */
function legacyPage(runId: string, stored: unknown, page: { after?: number; limit: number }): SavedCustomerPage {
  const all = savedLinesOf(stored).map((feedback, i) => ({ ...feedback, seq: i + 1 }));
  const from = all.filter((c) => c.seq > (page.after ?? 0));
  const customers = from.slice(0, page.limit);
  return { runId, total: all.length, customers, ...(from.length > page.limit ? { next: customers.at(-1)!.seq } : {}) };
}

/** The run log as read: runs with their counts, saved customers and rejected records. */
export class RunLog {
  constructor(private readonly db: Database) {}

  private get entities() {
    return this.db.dialect.entities;
  }

  async list(input: RunFilter): Promise<RunRecord[]> {
    const filter = parseUserInput(filterSchema, input, 'run filter');
    try {
      if (filter.details === false) return await this.db.withConnection((db) => this.summaries(db, filter));
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
          if (latest.length > 0) {
            records.push(...(await this.query(db, { runIds: latest.map((r) => r.id), limit: latest.length }, { preview: false })));
          }
        }
        return records;
      });
      const order = new Map(ids.map((id, i) => [id, i]));
      return found.sort((a, b) => order.get(a.installationId)! - order.get(b.installationId)!);
    } catch (error) {
      throw storageFailure('read the latest runs', error);
    }
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    if (!isStoreId(runId)) return undefined;
    try {
      const [run] = await this.db.withConnection((db) => this.query(db, { runIds: [runId], limit: 1 }));
      return run;
    } catch (error) {
      throw storageFailure(`read run ${runId}`, error);
    }
  }

  /** The customers a run saved, in the order it saved them, from `after` on. */
  async savedCustomers(runId: string, input: { after?: number; limit: number }): Promise<SavedCustomerPage | undefined> {
    const page = parseUserInput(savedPageSchema, input, 'page of saved customers');
    if (!isStoreId(runId)) return undefined;
    const dialect = this.db.dialect;
    const p = (n: number) => dialect.placeholder(n);
    const saved = internalTable(dialect, 'run_saved').sql;
    try {
      return await this.db.withConnection(async (db) => {
        const [run] = await db.query<{ saved: unknown }>(`SELECT "saved" FROM ${internalTable(dialect, 'runs').sql} WHERE "id" = ${p(1)}`, [runId]);
        if (!run) return undefined;
        const [counted] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS "n" FROM ${saved} WHERE "run_id" = ${p(1)}`, [runId]);
        const total = Number(counted?.n ?? 0);
        if (total === 0) return legacyPage(runId, run.saved, page);
        const rows = await db.query<SavedRow>(
          `SELECT ${SAVED_COLUMNS} FROM ${saved}
            WHERE "run_id" = ${p(1)} AND "id" > ${p(2)} ORDER BY "id" LIMIT ${p(3)}`,
          [runId, page.after ?? 0, page.limit + 1],
        );
        const customers = rows.slice(0, page.limit).map(savedCustomerOf);
        return { runId, total, customers, ...(rows.length > page.limit ? { next: customers.at(-1)!.seq } : {}) };
      });
    } catch (error) {
      throw storageFailure(`list the customers saved by run ${runId}`, error);
    }
  }

  /** The records a run set aside, in the order it set them aside, from `after` on. */
  async rejectedRecords(runId: string, input: { after?: number; limit: number }): Promise<RejectedRecordPage | undefined> {
    const page = parseUserInput(savedPageSchema, input, 'page of rejected records');
    if (!isStoreId(runId)) return undefined;
    const dialect = this.db.dialect;
    const p = (n: number) => dialect.placeholder(n);
    const rejected = internalTable(dialect, 'rejected_records').sql;
    try {
      return await this.db.withConnection(async (db) => {
        const [run] = await db.query<{ id: string }>(`SELECT "id" FROM ${internalTable(dialect, 'runs').sql} WHERE "id" = ${p(1)}`, [runId]);
        if (!run) return undefined;
        const [counted] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS "n" FROM ${rejected} WHERE "run_id" = ${p(1)}`, [runId]);
        const rows = await db.query<{ id: number | string; source_id: string | null; reason: string; raw: unknown }>(
          `SELECT "id", "source_id", "reason", "raw" FROM ${rejected}
            WHERE "run_id" = ${p(1)} AND "id" > ${p(2)} ORDER BY "id" LIMIT ${p(3)}`,
          [runId, page.after ?? 0, page.limit + 1],
        );
        const records = rows.slice(0, page.limit).map((row) => ({
          seq: Number(row.id),
          ...(row.source_id === null ? {} : { sourceId: row.source_id }),
          reason: row.reason,
          // SQLite keeps JSON as text; PostgreSQL's jsonb arrives parsed.
          raw: typeof row.raw === 'string' && dialect.name === 'sqlite' ? parseJson(row.raw) : row.raw,
        }));
        return { runId, total: Number(counted?.n ?? 0), records, ...(rows.length > page.limit ? { next: records.at(-1)!.seq } : {}) };
      });
    } catch (error) {
      throw storageFailure(`list the records run ${runId} set aside`, error);
    }
  }

  /**
   * The count of saved customers of each run that has any in `run_saved`, with the first of them
   * unless `preview` is false (the newest run of many installations needs only the counts).
   */
  private async savedPreviews(db: Executor, runIds: readonly string[], preview: boolean): Promise<Map<string, { preview: SavedFeedback[]; total: number }>> {
    const dialect = this.db.dialect;
    const saved = internalTable(dialect, 'run_saved').sql;
    const result = new Map<string, { preview: SavedFeedback[]; total: number }>();
    for (const part of chunk([...runIds], LATEST_CHUNK)) {
      const counts = await db.query<{ run_id: string; n: number | string }>(
        `SELECT "run_id", COUNT(*) AS "n" FROM ${saved} WHERE "run_id" IN (${part.map((_, i) => dialect.placeholder(i + 1)).join(', ')}) GROUP BY "run_id"`,
        part,
      );
      for (const row of counts) {
        if (!preview) {
          result.set(row.run_id, { preview: [], total: Number(row.n) });
          continue;
        }
        const rows = await db.query<SavedRow>(
          `SELECT ${SAVED_COLUMNS} FROM ${saved} WHERE "run_id" = ${dialect.placeholder(1)} ORDER BY "id" LIMIT ${SAVED_PREVIEW}`,
          [row.run_id],
        );
        const first = rows.map((r): SavedFeedback => {
          const { seq, ...feedback } = savedCustomerOf(r);
          void seq;
          return feedback;
        });
        result.set(row.run_id, { preview: first, total: Number(row.n) });
      }
    }
    return result;
  }

  /**
   * The newest runs with their counts but without their customers and rejected records: one
   * statement (the API's run list asks for it on every page view, so no per-run round trips).
   */
  private async summaries(db: Executor, filter: z.infer<typeof filterSchema>): Promise<RunRecord[]> {
    const dialect = this.db.dialect;
    const params: unknown[] = [];
    const bind = (value: unknown) => {
      params.push(value);
      return dialect.placeholder(params.length);
    };
    const where: string[] = [];
    if (filter.workspace !== undefined) where.push(`w."name" = ${bind(filter.workspace)}`);
    if (filter.app !== undefined) where.push(`i."app" = ${bind(filter.app)}`);
    if (filter.status !== undefined) where.push(`r."status" = ${bind(filter.status)}`);
    // Bound as ISO-8601 text: PostgreSQL reads it as a timestamptz, and SQLite's ISO text compares in time order.
    if (filter.startedFrom !== undefined) where.push(`r."started_at" >= ${bind(filter.startedFrom.toISOString())}`);
    if (filter.startedBefore !== undefined) where.push(`r."started_at" < ${bind(filter.startedBefore.toISOString())}`);
    const t = (name: string) => internalTable(dialect, name).sql;
    const rows = await db.query<RunSummaryRow>(
      // The saved counts are read for the page's runs only, after the limit.
      `SELECT x.*, (SELECT COUNT(*) FROM ${t('run_saved')} s WHERE s."run_id" = x."id") AS "saved_total",
              CASE WHEN NOT EXISTS (SELECT 1 FROM ${t('run_saved')} s WHERE s."run_id" = x."id")
                   THEN (SELECT o."saved" FROM ${t('runs')} o WHERE o."id" = x."id") END AS "legacy_saved"
         FROM (SELECT r."id", r."installation_id", w."name" AS "workspace", i."app", r."started_at", r."finished_at", r."status",
                      r."fetched", r."inserted", r."unchanged", r."rejected", r."error", r."error_code", r."warnings", r."tallies"
                 FROM ${t('runs')} r
                 JOIN ${t('installations')} i ON i."id" = r."installation_id"
                 JOIN ${t('workspaces')} w ON w."id" = i."workspace_id"
                ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
                ORDER BY r."started_at" DESC, r."id" DESC
                LIMIT ${bind(filter.limit)}) x
        ORDER BY x."started_at" DESC, x."id" DESC`,
      params,
    );
    return rows.map((row) => {
      const listed = Number(row.saved_total);
      const warnings = warningsSchema.safeParse(jsonOf(row.warnings));
      const tallies = talliesSchema.safeParse(jsonOf(row.tallies));
      return {
        id: row.id,
        installationId: row.installation_id,
        workspace: row.workspace,
        app: row.app,
        startedAt: dateFromDatabase(row.started_at),
        finishedAt: row.finished_at === null ? null : dateFromDatabase(row.finished_at),
        status: row.status,
        fetched: Number(row.fetched),
        inserted: Number(row.inserted),
        unchanged: Number(row.unchanged),
        rejected: Number(row.rejected),
        saved: [],
        // Runs from before `run_saved` kept their (first thousand) customers in `runs.saved` only.
        savedTotal: listed > 0 ? listed : savedLinesOf(row.legacy_saved).length,
        ...(row.error === null ? {} : { error: row.error }),
        ...(row.error_code === null ? {} : { errorCode: row.error_code }),
        warnings: warnings.success ? warnings.data : [],
        ...(tallies.success ? talliesOf(tallies.data) : {}),
        rejectedRecords: [],
      };
    });
  }

  private async query(
    db: Executor,
    filter: z.infer<typeof filterSchema> & { runIds?: readonly string[] },
    options: { preview: boolean } = { preview: true },
  ): Promise<RunRecord[]> {
    const { Run, Installation, Workspace, RejectedRecord } = this.entities;
    let runsQuery = db.manager
      .getRepository(Run)
      .createQueryBuilder('run')
      .innerJoin(Installation.options.name, 'installation', 'installation.id = run.installationId')
      .innerJoin(Workspace.options.name, 'workspace', 'workspace.id = installation.workspaceId');
    if (filter.runIds !== undefined) runsQuery = runsQuery.andWhere('run.id IN (:...runIds)', { runIds: filter.runIds });
    if (filter.workspace !== undefined) runsQuery = runsQuery.andWhere('workspace.name = :workspace', { workspace: filter.workspace });
    if (filter.app !== undefined) runsQuery = runsQuery.andWhere('installation.app = :app', { app: filter.app });
    // Bound as ISO-8601 text: PostgreSQL reads it as a timestamptz, and SQLite's ISO text compares in time order.
    if (filter.status !== undefined) runsQuery = runsQuery.andWhere('run.status = :status', { status: filter.status });
    if (filter.startedFrom !== undefined) runsQuery = runsQuery.andWhere('run.startedAt >= :startedFrom', { startedFrom: filter.startedFrom.toISOString() });
    if (filter.startedBefore !== undefined) runsQuery = runsQuery.andWhere('run.startedAt < :startedBefore', { startedBefore: filter.startedBefore.toISOString() });
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
    const savedLists = await this.savedPreviews(db, runs.map((r) => r.id), options.preview);
    const rejected = await db.manager.getRepository(RejectedRecord).find({
      select: { id: true, runId: true, sourceId: true, reason: true },
      where: { runId: In(runs.map((r) => r.id)) },
      order: { id: 'ASC' },
    });
    return runs.map((run) => {
      const installation = byId.get(run.installationId)!;
      const listed = savedLists.get(run.id);
      // Runs from before `run_saved` kept their (first thousand) customers in `runs.saved` only.
      const saved = listed ? listed.preview : savedLinesOf(run.saved);
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
        saved,
        savedTotal: listed ? listed.total : saved.length,
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

/** A raw record kept as JSON text; text that is not JSON is shown as it is. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
