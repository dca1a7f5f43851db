import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import {
  InternalError,
  parseUserInput,
  type RunLockHolder,
  type DueSchedule,
  type RunLockResult,
  type ScheduleEntry,
  type ScheduleState,
} from '@tributary/core';
import type { Database } from './database.js';
import { internalTable, type Dialect } from './dialect.js';
import { dateFromDatabase } from './values.js';
import { storageFailure } from './errors.js';
import { isStoreId } from './installation-checks.js';

// The runner's bookkeeping: `schedules` (when each installation syncs next, versioned so that a
// stale job is recognised) and `periodic_tasks` (which period each periodic task was claimed for).

const date = z.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date');

const scheduleSchema = z.object({
  installationId: z.string().refine(isStoreId, 'must be an installation id'),
  nextRunAt: date,
  attempts: z.number().int().min(0).max(1_000_000),
  lastStartedAt: date.nullable(),
  lastFinishedAt: date.nullable(),
  lastStatus: z.enum(['succeeded', 'failed', 'interrupted']).nullable(),
  lastErrorCode: z.string().max(200).nullable(),
});

const taskNameSchema = z.string().min(1).max(200);

export interface ScheduleRow {
  installation_id: string;
  next_run_at: Date | string;
  attempts: number | string;
  version: number | string;
  last_started_at: Date | string | null;
  last_finished_at: Date | string | null;
  last_status: ScheduleState['lastStatus'];
  last_error_code: string | null;
}

// PostgreSQL hands back Date objects, SQLite the ISO-8601 text it stores.
function optionalDate(value: Date | string | null): Date | null {
  return value === null ? null : dateFromDatabase(value);
}

/**
 * An installation gets its schedule row at install (issue #17), before it ever synced: due since its
 * install time moved back 1,000 years, so that the tick finds it by the index on `next_run_at` at any
 * clock (a test's simulated one too), ahead of every real schedule and in install order. Such a row
 * reads as no schedule at all; its first save replaces it.
 */
export const NEVER_SYNCED_BEFORE = new Date('1900-01-01T00:00:00.000Z');

/** When an installation made at `installedAt` is due before its first sync (see {@link NEVER_SYNCED_BEFORE}). */
export function neverSyncedRunAt(installedAt: Date): Date {
  const at = new Date(installedAt.getTime());
  at.setUTCFullYear(at.getUTCFullYear() - 1000);
  return at;
}

/** A schedule from its row, as read by plain SQL; undefined for the row of an installation never synced. */
export function scheduleOf(row: ScheduleRow): ScheduleState | undefined {
  return dateFromDatabase(row.next_run_at).getTime() < NEVER_SYNCED_BEFORE.getTime() ? undefined : stateOf(row);
}

function stateOf(row: ScheduleRow): ScheduleState {
  return {
    installationId: row.installation_id,
    nextRunAt: dateFromDatabase(row.next_run_at),
    attempts: Number(row.attempts),
    version: Number(row.version),
    lastStartedAt: optionalDate(row.last_started_at),
    lastFinishedAt: optionalDate(row.last_finished_at),
    lastStatus: row.last_status,
    lastErrorCode: row.last_error_code,
  };
}

/** How long a SQLite run lease lasts without renewal; renewed every third of it. */
const LEASE_MS = 60_000;

/** Whether a process of this machine exists (signal 0 checks without sending anything). */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

const RUN_LOCK_PREFIX = 'run:';

/** Host, pid and the rest of a SQLite lease owner (`host:pid:nonce`). */
function parseOwner(owner: string): { host: string; pid: number } | undefined {
  const parts = owner.split(':');
  if (parts.length < 3) return undefined;
  const pid = Number(parts.at(-2));
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { host: parts.slice(0, -2).join(':'), pid };
}

/** The most due installations one tick may ask for; the rest wait for the next tick. */
const DUE_LIMIT_MAX = 100_000;

/**
 * The tick's query, exported so that a test can show its plan: schedules that have come due are a
 * range of the `next_run_at` index, read oldest first and stopped at the limit. Installations never
 * synced have rows due long ago (see {@link NEVER_SYNCED_BEFORE}), so they come first, oldest install
 * first, and are handed out at version 0, the version their first save expects.
 */
