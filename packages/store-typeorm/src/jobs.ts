import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseUserInput, type Job, type JobOutcome, type NewJob } from '@tributary/core';
import type { Database, Executor } from './database.js';
import { internalTable } from './dialect.js';
import { storageFailure } from './errors.js';
import { isStoreId } from './installation-checks.js';
import { dateFromDatabase } from './values.js';

// The `jobs` table: syncs and remaps queued over HTTP. Claiming, progress and the end of a job are
// conditional updates on its status, so that two servers polling the same queue never both run it.

interface JobRow {
  id: string;
  kind: Job['kind'];
  installation_id: string;
  workspace: string;
  app: string;
  status: Job['status'];
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  owner: string | null;
  progress_done: number | string;
  progress_total: number | string | null;
  run_id: string | null;
  error_code: string | null;
  error_message: string | null;
  note: string | null;
  result: unknown;
}

const date = z.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date');
const progressSchema = z.object({ done: z.number().int().min(0), total: z.number().int().min(0).optional() });
const noteSchema = z.string().max(2000);

const newJobSchema = z.object({
  kind: z.enum(['sync', 'remap']),
  installationId: z.string().refine(isStoreId, 'must be an installation id'),
  workspace: z.string().min(1).max(200),
  app: z.string().min(1).max(200),
  createdAt: date,
});

const outcomeSchema = z.object({
  status: z.enum(['queued', 'succeeded', 'failed', 'interrupted']),
  at: date,
  progress: progressSchema,
  runId: z.string().refine(isStoreId, 'must be a run id').optional(),
  error: z.object({ code: z.string().min(1).max(200), message: z.string().max(4000) }).optional(),
  note: noteSchema.optional(),
  result: z.record(z.string(), z.unknown()).optional(),
});

const optionalDate = (value: Date | string | null) => (value === null ? undefined : dateFromDatabase(value));

function jobOf(row: JobRow): Job {
  const result = typeof row.result === 'string' ? (JSON.parse(row.result) as unknown) : row.result;
  const total = row.progress_total === null ? undefined : Number(row.progress_total);
  const startedAt = optionalDate(row.started_at);
  const finishedAt = optionalDate(row.finished_at);
  return {
    id: row.id,
    kind: row.kind,
    workspace: row.workspace,
    app: row.app,
    installationId: row.installation_id,
    status: row.status,
    createdAt: dateFromDatabase(row.created_at),
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
    progress: { done: Number(row.progress_done), ...(total === undefined ? {} : { total }) },
    ...(row.run_id ? { runId: row.run_id } : {}),
    ...(row.error_code ? { error: { code: row.error_code, message: row.error_message ?? '' } } : {}),
    ...(row.note ? { note: row.note } : {}),
    ...(result !== null && typeof result === 'object' ? { result: result as Record<string, unknown> } : {}),
  };
}

/** Host and process of a job's owner (`host:pid`), for the note of a job whose process died. */
function describeOwner(owner: string | null): string {
  if (!owner) return 'its server process';
  const at = owner.lastIndexOf(':');
  return at < 0 ? `process ${owner}` : `process ${owner.slice(at + 1)} on ${owner.slice(0, at)}`;
}

export class Jobs {
  constructor(private readonly db: Database) {}

  private get table(): string {
    return internalTable(this.db.dialect, 'jobs').sql;
  }

  private p(n: number): string {
    return this.db.dialect.placeholder(n);
  }

  async create(input: NewJob): Promise<Job> {
    const job = parseUserInput(newJobSchema, input, 'job');
    const at = job.createdAt.toISOString();
    const p = (n: number) => this.p(n);
    try {
      const [row] = await this.db.withConnection((db) =>
        db.query<JobRow>(
          `INSERT INTO ${this.table} ("id", "kind", "installation_id", "workspace", "app", "status", "created_at", "updated_at")
           VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, 'queued', ${p(6)}, ${p(7)}) RETURNING *`,
          [randomUUID(), job.kind, job.installationId, job.workspace, job.app, at, at],
        ),
      );
      return jobOf(row!);
    } catch (error) {
      throw storageFailure(`queue a ${job.kind} job for installation ${job.installationId}`, error);
    }
  }

  async get(id: string): Promise<Job | undefined> {
    if (!isStoreId(id)) return undefined;
    try {
      const [row] = await this.db.withConnection((db) =>
        db.query<JobRow>(`SELECT * FROM ${this.table} WHERE "id" = ${this.p(1)}`, [id]),
      );
      return row ? jobOf(row) : undefined;
    } catch (error) {
      throw storageFailure(`read job ${id}`, error);
    }
  }

  async queued(options: { limit: number }): Promise<Job[]> {
    const limit = parseUserInput(z.number().int().min(1).max(1000), options.limit, 'job limit');
    try {
      const rows = await this.db.withConnection((db) =>
        db.query<JobRow>(
          `SELECT * FROM ${this.table} WHERE "status" = 'queued' ORDER BY "created_at", "id" LIMIT ${this.p(1)}`,
          [limit],
        ),
      );
      return rows.map(jobOf);
    } catch (error) {
      throw storageFailure('read the queued jobs', error);
    }
  }

  async depth(): Promise<{ queued: number; oldest?: Date }> {
    try {
      const [row] = await this.db.withConnection((db) =>
        db.query<{ n: number | string; oldest: Date | string | null }>(
          `SELECT COUNT(*) AS "n", MIN("created_at") AS "oldest" FROM ${this.table} WHERE "status" = 'queued'`,
        ),
      );
      const oldest = optionalDate(row?.oldest ?? null);
      return { queued: Number(row?.n ?? 0), ...(oldest ? { oldest } : {}) };
    } catch (error) {
      throw storageFailure('count the queued jobs', error);
    }
  }

