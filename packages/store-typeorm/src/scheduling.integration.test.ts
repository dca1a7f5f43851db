import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataModelSchema, validateMappings, type DataModel, type Installation, type ScheduleState } from '@tributary/core';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';
import { openRawDatabase, type RawDatabase } from './test-support/raw-database.js';

const databases = await testDatabases('scheduling');

const model: DataModel = dataModelSchema.parse({
  primaryTable: 'items',
  tables: [{ name: 'items', rowsFrom: { kind: 'record' }, key: ['id'], onConflict: 'ignore', columns: [{ name: 'id', type: 'bigint', nullable: false }] }],
});
const mappings = validateMappings([{ source: 'id', target: { table: 'items', column: 'id' } }], model);
const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
const T0 = new Date('2026-03-02T10:00:00.000Z');

function schedule(installationId: string, overrides: Partial<ScheduleState> = {}): Omit<ScheduleState, 'version'> {
  return {
    installationId,
    nextRunAt: new Date(T0.getTime() + 3_600_000),
    attempts: 0,
    lastStartedAt: T0,
    lastFinishedAt: new Date(T0.getTime() + 1234),
    lastStatus: 'succeeded',
    lastErrorCode: null,
    ...overrides,
  };
}

describe.each(databases)('scheduling in the store on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let other: TypeOrmStore;
  let raw: RawDatabase;
  let first: Installation;
  let second: Installation;

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher });
    other = await createStore({ url: database.url, cipher });
    await store.migrate();
    raw = await openRawDatabase(database);
    const install = (workspace: string) =>
      store.install({ workspace, app: 'schedapp', config: {}, secretFields: [], mappings, dataModel: model });
    first = await install('alpha');
    second = await install('beta');
  });
  afterAll(async () => {
    await raw?.close();
    await other?.close();
    await store?.close();
  });

  it('lists active installations without a schedule before their first run', async () => {
    const entries = await store.listSchedules();
    expect(entries.map((e) => [e.workspace, e.app, e.state])).toEqual([
      ['alpha', 'schedapp', undefined],
      ['beta', 'schedapp', undefined],
    ]);
    expect(await store.readSchedule(first.id)).toBeUndefined();
  });

  it('saves a schedule only when its version is the expected one, and bumps it', async () => {
    expect(await store.saveSchedule(schedule(first.id), 0)).toBe(true);
    // A second worker that saw the same (absent) schedule loses.
    expect(await other.saveSchedule(schedule(first.id, { attempts: 9 }), 0)).toBe(false);
    expect(await store.readSchedule(first.id)).toEqual({ ...schedule(first.id), version: 1 });

    const failed = schedule(first.id, { attempts: 1, lastStatus: 'failed', lastErrorCode: 'SOURCE_RATE_LIMITED', nextRunAt: new Date(T0.getTime() + 600_000) });
    expect(await other.saveSchedule(failed, 1)).toBe(true);
    expect(await store.saveSchedule(schedule(first.id), 1)).toBe(false);
    expect(await store.readSchedule(first.id)).toEqual({ ...failed, version: 2 });

    const [alpha] = await store.listSchedules();
    expect(alpha).toMatchObject({ installationId: first.id, workspace: 'alpha', state: { ...failed, version: 2 } });
    const rows = await raw.query<{ version: number; attempts: number }>(
      `SELECT version, attempts FROM ${database.dialect === 'postgres' ? 'tributary.schedules' : 'tributary_schedules'} WHERE installation_id = ?`,
      [first.id],
    );
    expect(rows.map((r) => [Number(r.version), Number(r.attempts)])).toEqual([[2, 1]]);
  });

  it('refuses an invalid schedule', async () => {
    await expect(store.saveSchedule(schedule('not-an-id'), 0)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(store.saveSchedule(schedule(first.id, { attempts: -1 }), 2)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('drops an uninstalled installation from the schedule', async () => {
    const third = await store.install({ workspace: 'gamma', app: 'schedapp', config: {}, secretFields: [], mappings, dataModel: model });
    expect((await store.listSchedules()).map((e) => e.workspace)).toContain('gamma');
    await store.uninstall(third.id, { purge: false, at: T0 });
    expect((await store.listSchedules()).map((e) => e.workspace)).not.toContain('gamma');
  });

  it('lets one holder of a run lock at a time work on an installation', async () => {
    let inside = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holder = store.withRunLock(second.id, async () => {
      inside += 1;
      await held;
      return 'done';
    });
    await expect.poll(() => inside).toBe(1);
    expect(await store.withRunLock(second.id, async () => 'second')).toEqual({ acquired: false });
    // Another process (another store on the same database) is kept out as well.
    expect(await other.withRunLock(second.id, async () => 'other')).toEqual({ acquired: false });
    // Locks are per installation.
    expect(await store.withRunLock(first.id, async () => 'first')).toEqual({ acquired: true, value: 'first' });
    release();
    expect(await holder).toEqual({ acquired: true, value: 'done' });
    expect(await other.withRunLock(second.id, async () => 'after')).toEqual({ acquired: true, value: 'after' });
  });

  it('releases the run lock when the work throws', async () => {
    await expect(store.withRunLock(second.id, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await store.withRunLock(second.id, async () => 1)).toEqual({ acquired: true, value: 1 });
  });

  it('holds a run lock for a session on PostgreSQL, or a lease on SQLite, that a dead holder loses', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    if (database.dialect === 'sqlite') {
      // SQLite has no sessions: a lease row keeps other processes out while its holder renews it.
      const holder = store.withRunLock(first.id, () => held);
      await expect.poll(async () => (await raw.query(`SELECT COUNT(*) AS n FROM "tributary_run_leases"`))[0]).toEqual({ n: 1 });
      expect(await other.withRunLock(first.id, async () => 'other')).toEqual({ acquired: false });
      // A holder that died leaves a lease that runs out; then another process takes over.
      await raw.query(`UPDATE "tributary_run_leases" SET "lease_until" = ?`, ['2000-01-01T00:00:00.000Z']);
      expect(await other.withRunLock(first.id, async () => 'taken over')).toEqual({ acquired: true, value: 'taken over' });
      release();
      await holder;
      // A holder on this machine whose process is gone is replaced at once, without waiting for expiry.
      const { pid } = spawnSync(process.execPath, ['-e', '']);
      await raw.query(`INSERT INTO "tributary_run_leases" ("lock_key", "owner", "lease_until") VALUES (?, ?, ?)`, [
        `run:${first.id}`,
        `${hostname()}:${pid}:dead`,
        '2999-01-01T00:00:00.000Z',
      ]);
      expect(await other.withRunLock(first.id, async () => 'after a crash')).toEqual({ acquired: true, value: 'after a crash' });
      // A live holder keeps its lease.
      await raw.query(`INSERT INTO "tributary_run_leases" ("lock_key", "owner", "lease_until") VALUES (?, ?, ?)`, [
        `run:${first.id}`,
        `${hostname()}:${process.pid}:alive`,
        '2999-01-01T00:00:00.000Z',
      ]);
      expect(await other.withRunLock(first.id, async () => 'x')).toEqual({ acquired: false });
      await raw.query(`DELETE FROM "tributary_run_leases"`);
      return;
    }
    let holderPid = 0;
    const holder = other.withRunLock(first.id, async () => {
      // Exactly this installation's run lock in this database: other test files share the server.
      const [row] = await raw.query<{ pid: number }>(
        `SELECT pid FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(?, 0)`,
        [`tributary:tributary:run:${first.id}`],
      );
      holderPid = row!.pid;
      await held;
    });
    await expect.poll(() => holderPid).toBeGreaterThan(0);
    expect(await store.withRunLock(first.id, async () => 'x')).toEqual({ acquired: false });
    await raw.query('SELECT pg_terminate_backend(?)', [holderPid]);
    await expect.poll(async () => (await store.withRunLock(first.id, async () => 'taken over')).acquired).toBe(true);
    release();
    await holder.catch(() => undefined);
  });

  it('names the process that holds a run lock, and forgets a holder that died', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const before = Date.now();
    let holding = false;
    const holder = other.withRunLock(second.id, async () => {
      holding = true;
      await held;
    });
    await expect.poll(() => holding).toBe(true);
    const [found, ...rest] = await store.listRunLockHolders([second.id, first.id]);
    expect(rest).toEqual([]);
    expect(found).toMatchObject({ installationId: second.id, host: hostname(), pid: process.pid });
    expect(found!.since.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(found!.since.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await store.listRunLockHolders([first.id])).toEqual([]);
    if (database.dialect === 'postgres') {
      // The holder's connection dies (a killed process): its row stays behind but its lock is gone.
      const [row] = await raw.query<{ pid: number }>(
        `SELECT pid FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(?, 0)`,
        [`tributary:tributary:run:${second.id}`],
      );
      await raw.query('SELECT pg_terminate_backend(?)', [row!.pid]);
      await expect.poll(async () => store.listRunLockHolders()).toEqual([]);
      expect((await raw.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "tributary"."run_lock_holders"`))[0]?.n).toEqual('1');
      release();
      await holder.catch(() => undefined);
      return;
    }
    release();
    await holder;
    expect(await store.listRunLockHolders()).toEqual([]);
    // A lease not yet expired, of a process of this machine that is gone, holds nothing.
    const { pid } = spawnSync(process.execPath, ['-e', '']);
    await raw.query(`INSERT INTO "tributary_run_leases" ("lock_key", "owner", "lease_until", "since") VALUES (?, ?, ?, ?)`, [
      `run:${second.id}`,
      `${hostname()}:${pid}:dead`,
      '2999-01-01T00:00:00.000Z',
      new Date().toISOString(),
    ]);
    expect(await store.listRunLockHolders()).toEqual([]);
    await raw.query(`DELETE FROM "tributary_run_leases"`);
  });

  it.runIf(database.dialect === 'postgres')('keeps the statements of every runner job prepared on its connection, once each', async () => {
    // One connection, so that the look at the session's prepared statements sees the same one.
    const single = await createStore({ url: database.url, cipher, poolSize: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        await single.readScheduledRun(first.id);
        // A stale version: nothing is saved, the statement runs all the same.
        expect(await single.saveSchedule(schedule(first.id), 999)).toBe(false);
      }
      const prepared = (await single.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements')).filter((p) =>
        p.name.startsWith('tributary_'),
      );
      expect(prepared.filter((p) => p.statement.includes('installation_secrets'))).toHaveLength(1);
      expect(prepared.filter((p) => /UPDATE\s+"tributary"\."schedules"/.test(p.statement))).toHaveLength(1);
    } finally {
      await single.close();
    }
  });

  it('gives each period of a periodic task to one claimer, and takes it back after a failure', async () => {
    const hour = (n: number) => new Date(T0.getTime() + n * 3_600_000);
    expect(await store.claimPeriodicTask('invoices', hour(0), hour(0))).toBe(true);
    expect(await other.claimPeriodicTask('invoices', hour(0), hour(0))).toBe(false);
    // An older period never wins over a newer one.
    expect(await other.claimPeriodicTask('invoices', hour(-1), hour(0))).toBe(false);
    expect(await other.claimPeriodicTask('invoices', hour(1), hour(1))).toBe(true);
    await other.releasePeriodicTask('invoices', hour(1));
    expect(await store.claimPeriodicTask('invoices', hour(1), hour(1))).toBe(true);
    // A task released after its very first claim starts over.
    expect(await store.claimPeriodicTask('reports', hour(0), hour(0))).toBe(true);
    await store.releasePeriodicTask('reports', hour(0));
    expect(await other.claimPeriodicTask('reports', hour(0), hour(0))).toBe(true);
  });
});