export function dueScheduleStatements(dialect: Dialect, now: Date, limit: number) {
  const t = (name: 'schedules' | 'installations') => internalTable(dialect, name).sql;
  const p = (n: number) => dialect.placeholder(n);
  return {
    due: {
      sql: `SELECT s."installation_id", CASE WHEN s."next_run_at" < ${p(1)} THEN 0 ELSE s."version" END AS "version"
              FROM ${t('schedules')} s
              JOIN ${t('installations')} i ON i."id" = s."installation_id"
             WHERE s."next_run_at" <= ${p(2)} AND i."status" = 'active'
             ORDER BY s."next_run_at"
             LIMIT ${p(3)}`,
      params: [NEVER_SYNCED_BEFORE.toISOString(), now.toISOString(), limit],
    },
  };
}

/** Schedules, run locks and periodic-task claims. */
export class Scheduling {
  /** Run locks of this process, where the database has no session locks (SQLite). */
  private readonly localLocks = new Set<string>();

  constructor(private readonly db: Database) {}

  private table(name: 'schedules' | 'periodic_tasks' | 'installations' | 'workspaces') {
    return internalTable(this.db.dialect, name).sql;
  }

  private p(n: number): string {
    return this.db.dialect.placeholder(n);
  }

  async list(): Promise<ScheduleEntry[]> {
    const sql = `SELECT i."id" AS "id", w."name" AS "workspace", i."app" AS "app", i."created_at" AS "created_at",
                        s."installation_id", s."next_run_at", s."attempts", s."version", s."last_started_at",
                        s."last_finished_at", s."last_status", s."last_error_code"
                   FROM ${this.table('installations')} i
                   JOIN ${this.table('workspaces')} w ON w."id" = i."workspace_id"
                   LEFT JOIN ${this.table('schedules')} s ON s."installation_id" = i."id"
                  WHERE i."status" = 'active'
                  ORDER BY w."name", i."app"`;
    try {
      const rows = await this.db.withConnection((db) =>
        db.query<ScheduleRow & { id: string; workspace: string; app: string; created_at: Date | string }>(sql),
      );
      return rows.map((row) => ({
        installationId: row.id,
        workspace: row.workspace,
        app: row.app,
        installedAt: dateFromDatabase(row.created_at),
        state: row.installation_id === null ? undefined : scheduleOf(row),
      }));
    } catch (error) {
      throw storageFailure('list the schedules', error);
    }
  }

  async listDue(now: Date, limit: number): Promise<DueSchedule[]> {
    if (Number.isNaN(now.getTime())) throw new InternalError('INTERNAL', 'The due schedules were asked for at an invalid date; this is a bug in the runner.');
    if (!Number.isInteger(limit) || limit < 1 || limit > DUE_LIMIT_MAX) {
      throw new InternalError('INTERNAL', `The due schedules were asked for with limit ${limit}, not a whole number from 1 to ${DUE_LIMIT_MAX}; this is a bug in the runner.`);
    }
    const statements = dueScheduleStatements(this.db.dialect, now, limit);
    try {
      const due = await this.db.withConnection((db) =>
        db.query<{ installation_id: string; version: number | string }>(statements.due.sql, statements.due.params),
      );
      return due.map((row) => ({ installationId: row.installation_id, version: Number(row.version) }));
    } catch (error) {
      throw storageFailure('list the due schedules', error);
    }
  }

  async read(installationId: string): Promise<ScheduleState | undefined> {
    if (!isStoreId(installationId)) return undefined;
    try {
      const [row] = await this.db.withConnection((db) =>
        db.query<ScheduleRow>(`SELECT * FROM ${this.table('schedules')} WHERE "installation_id" = ${this.p(1)}`, [installationId]),
      );
      return row ? scheduleOf(row) : undefined;
    } catch (error) {
      throw storageFailure(`read the schedule of installation ${installationId}`, error);
    }
  }

  /**
   * Whether an installation has a run or a queued job still marked running (taken with its run lock
   * held: whatever ran it died). Both through partial or status indexes, in one query.
   */
  async leftRunning(installationId: string): Promise<{ runs: boolean; jobs: boolean }> {
    if (!isStoreId(installationId)) return { runs: false, jobs: false };
    const t = (name: 'runs' | 'jobs') => internalTable(this.db.dialect, name).sql;
    const [row] = await this.db.withConnection((db) =>
      db.run<{ runs: unknown; jobs: unknown }>({
        // The literal status matches the partial index of running runs.
        sql: `SELECT EXISTS (SELECT 1 FROM ${t('runs')} WHERE "installation_id" = ${this.p(1)} AND "status" = 'running') AS "runs",
                     EXISTS (SELECT 1 FROM ${t('jobs')} WHERE "installation_id" = ${this.p(2)} AND "status" = 'running') AS "jobs"`,
        params: [installationId, installationId],
        prepare: true,
      }),
    );
    // PostgreSQL answers booleans, SQLite 0/1.
    return { runs: Boolean(row?.runs), jobs: Boolean(row?.jobs) };
  }

