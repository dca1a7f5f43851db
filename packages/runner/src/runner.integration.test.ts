import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { closeAlertConnector, createCloseAlertConnector } from '@tributary/connector-closealert';
import { dataModelSchema, mappingSchema, type ConnectorDefinition, type Installation } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createEmbeddedQueue, type EmbeddedQueue } from './embedded-queue.js';
import { createRunner, type Runner, type RunnerEvent } from './runner.js';
import { HOUR_MS, jitterOffsetMs, nextSlotAfter } from './schedule.js';

// Embedded mode on SQLite and PostgreSQL, driven by a fake clock: the test moves time and calls
// tick() itself (the timers never fire), then waits until the in-process queue is idle.

const databases = await testDatabases('runner-embedded');
const MIN = 60_000;
const T0 = new Date('2026-03-02T10:00:00.000Z');
const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
const neverTick = { repeat: () => () => undefined };

/** A connector whose client gives up at the first failure, so that faults end the run at once. */
const impatient = createCloseAlertConnector({ client: { maxAttempts: 1, requestTimeoutMs: 5_000 } }) as unknown as ConnectorDefinition;

interface Harness {
  store: TypeOrmStore;
  sandbox: Sandbox;
  clock: { now: Date };
  installations: Installation[];
  close(): Promise<void>;
}