  async claim(id: string, options: { at: Date; owner: string }): Promise<Job | undefined> {
    if (!isStoreId(id)) return undefined;
    const at = parseUserInput(date, options.at, 'claim time').toISOString();
    const owner = parseUserInput(z.string().min(1).max(500), options.owner, 'job owner');
    const p = (n: number) => this.p(n);
    try {
      const [row] = await this.db.withConnection((db) =>
        db.query<JobRow>(
          `UPDATE ${this.table} SET "status" = 'running', "started_at" = ${p(1)}, "updated_at" = ${p(2)}, "owner" = ${p(3)}, "note" = NULL
            WHERE "id" = ${p(4)} AND "status" = 'queued' RETURNING *`,
          [at, at, owner, id],
        ),
      );
      return row ? jobOf(row) : undefined;
    } catch (error) {
      throw storageFailure(`claim job ${id}`, error);
    }
  }

  async progress(id: string, input: { done: number; total?: number }, note?: string): Promise<void> {
    const progress = parseUserInput(progressSchema, input, 'job progress');
    const p = (n: number) => this.p(n);
    try {
      await this.db.withConnection((db) =>
        db.query(
          `UPDATE ${this.table} SET "progress_done" = ${p(1)}, "progress_total" = ${p(2)}, "note" = COALESCE(${p(3)}, "note"), "updated_at" = ${p(4)}
            WHERE "id" = ${p(5)} AND "status" = 'running'`,
          [progress.done, progress.total ?? null, note === undefined ? null : parseUserInput(noteSchema, note, 'job note'), new Date().toISOString(), id],
        ),
      );
    } catch (error) {
      throw storageFailure(`record the progress of job ${id}`, error);
    }
  }

  async noteQueued(id: string, note: string): Promise<void> {
    const text = parseUserInput(noteSchema, note, 'job note');
    const p = (n: number) => this.p(n);
    try {
      await this.db.withConnection((db) =>
        db.query(`UPDATE ${this.table} SET "note" = ${p(1)}, "updated_at" = ${p(2)} WHERE "id" = ${p(3)} AND "status" = 'queued'`, [
          text,
          new Date().toISOString(),
          id,
        ]),
      );
    } catch (error) {
      throw storageFailure(`note why job ${id} waits`, error);
    }
  }

  async finish(id: string, input: JobOutcome): Promise<void> {
    const outcome = parseUserInput(outcomeSchema, input, 'job outcome');
    const at = outcome.at.toISOString();
    // Back in the queue it starts afresh: another server may claim it.
    const back = outcome.status === 'queued';
    const p = (n: number) => this.p(n);
    try {
      await this.db.withConnection((db) =>
        db.query(
          `UPDATE ${this.table}
              SET "status" = ${p(1)}, "finished_at" = ${p(2)}, "updated_at" = ${p(3)}, "progress_done" = ${p(4)}, "progress_total" = ${p(5)},
                  "run_id" = ${p(6)}, "error_code" = ${p(7)}, "error_message" = ${p(8)}, "note" = ${p(9)}, "result" = ${p(10)},
                  ${back ? '"started_at" = NULL, "owner" = NULL' : '"owner" = "owner"'}
            WHERE "id" = ${p(11)} AND "status" = 'running'`,
          [
            outcome.status,
            back ? null : at,
            at,
            outcome.progress.done,
            outcome.progress.total ?? null,
            outcome.runId ?? null,
            outcome.error?.code ?? null,
            outcome.error?.message ?? null,
            outcome.note ?? null,
            outcome.result === undefined ? null : JSON.stringify(outcome.result),
            id,
          ],
        ),
      );
    } catch (error) {
      throw storageFailure(`record the end of job ${id}`, error);
    }
  }

  /** The installations with running jobs (optionally among some). */
  async runningInstallations(installationIds?: readonly string[]): Promise<string[]> {
    try {
      const rows = await this.db.withConnection((db) =>
        db.query<{ installation_id: string }>(`SELECT DISTINCT "installation_id" FROM ${this.table} WHERE "status" = 'running'`),
      );
      const wanted = installationIds === undefined ? undefined : new Set(installationIds);
      return rows.map((r) => r.installation_id).filter((id) => wanted === undefined || wanted.has(id));
    } catch (error) {
      throw storageFailure('read the running jobs', error);
    }
  }

  /** With the installation's run lock held: every job of it still running belongs to a process that died. */
  async interruptLocked(installationId: string, at: Date): Promise<Job[]> {
    const work = async (executor: Executor) => {
      const running = await executor.query<JobRow>(
        `SELECT * FROM ${this.table} WHERE "installation_id" = ${this.p(1)} AND "status" = 'running'`,
        [installationId],
      );
      const marked: Job[] = [];
      for (const row of running) {
        const note = `The server ${describeOwner(row.owner)} stopped while this job ran (it crashed or was killed); it did not finish. Queue it again.`;
        const p = (n: number) => this.p(n);
        const [updated] = await executor.query<JobRow>(
          `UPDATE ${this.table} SET "status" = 'interrupted', "note" = ${p(1)}, "updated_at" = ${p(2)}
            WHERE "id" = ${p(3)} AND "status" = 'running' RETURNING *`,
          [note, at.toISOString(), row.id],
        );
        if (updated) marked.push(jobOf(updated));
      }
      return marked;
    };
    try {
      return await this.db.withConnection(work);
    } catch (error) {
      throw storageFailure(`mark the interrupted jobs of installation ${installationId}`, error);
    }
  }
}