  async save(input: Omit<ScheduleState, 'version'>, expectedVersion: number): Promise<boolean> {
    const state = parseUserInput(scheduleSchema, input, 'schedule');
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new InternalError('SCHEDULE_VERSION_INVALID', `A schedule version is a whole number from 0, not ${expectedVersion}.`);
    }
    const values = [
      state.installationId,
      state.nextRunAt.toISOString(),
      state.attempts,
      iso(state.lastStartedAt),
      iso(state.lastFinishedAt),
      state.lastStatus,
      state.lastErrorCode,
      new Date().toISOString(),
    ];
    const p = (n: number) => this.p(n);
    const table = this.table('schedules');
    // Compare-and-set on the version: of two workers saving the same state, exactly one wins. The
    // first save replaces the row written at install (or, for an installation from before those
    // rows, inserts one); a row that a run already saved stays as it is.
    const statement =
      expectedVersion === 0
        ? {
            sql: `INSERT INTO ${table} ("installation_id", "next_run_at", "attempts", "last_started_at", "last_finished_at",
                                        "last_status", "last_error_code", "updated_at", "version")
                  VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, 1)
                  ON CONFLICT ("installation_id") DO UPDATE
                     SET "next_run_at" = excluded."next_run_at", "attempts" = excluded."attempts",
                         "last_started_at" = excluded."last_started_at", "last_finished_at" = excluded."last_finished_at",
                         "last_status" = excluded."last_status", "last_error_code" = excluded."last_error_code",
                         "updated_at" = excluded."updated_at", "version" = 1
                   WHERE ${table}."next_run_at" < ${p(9)}
                  RETURNING "version"`,
            params: [...values, NEVER_SYNCED_BEFORE.toISOString()],
            prepare: true,
          }
        : {
            // Placeholders in textual order: SQLite's `?` are positional.
            sql: `UPDATE ${table}
                     SET "next_run_at" = ${p(1)}, "attempts" = ${p(2)}, "last_started_at" = ${p(3)}, "last_finished_at" = ${p(4)},
                         "last_status" = ${p(5)}, "last_error_code" = ${p(6)}, "updated_at" = ${p(7)}, "version" = "version" + 1
                   WHERE "installation_id" = ${p(8)} AND "version" = ${p(9)}
                   RETURNING "version"`,
            params: [...values.slice(1), state.installationId, expectedVersion],
            prepare: true,
          };
    try {
      const rows = await this.db.withConnection((db) => db.run(statement));
      return rows.length === 1;
    } catch (error) {
      throw storageFailure(`save the schedule of installation ${state.installationId}`, error);
    }
  }

  async withRunLock<T>(installationId: string, work: () => Promise<T>): Promise<RunLockResult<T>> {
    const key = `${RUN_LOCK_PREFIX}${installationId}`;
    const lock = this.db.dialect.sessionLock(key);
    if (!lock) return this.withLease(key, work);
    // The connection is held for the whole run: the lock lives as long as its session, so a process
    // that dies mid-run loses it with its connection and another worker may take over.
    return this.db.withConnection(async (connection) => {
      const holders = internalTable(this.db.dialect, 'run_lock_holders').sql;
      const [lockKey] = lock.tryAcquire.params;
      let acquired: boolean;
      try {
        // Taking the lock and saying who holds it (for the operator; a row whose session no longer
        // holds the lock is stale) in one round trip: a fleet pays it once per job. The lock CTE is
        // volatile, so PostgreSQL evaluates it once, and the insert runs only when it was free.
        const [row] = await connection.run<{ locked: boolean }>({
          sql: `WITH l AS (SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS "locked"),
                     h AS (INSERT INTO ${holders} ("lock_key", "host", "pid", "since", "backend_pid")
                           SELECT $2, $3, $4, $5, pg_backend_pid() FROM l WHERE l."locked"
                           ON CONFLICT ("lock_key") DO UPDATE SET "host" = excluded."host", "pid" = excluded."pid", "since" = excluded."since",
                                                                 "backend_pid" = excluded."backend_pid"
                           RETURNING 1)
                SELECT l."locked" FROM l`,
          params: [lockKey, key, hostname(), process.pid, new Date().toISOString()],
          prepare: true,
        });
        acquired = row?.locked === true;
      } catch (error) {
        // A session lock outlives the failed statement that took it: let go of it (a no-op when it was
        // not taken) before the connection returns to the pool.
        await connection.run(lock.release).catch(() => undefined);
        throw storageFailure(`take the run lock of installation ${installationId}`, error);
      }
      if (!acquired) return { acquired: false as const };
      try {
        return { acquired: true as const, value: await work() };
      } finally {
        // A broken connection has already dropped the lock with its session. The holder row goes in
        // the same statement as the lock; should that statement fail, the lock is released alone,
        // never left on a pooled connection.
        await connection
          .run({
            sql: `WITH d AS (DELETE FROM ${holders} WHERE "lock_key" = $2 AND "backend_pid" = pg_backend_pid() RETURNING 1)
                  SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS "released"`,
            params: [lockKey, key],
            prepare: true,
          })
          .catch(() => connection.run(lock.release))
          .catch(() => undefined);
      }
    });
  }

  /** Who holds run locks now: PostgreSQL rows whose session still holds the advisory lock, SQLite leases alive. */
  async holders(installationIds?: readonly string[]): Promise<RunLockHolder[]> {
    const wanted = installationIds === undefined ? undefined : new Set(installationIds);
    const dialect = this.db.dialect;
    let found: { key: string; host: string; pid: number; since: Date }[];
    try {
      if (dialect.name === 'postgres') {
        const prefix = `tributary:${dialect.naming.schema}:`;
        // The advisory lock of a 64-bit key shows in pg_locks as its high and low 32 bits (objsubid 1).
        const rows = await this.db.withConnection((db) =>
          db.query<{ lock_key: string; host: string; pid: number; since: Date | string }>(
            `SELECT h."lock_key", h."host", h."pid", h."since"
               FROM ${internalTable(dialect, 'run_lock_holders').sql} h
              WHERE EXISTS (SELECT 1 FROM pg_locks l
                             WHERE l."locktype" = 'advisory' AND l."granted" AND l."objsubid" = 1 AND l."pid" = h."backend_pid"
                               AND l."database" = (SELECT "oid" FROM pg_database WHERE "datname" = current_database())
                               AND l."classid"::bigint = ((hashtextextended($1 || h."lock_key", 0) >> 32) & 4294967295)
                               AND l."objid"::bigint = (hashtextextended($1 || h."lock_key", 0) & 4294967295))`,
            [prefix],
          ),
        );
        found = rows.map((r) => ({ key: r.lock_key, host: r.host, pid: Number(r.pid), since: dateFromDatabase(r.since) }));
      } else {
        const rows = await this.db.withConnection((db) =>
          db.query<{ lock_key: string; owner: string; since: string | null; lease_until: string }>(
            `SELECT "lock_key", "owner", "since", "lease_until" FROM ${internalTable(dialect, 'run_leases').sql} WHERE "lease_until" >= ?`,
            [new Date().toISOString()],
          ),
        );
        found = rows.flatMap((r) => {
          const owner = parseOwner(r.owner);
          // A lease of a process of this machine that no longer exists is dead before it expires.
          if (!owner || (owner.host === hostname() && !processIsAlive(owner.pid))) return [];
          return [{ key: r.lock_key, ...owner, since: r.since === null ? new Date(Date.parse(r.lease_until) - LEASE_MS) : new Date(r.since) }];
        });
      }
    } catch (error) {
      throw storageFailure('read who holds the run locks', error);
    }
    return found
      .filter((h) => h.key.startsWith(RUN_LOCK_PREFIX))
      .map((h) => ({ installationId: h.key.slice(RUN_LOCK_PREFIX.length), host: h.host, pid: h.pid, since: h.since }))
      .filter((h) => wanted === undefined || wanted.has(h.installationId));
  }

  /**
   * SQLite's run lock: a lease row that this process renews while the work runs. Another process
   * (a second runner, a manual sync) finds it taken; a process that dies leaves a lease that
   * expires after {@link LEASE_MS}. Leases use the wall clock, never an injected one.
   */
  private async withLease<T>(key: string, work: () => Promise<T>): Promise<RunLockResult<T>> {
    if (this.localLocks.has(key)) return { acquired: false };
    this.localLocks.add(key);
    try {
      const table = internalTable(this.db.dialect, 'run_leases').sql;
      const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
      const since = new Date().toISOString();
      const until = () => new Date(Date.now() + LEASE_MS).toISOString();
      const tryAcquire = async (): Promise<string | undefined> => {
        const rows = await this.db.withConnection((db) =>
          db.run<{ owner: string }>({
            sql: `INSERT INTO ${table} ("lock_key", "owner", "lease_until", "since") VALUES (?, ?, ?, ?)
                  ON CONFLICT ("lock_key") DO UPDATE SET "owner" = excluded."owner", "lease_until" = excluded."lease_until", "since" = excluded."since"
                  WHERE ${table}."lease_until" < ?
                  RETURNING "owner"`,
            params: [key, owner, until(), since, new Date().toISOString()],
          }),
        );
        return rows[0]?.owner;
      };
      let acquired: boolean;
      try {
        acquired = (await tryAcquire()) === owner;
        if (!acquired && (await this.releaseDeadHolder(table, key))) acquired = (await tryAcquire()) === owner;
      } catch (error) {
        throw storageFailure(`take the run lock of ${key}`, error);
      }
      if (!acquired) return { acquired: false };
      const renew = setInterval(() => {
        void this.db
          .withConnection((db) => db.run({ sql: `UPDATE ${table} SET "lease_until" = ? WHERE "lock_key" = ? AND "owner" = ?`, params: [until(), key, owner] }))
          .catch(() => undefined);
      }, LEASE_MS / 3);
      renew.unref();
      try {
        return { acquired: true, value: await work() };
      } finally {
        clearInterval(renew);
        await this.db
          .withConnection((db) => db.run({ sql: `DELETE FROM ${table} WHERE "lock_key" = ? AND "owner" = ?`, params: [key, owner] }))
          .catch(() => undefined);
      }
    } finally {
      this.localLocks.delete(key);
    }
  }

  /**
   * A lease held by a process of this machine that no longer exists (killed, crashed) is removed at
   * once instead of after its expiry, so that a rerun after a crash need not wait a minute.
   */
  private async releaseDeadHolder(table: string, key: string): Promise<boolean> {
    const [row] = await this.db.withConnection((db) =>
      db.run<{ owner: string }>({ sql: `SELECT "owner" FROM ${table} WHERE "lock_key" = ?`, params: [key] }),
    );
    const [host, pidText] = row?.owner.split(':') ?? [];
    const pid = Number(pidText);
    if (!row || host !== hostname() || !Number.isInteger(pid) || pid <= 0 || processIsAlive(pid)) return false;
    await this.db.withConnection((db) =>
      db.run({ sql: `DELETE FROM ${table} WHERE "lock_key" = ? AND "owner" = ?`, params: [key, row.owner] }),
    );
    return true;
  }

  async claimPeriodicTask(name: string, periodStart: Date, claimedAt: Date): Promise<boolean> {
    parseUserInput(taskNameSchema, name, 'periodic task name');
    const table = this.table('periodic_tasks');
    const p = (n: number) => this.p(n);
    // Moving the task forward to this period is the claim; a caller that finds it there already loses.
    const sql = `INSERT INTO ${table} ("name", "period_start", "previous_period_start", "claimed_at")
                 VALUES (${p(1)}, ${p(2)}, NULL, ${p(3)})
                 ON CONFLICT ("name") DO UPDATE
                    SET "previous_period_start" = ${table}."period_start",
                        "period_start" = excluded."period_start",
                        "claimed_at" = excluded."claimed_at"
                  WHERE ${table}."period_start" < excluded."period_start"
                 RETURNING "name"`;
    try {
      const rows = await this.db.withConnection((db) => db.query(sql, [name, periodStart.toISOString(), claimedAt.toISOString()]));
      return rows.length === 1;
    } catch (error) {
      throw storageFailure(`claim periodic task "${name}"`, error);
    }
  }

  async releasePeriodicTask(name: string, periodStart: Date): Promise<void> {
    parseUserInput(taskNameSchema, name, 'periodic task name');
    const table = this.table('periodic_tasks');
    const p = (n: number) => this.p(n);
    try {
      await this.db.withConnection(async (db) => {
        // Back to the period before the claim; a task claimed for the first time is forgotten.
        await db.query(`DELETE FROM ${table} WHERE "name" = ${p(1)} AND "period_start" = ${p(2)} AND "previous_period_start" IS NULL`, [
          name,
          periodStart.toISOString(),
        ]);
        await db.query(
          `UPDATE ${table} SET "period_start" = "previous_period_start", "previous_period_start" = NULL
            WHERE "name" = ${p(1)} AND "period_start" = ${p(2)}`,
          [name, periodStart.toISOString()],
        );
      });
    } catch (error) {
      throw storageFailure(`release periodic task "${name}"`, error);
    }
  }
}