async function harness(database: TestDatabase, label: string, count: number): Promise<Harness> {
  const clock = { now: T0 };
  const sandbox = await startSandbox({ responses: 12, spanDays: 1, seed: 5, now: () => clock.now, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
  // One schema (or prefix) per harness, so that the describe blocks of one database do not meet.
  const store = await createStore(
    database.dialect === 'postgres' ? { url: database.url, cipher, schema: `t_${label}` } : { url: database.url, cipher, tablePrefix: `t_${label}_` },
  );
  await store.migrate();
  const installations: Installation[] = [];
  for (let i = 0; i < count; i++) {
    installations.push(
      await store.install({
        workspace: `${label}-${i}`,
        app: 'closealert',
        config: closeAlertConnector.configSchema.parse({
          projectKey: sandbox.projectKey,
          apiToken: sandbox.token,
          baseUrl: sandbox.url,
          backfillDays: 2,
          pageSize: 4,
        }) as Record<string, unknown>,
        secretFields: closeAlertConnector.secrets,
        mappings: [...closeAlertConnector.defaultMappings],
        dataModel: closeAlertConnector.dataModel,
      }),
    );
  }
  return {
    store,
    sandbox,
    clock,
    installations,
    async close() {
      await store.close();
      await sandbox.close();
    },
  };
}

async function storedResponses(store: TypeOrmStore, installationId: string): Promise<number> {
  const counts = await store.countRows(installationId);
  const key = Object.keys(counts).find((name) => name.endsWith('form_responses'));
  return key === undefined ? -1 : counts[key]!;
}

async function runsOf(store: TypeOrmStore, installation: Installation) {
  return (await store.listRuns({ workspace: installation.workspace, limit: 100 })).reverse();
}

describe.each(databases)('the embedded runner on $dialect', (database) => {
  describe('hour by hour', () => {
    let h: Harness;
    let queue: EmbeddedQueue;
    let runner: Runner;
    const events: RunnerEvent[] = [];

    beforeAll(async () => {
      h = await harness(database, 'hourly', 5);
      queue = createEmbeddedQueue({ concurrency: 2 });
      runner = createRunner({
        store: h.store,
        connectorFor: () => impatient,
        queue,
        now: () => h.clock.now,
        timers: neverTick,
        onEvent: (event) => events.push(event),
      });
      await runner.start();
    });
    afterAll(async () => {
      await runner?.stop();
      await h?.close();
    });

    const step = async (to: Date) => {
      h.clock.now = to;
      const { due } = await runner.tick();
      await queue.idle();
      return due;
    };

    it('syncs every installation at the first tick, then each at its own minute of every hour', async () => {
      // start() already ticked once at T0: every installation is new, so all are due.
      await queue.idle();
      for (const installation of h.installations) {
        const runs = await runsOf(h.store, installation);
        expect(runs.map((r) => [r.status, r.startedAt.toISOString()])).toEqual([['succeeded', T0.toISOString()]]);
        const state = await h.store.readSchedule(installation.id);
        expect(state).toMatchObject({ version: 1, attempts: 0, lastStatus: 'succeeded', nextRunAt: nextSlotAfter(T0, jitterOffsetMs(installation.id, HOUR_MS), HOUR_MS) });
        expect(await storedResponses(h.store, installation.id)).toBe(h.sandbox.responses().length);
      }

      // Walk three hours in 5-minute steps: an installation is due exactly when the step passes its slot.
      for (let t = 5 * MIN; t <= 3 * HOUR_MS; t += 5 * MIN) {
        const now = new Date(T0.getTime() + t);
        h.sandbox.addResponses({ count: 1, createdAt: new Date(now.getTime() - MIN) });
        const expectedDue = h.installations.filter((i) => {
          const offset = jitterOffsetMs(i.id, HOUR_MS);
          const previous = new Date(now.getTime() - 5 * MIN);
          return nextSlotAfter(previous, offset, HOUR_MS).getTime() <= now.getTime();
        }).length;
        expect(await step(now)).toBe(expectedDue);
      }
      for (const installation of h.installations) {
        const runs = await runsOf(h.store, installation);
        expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
        // The first run, then one per hour: never two in the same hour of the installation's slots.
        const offset = jitterOffsetMs(installation.id, HOUR_MS);
        const slots = runs.slice(1).map((r) => Math.floor((r.startedAt.getTime() - offset) / HOUR_MS));
        expect(new Set(slots).size).toBe(slots.length);
        expect(runs.length).toBeGreaterThanOrEqual(3);
        expect(runs.length).toBeLessThanOrEqual(4);
      }
      // Each run stops at its own clock: everything created up to the last run is stored.
      for (const installation of h.installations) {
        const lastRun = (await runsOf(h.store, installation)).at(-1)!;
        const expected = h.sandbox.responses().filter((r) => new Date(`${r.created_at}Z`).getTime() <= lastRun.startedAt.getTime()).length;
        expect(await storedResponses(h.store, installation.id)).toBe(expected);
      }
    });

    it('does not sync an uninstalled installation', async () => {
      const [gone] = h.installations;
      await h.store.uninstall(gone!.id, { purge: false, at: h.clock.now });
      const before = (await runsOf(h.store, gone!)).length;
      const due = await step(new Date(h.clock.now.getTime() + 2 * HOUR_MS));
      expect(due).toBe(h.installations.length - 1);
      expect((await runsOf(h.store, gone!)).length).toBe(before);
    });
  });

  describe('a backlog', () => {
    let h: Harness;
    let queue: EmbeddedQueue;
    let runner: Runner;
    const ticks: Extract<RunnerEvent, { type: 'tick' }>[] = [];

    beforeAll(async () => {
      h = await harness(database, 'backlog', 7);
      queue = createEmbeddedQueue({ concurrency: 2 });
      runner = createRunner({
        store: h.store,
        connectorFor: () => impatient,
        queue,
        now: () => h.clock.now,
        timers: neverTick,
        duePerTick: 4,
        onEvent: (event) => (event.type === 'tick' ? ticks.push(event) : undefined),
      });
    });
    afterAll(async () => {
      await runner?.stop();
      await h?.close();
    });

    it('reads no schedules while half a tick of jobs still waits, and the rest once the queue has drained', async () => {
      // The queue has no worker yet: what a tick offers waits.
      expect(await runner.tick()).toEqual({ due: 4 });
      expect(await runner.tick()).toEqual({ due: 0 });
      expect(ticks.map((t) => [t.due, t.waiting])).toEqual([
        [4, 0],
        [0, 2],
      ]);
      await queue.start(runner.handle);
      await queue.idle();
      expect(await runner.tick()).toEqual({ due: 3 });
      await queue.idle();
      for (const installation of h.installations) expect(await runsOf(h.store, installation)).toHaveLength(1);
      expect(await runner.tick()).toEqual({ due: 0 });
      expect(ticks.at(-1)?.waiting).toBe(0);
    });
  });

  describe('failures', () => {
    let h: Harness;
    let queue: EmbeddedQueue;
    let runner: Runner;
    let installation: Installation;

    beforeAll(async () => {
      h = await harness(database, 'fail', 1);
      installation = h.installations[0]!;
      queue = createEmbeddedQueue({ concurrency: 1 });
      runner = createRunner({ store: h.store, connectorFor: () => impatient, queue, now: () => h.clock.now, timers: neverTick });
      await runner.start();
      await queue.idle();
    });
    afterAll(async () => {
      await runner?.stop();
      await h?.close();
    });

    const step = async (to: Date) => {
      h.clock.now = to;
      const { due } = await runner.tick();
      await queue.idle();
      return due;
    };

    it('backs off exponentially after failed runs and returns to the hourly slot after a success', async () => {
      const first = await h.store.readSchedule(installation.id);
      expect(first).toMatchObject({ lastStatus: 'succeeded', attempts: 0 });
      let now = first!.nextRunAt;
      h.sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
      expect(await step(now)).toBe(1);
      let state = await h.store.readSchedule(installation.id);
      expect(state).toMatchObject({ lastStatus: 'failed', attempts: 1, nextRunAt: new Date(now.getTime() + MIN) });
      expect(state!.lastErrorCode).toMatch(/^SOURCE_/);

      // Not due before the backoff has passed.
      expect(await step(new Date(now.getTime() + 30_000))).toBe(0);
      now = new Date(now.getTime() + MIN);
      expect(await step(now)).toBe(1);
      state = await h.store.readSchedule(installation.id);
      expect(state).toMatchObject({ lastStatus: 'failed', attempts: 2, nextRunAt: new Date(now.getTime() + 2 * MIN) });

      now = new Date(now.getTime() + 2 * MIN);
      expect(await step(now)).toBe(1);
      state = await h.store.readSchedule(installation.id);
      expect(state).toMatchObject({ lastStatus: 'succeeded', attempts: 0, lastErrorCode: null });
      expect(state!.nextRunAt).toEqual(nextSlotAfter(now, jitterOffsetMs(installation.id, HOUR_MS), HOUR_MS));
      const runs = await runsOf(h.store, installation);
      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'failed', 'failed', 'succeeded']);
    });

    it("moves the next try out by a 429's Retry-After", async () => {
      let now = (await h.store.readSchedule(installation.id))!.nextRunAt;
      h.sandbox.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 900 });
      expect(await step(now)).toBe(1);
      const state = await h.store.readSchedule(installation.id);
      expect(state).toMatchObject({ lastStatus: 'failed', attempts: 1, lastErrorCode: 'SOURCE_RATE_LIMITED' });
      // 15 minutes, not the one-minute backoff of a first failure.
      expect(state!.nextRunAt.getTime()).toBe(now.getTime() + 15 * MIN);
      expect(await step(new Date(now.getTime() + 14 * MIN))).toBe(0);
      now = new Date(now.getTime() + 15 * MIN);
      expect(await step(now)).toBe(1);
      expect(await h.store.readSchedule(installation.id)).toMatchObject({ lastStatus: 'succeeded', attempts: 0 });
      expect(await storedResponses(h.store, installation.id)).toBe(h.sandbox.responses().length);
    });

    it('stops between pages on stop(): the installation stays due and no page is half-written', async () => {
      const now = (await h.store.readSchedule(installation.id))!.nextRunAt;
      h.clock.now = now;
      // Many new responses, served slowly, so that the stop lands in the middle of the run.
      h.sandbox.addResponses({ count: 40, createdAt: (i) => new Date(now.getTime() - 30 * MIN + i * 1000) });
      h.sandbox.injectFault({ kind: 'slow', delayMs: 150 }, { times: 20 });
      const events: RunnerEvent[] = [];
      const stopping = createRunner({
        store: h.store,
        connectorFor: () => impatient,
        queue: createEmbeddedQueue({ concurrency: 1 }),
        now: () => h.clock.now,
        timers: neverTick,
        onEvent: (event) => events.push(event),
      });
      await runner.stop();
      await stopping.start();
      await expect.poll(() => events.some((e) => e.type === 'sync-started'), { timeout: 10_000 }).toBe(true);
      // Let at least one page commit.
      await new Promise((resolve) => setTimeout(resolve, 400));
      await stopping.stop();
      h.sandbox.clearFaults();
      const done = events.find((e) => e.type === 'job-done');
      expect(done).toMatchObject({ outcome: 'ran', status: 'interrupted' });
      const state = await h.store.readSchedule(installation.id);
      expect(state).toMatchObject({ lastStatus: 'interrupted', nextRunAt: now });
      // The checkpoint and the rows moved together: everything up to the cursor is stored, nothing after it.
      const checkpoint = (await h.store.readCheckpoint(installation.id, 'form_responses')) as { cursor: string };
      const stored = await storedResponses(h.store, installation.id);
      const upToCursor = h.sandbox.responses().filter((r) => new Date(`${r.created_at}Z`).getTime() <= new Date(checkpoint.cursor).getTime()).length;
      expect(stored).toBe(upToCursor);
      expect(stored).toBeLessThan(h.sandbox.responses().length);
    });
  });

  describe('periodic tasks', () => {
    let h: Harness;

    beforeAll(async () => {
      h = await harness(database, 'periodic', 0);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('runs a task once per period across runners, and again after it failed', async () => {
      const calls: { runner: string; at: Date }[] = [];
      let failNext = false;
      const runnerNamed = (name: string) =>
        createRunner({
          store: h.store,
          connectorFor: () => impatient,
          queue: createEmbeddedQueue(),
          now: () => h.clock.now,
          timers: neverTick,
          periodicTasks: [
            {
              name: 'invoices',
              everyMs: 24 * HOUR_MS,
              async run(now) {
                if (failNext) {
                  failNext = false;
                  throw new Error('billing system down');
                }
                calls.push({ runner: name, at: now });
              },
            },
          ],
        });
      const a = runnerNamed('a');
      const b = runnerNamed('b');
      await a.tick();
      await b.tick();
      h.clock.now = new Date(T0.getTime() + HOUR_MS);
      await b.tick();
      await a.tick();
      expect(calls).toEqual([{ runner: 'a', at: T0 }]);

      // The next day: the first claimer fails, so the period is given back and the next tick runs it.
      failNext = true;
      h.clock.now = new Date(T0.getTime() + 24 * HOUR_MS);
      await b.tick();
      expect(calls).toHaveLength(1);
      await a.tick();
      await b.tick();
      expect(calls).toEqual([
        { runner: 'a', at: T0 },
        { runner: 'a', at: h.clock.now },
      ]);
    });
  });

  describe('connectors', () => {
    let h: Harness;

    beforeAll(async () => {
      h = await harness(database, 'conn', 1);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('refuses an installation whose connector is not loaded, and records the version of the one that syncs', async () => {
      const present = h.installations[0]!;
      const events: RunnerEvent[] = [];
      const queue = createEmbeddedQueue({ concurrency: 1 });
      const runner = createRunner({
        store: h.store,
        connectorFor: (app) => (app === 'closealert' ? impatient : undefined),
        queue,
        now: () => h.clock.now,
        timers: neverTick,
        onEvent: (event) => events.push(event),
      });
      // An installation of an app that no loaded connector provides (its package was removed, say).
      const orphan = await h.store.install({
        workspace: 'conn-orphan',
        app: 'gone',
        config: {},
        secretFields: [],
        mappings: [mappingSchema.parse({ source: 'id', target: { table: 'things', column: 'id' }, transform: 'integer' })],
        dataModel: dataModelSchema.parse({ primaryTable: 'things', tables: [{ name: 'things', rowsFrom: { kind: 'record' }, key: ['id'], onConflict: 'ignore', columns: [{ name: 'id', type: 'bigint', nullable: false }] }] }),
        connectorVersion: '1.2.3',
      });
      await runner.start();
      await queue.idle();
      await runner.stop();
      expect(await h.store.readSchedule(orphan.id)).toMatchObject({ lastStatus: 'failed', lastErrorCode: 'CONNECTOR_MISSING' });
      expect(await runsOf(h.store, orphan)).toEqual([]);
      expect((await h.store.getInstallation(orphan.id))!.connectorVersion).toBe('1.2.3');
      // The installation made without a version now records the connector that synced it.
      expect(await h.store.readSchedule(present.id)).toMatchObject({ lastStatus: 'succeeded' });
      expect((await h.store.getInstallation(present.id))!.connectorVersion).toBe(impatient.version);
      expect(events.some((e) => e.type === 'job-done' && e.installationId === orphan.id)).toBe(true);
    });
  });
});
