import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataModelSchema, validateMappings, type DataModel, type Installation, type ScheduleState } from '@tributary/core';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';
import { dialectFor } from './dialect.js';
import { dueScheduleStatements } from './scheduling.js';
import { openRawDatabase, type RawDatabase } from './test-support/raw-database.js';

// The scheduler's tick reads only what is due (issue #17): these pin down which installations the
// due query returns, in what order, and that its plan goes through the index on `next_run_at`.

const databases = await testDatabases('scheduling-due');

const model: DataModel = dataModelSchema.parse({
  primaryTable: 'items',
  tables: [{ name: 'items', rowsFrom: { kind: 'record' }, key: ['id'], onConflict: 'ignore', columns: [{ name: 'id', type: 'bigint', nullable: false }] }],
});
const mappings = validateMappings([{ source: 'id', target: { table: 'items', column: 'id' } }], model);
const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
const T0 = new Date('2026-03-02T10:00:00.000Z');
const HOUR = 3_600_000;

function schedule(installationId: string, nextRunAt: Date): Omit<ScheduleState, 'version'> {
  return { installationId, nextRunAt, attempts: 0, lastStartedAt: null, lastFinishedAt: null, lastStatus: null, lastErrorCode: null };
}

describe.each(databases)('due schedules on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let raw: RawDatabase;
  const installed: Record<string, Installation> = {};

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher });
    await store.migrate();
    raw = await openRawDatabase(database);
    for (const workspace of ['never', 'late', 'recent', 'exact', 'future', 'gone']) {
      installed[workspace] = await store.install({ workspace, app: 'dueapp', config: {}, secretFields: [], mappings, dataModel: model });
    }
    const at = (workspace: string, offsetMs: number) => store.saveSchedule(schedule(installed[workspace]!.id, new Date(T0.getTime() + offsetMs)), 0);
    expect(await at('late', -2 * HOUR)).toBe(true);
    expect(await at('recent', -HOUR)).toBe(true);
    expect(await at('exact', 0)).toBe(true);
    expect(await at('future', HOUR)).toBe(true);
    expect(await at('gone', -3 * HOUR)).toBe(true);
    await store.uninstall(installed.gone!.id, { purge: false, at: T0 });
  });
  afterAll(async () => {
    await raw?.close();
    await store?.close();
  });

  const id = (workspace: string) => installed[workspace]!.id;

  it('returns installations never synced first, then due schedules oldest first, with their versions, and only active ones', async () => {
    expect(await store.listDueSchedules(T0, 100)).toEqual([
      { installationId: id('never'), version: 0 },
      { installationId: id('late'), version: 1 },
      { installationId: id('recent'), version: 1 },
      { installationId: id('exact'), version: 1 },
    ]);
    // The tick's answer is the same set the full listing gives when filtered in memory.
    const listed = (await store.listSchedules()).filter((e) => e.state === undefined || e.state.nextRunAt.getTime() <= T0.getTime());
    expect(new Set(listed.map((e) => e.installationId))).toEqual(new Set((await store.listDueSchedules(T0, 100)).map((d) => d.installationId)));
  });

  it('stops at the limit, the most overdue first', async () => {
    expect(await store.listDueSchedules(T0, 2)).toEqual([
      { installationId: id('never'), version: 0 },
      { installationId: id('late'), version: 1 },
    ]);
    expect((await store.listDueSchedules(T0, 4)).map((d) => d.installationId)).toEqual([id('never'), id('late'), id('recent'), id('exact')]);
    expect(await store.listDueSchedules(new Date(T0.getTime() - 90 * 60_000), 100)).toEqual([
      { installationId: id('never'), version: 0 },
      { installationId: id('late'), version: 1 },
    ]);
  });

  it('writes the schedule row at install: due at any clock, read as no schedule until the first save', async () => {
    const table = database.dialect === 'postgres' ? 'tributary.schedules' : 'tributary_schedules';
    const rows = await raw.query<{ version: number }>(`SELECT "version" FROM ${table} WHERE "installation_id" = ?`, [id('never')]);
    expect(rows.map((r) => Number(r.version))).toEqual([1]);
    // Long before the install, and long after it.
    expect(await store.listDueSchedules(new Date('2000-01-01T00:00:00.000Z'), 100)).toEqual([{ installationId: id('never'), version: 0 }]);
    expect((await store.listDueSchedules(new Date('2999-01-01T00:00:00.000Z'), 1))).toEqual([{ installationId: id('never'), version: 0 }]);
    expect(await store.readSchedule(id('never'))).toBeUndefined();
    expect((await store.listSchedules()).find((e) => e.installationId === id('never'))?.state).toBeUndefined();
    expect((await store.readScheduledRun(id('never'))).schedule).toBeUndefined();
    expect((await store.readScheduledRun(id('late'))).schedule).toMatchObject({ version: 1, nextRunAt: new Date(T0.getTime() - 2 * HOUR) });
  });

  it('hands out versions that the compare-and-set of the schedule accepts exactly once', async () => {
    const late = (await store.listDueSchedules(T0, 2))[1];
    expect(late).toEqual({ installationId: id('late'), version: 1 });
    expect(await store.saveSchedule(schedule(id('late'), new Date(T0.getTime() + HOUR)), late!.version)).toBe(true);
    expect(await store.saveSchedule(schedule(id('late'), new Date(T0.getTime() + HOUR)), late!.version)).toBe(false);
    const never = (await store.listDueSchedules(T0, 100)).find((d) => d.installationId === id('never'));
    expect(never).toEqual({ installationId: id('never'), version: 0 });
    expect(await store.saveSchedule(schedule(id('never'), new Date(T0.getTime() + HOUR)), never!.version)).toBe(true);
    expect(await store.saveSchedule(schedule(id('never'), new Date(T0.getTime() + HOUR)), never!.version)).toBe(false);
    expect((await store.listDueSchedules(T0, 100)).map((d) => d.installationId)).toEqual([id('recent'), id('exact')]);
  });

  it('backfills the schedule rows of installations made before them, and takes exactly those back out', async () => {
    const pg = database.dialect === 'postgres';
    const table = pg ? 'tributary.schedules' : 'tributary_schedules';
    const applied = async () => (await raw.query<{ name: string }>(`SELECT name FROM ${pg ? 'tributary.migrations' : 'tributary_migrations'}`)).map((m) => m.name);
    const later = await store.install({ workspace: 'later', app: 'dueapp', config: {}, secretFields: [], mappings, dataModel: model });
    const before = (await raw.query<{ installation_id: string }>(`SELECT "installation_id" FROM ${table}`)).map((r) => r.installation_id).sort();
    expect(before).toContain(later.id);
    // Later migrations (if any) go down first, down to this one.
    while ((await applied()).includes('ScheduleAtInstall1764800100000')) await store.revertLastMigration();
    const down = (await raw.query<{ installation_id: string }>(`SELECT "installation_id" FROM ${table}`)).map((r) => r.installation_id).sort();
    expect(down).toEqual(before.filter((installationId) => installationId !== later.id));
    await store.migrate();
    expect((await raw.query<{ installation_id: string }>(`SELECT "installation_id" FROM ${table}`)).map((r) => r.installation_id).sort()).toEqual(before);
    expect((await store.listDueSchedules(T0, 1))[0]).toEqual({ installationId: later.id, version: 0 });
    expect(await store.readSchedule(later.id)).toBeUndefined();
  });

  it('refuses a limit that is not a positive whole number', async () => {
    await expect(store.listDueSchedules(T0, 0)).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(store.listDueSchedules(T0, 1.5)).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('reads due schedules through the index on next_run_at', async () => {
    const dialect = dialectFor({ dialect: database.dialect, schema: 'tributary', tablePrefix: 'tributary_' });
    const { due } = dueScheduleStatements(dialect, T0, 100);
    if (database.dialect === 'sqlite') {
      const plan = await raw.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${due.sql}`, due.params);
      const details = plan.map((row) => row.detail);
      // A range of the index, already in next_run_at order: no table scan and no sort.
      expect(details.some((d) => /^SEARCH s USING INDEX "?tributary_schedules_next_run_at_idx"? \(next_run_at<\?\)/.test(d))).toBe(true);
      expect(details.some((d) => /USE TEMP B-TREE FOR ORDER BY/.test(d))).toBe(false);
      // The installations are probed by their key for the rows of that range only: never scanned.
      expect(details.some((d) => /^SCAN i\b/.test(d))).toBe(false);
      return;
    }
    // Six rows are cheaper to scan than to look up: the planner is told to avoid that shortcut so
    // that the plan shows what it does at scale (docs in the store README, measured at 20,000).
    await raw.query('SET enable_seqscan = off');
    await raw.query('SET enable_sort = off');
    try {
      const plan = await raw.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${due.sql.replace(/\$(\d)/g, '?')}`, due.params);
      const text = plan.map((row) => row['QUERY PLAN']).join('\n');
      expect(text).toMatch(/Index Scan using schedules_next_run_at_idx on schedules s/);
      expect(text).toMatch(/Index Cond: \(next_run_at <= /);
      expect(text).not.toMatch(/Seq Scan on schedules/);
      // No anti-join over every installation for the ones never synced: they have schedule rows.
      expect(text).not.toMatch(/Anti Join|Seq Scan on installations/);
    } finally {
      await raw.query('RESET enable_seqscan');
      await raw.query('RESET enable_sort');
    }
  });
});
