import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createCloseAlertConnector, formResponseSchema } from '@tributary/connector-closealert';
import type { ConnectorDefinition, Installation, SavedCustomer, Store } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { runSync } from './run-sync.js';

// Runs that tell the truth, on both databases: every stored row carries the id of the run that
// stored it, the log keeps every customer a run saved (past the first thousand), a run whose
// process died is closed as abandoned with what it committed (but never one a live process holds).

const databases = await testDatabases('run-states');
const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

const connector = createCloseAlertConnector({
  client: { backoffBaseMs: 1, backoffMaxMs: 2, maxAttempts: 3, requestTimeoutMs: 5_000, rateLimitWaitMs: 5 },
}) as unknown as ConnectorDefinition;

/** The store as a process sees it that dies right before it closes its run. */
function dyingBefore(store: Store, method: 'finishRun'): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === method) return () => Promise.reject(new Error('the process died'));
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe.each(databases)('run states on $dialect', (db) => {
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  let other: TypeOrmStore;
  let installation: Installation;
  let clock = NOW;
  const now = () => clock;
  const p = (n: number) => (db.dialect === 'postgres' ? `$${n}` : '?');
  const count = async (table: string, where: string, params: unknown[]) =>
    Number((await store.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${store.appTable('closealert', table)} WHERE ${where}`, params))[0]?.n);

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 1500, spanDays: 60, seed: 8, now });
    const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
    store = await createStore({ url: db.url, cipher });
    await store.migrate();
    other = await createStore({ url: db.url, cipher });
    installation = await store.install({
      workspace: 'acme',
      app: 'closealert',
      config: connector.configSchema.parse({ projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url, backfillDays: 90, pageSize: 250 }),
      secretFields: connector.secrets,
      mappings: [...connector.defaultMappings],
      dataModel: connector.dataModel,
    });
  });
  afterAll(async () => {
    await other?.close();
    await store?.close();
    await sandbox?.close();
  });

  it('stamps every row with its run and keeps every customer the run saved, a page at a time', async () => {
    const backfill = await runSync({ store, connector, installation, now });
    expect(backfill.status).toBe('succeeded');
    expect(backfill.inserted).toBe(1500);

    for (const table of ['form_responses', 'answers']) {
      const all = await count(table, `installation_id = ${p(1)}`, [installation.id]);
      expect(all).toBeGreaterThan(0);
      expect(await count(table, `installation_id = ${p(1)} AND run_id = ${p(2)}`, [installation.id, backfill.runId])).toBe(all);
    }

    const run = await store.getRun(backfill.runId);
    expect(run).toMatchObject({ status: 'succeeded', inserted: 1500, savedTotal: 1500 });
    expect(run?.saved).toHaveLength(20);

    const listed: SavedCustomer[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await store.listSavedCustomers(backfill.runId, { limit: 400, ...(after === undefined ? {} : { after }) });
      expect(page?.total).toBe(1500);
      listed.push(...page!.customers);
      if (page!.next === undefined) break;
      after = page!.next;
    }
    expect(listed).toHaveLength(1500);
    expect(new Set(listed.map((c) => c.seq)).size).toBe(1500);
    // Each line as the connector summarizes the response: key, contact, form and fields, exactly.
    const byKey = (a: { key?: string }, b: { key?: string }) => Number(a.key) - Number(b.key);
    const expected = sandbox.responses().map((r) => connector.streams[0]!.summarize!(formResponseSchema.parse(r)));
    expect(listed.some((c) => c.fields?.score !== undefined) && listed.some((c) => c.fields?.comment !== undefined)).toBe(true);
    expect(listed.map(({ seq, ...line }) => (void seq, line)).sort(byKey)).toEqual(expected.sort(byKey));
    expect(await store.listSavedCustomers('00000000-0000-4000-8000-000000000000', { limit: 10 })).toBeUndefined();

    // A later run stamps only the rows it brought in; the backfill's rows keep the backfill's id.
    clock = new Date(NOW.getTime() + HOUR);
    sandbox.addResponses({ count: 5, createdAt: (i) => new Date(clock.getTime() - 60_000 + i * 1000) });
    const hourly = await runSync({ store, connector, installation, now });
    expect(hourly.inserted).toBe(5);
    expect(await count('form_responses', `installation_id = ${p(1)} AND run_id = ${p(2)}`, [installation.id, hourly.runId])).toBe(5);
    expect(await count('form_responses', `installation_id = ${p(1)} AND run_id = ${p(2)}`, [installation.id, backfill.runId])).toBe(1500);
    expect((await store.listSavedCustomers(hourly.runId, { limit: 100 }))?.customers).toHaveLength(5);
  });

  it('closes a run whose process died as abandoned, with what it committed, but never one a live process holds', async () => {
    clock = new Date(NOW.getTime() + 2 * HOUR);
    sandbox.addResponses({ count: 7, createdAt: (i) => new Date(clock.getTime() - 60_000 + i * 1000) });
    await expect(runSync({ store: dyingBefore(store, 'finishRun'), connector, installation, now })).rejects.toThrow('the process died');
    const [dead] = await store.listRuns({ workspace: 'acme', limit: 1 });
    expect(dead).toMatchObject({ status: 'running', finishedAt: null });

    const [abandoned, ...more] = await store.markAbandonedRuns(new Date());
    expect(more).toEqual([]);
    expect(abandoned).toMatchObject({ id: dead!.id, status: 'abandoned', inserted: 7, fetched: 7, rejected: 0, savedTotal: 7 });
    // When the process died is not known; the warning says when it was found.
    expect(abandoned?.finishedAt).toBeNull();
    expect(abandoned?.startedAt.toISOString()).toBe(dead!.startedAt.toISOString());
    expect(abandoned?.warnings.join(' ')).toMatch(/^Abandoned \(found \d{4}-.*Z\): the process running it ended without closing it/);
    expect(await store.markAbandonedRuns(new Date())).toEqual([]);

    // A run whose process holds the installation's run lock is alive, however long it takes: left alone.
    let release!: () => void;
    let live: string | undefined;
    const holder = other.withRunLock(installation.id, async () => {
      live = await other.startRun(installation.id, clock);
      await new Promise<void>((resolve) => (release = resolve));
      await other.finishRun(live, { status: 'succeeded', fetched: 0, inserted: 0, unchanged: 0, rejected: 0, saved: [], warnings: [] }, clock);
    });
    await expect.poll(() => live).toBeDefined();
    expect(await store.markAbandonedRuns(new Date())).toEqual([]);
    expect((await store.getRun(live!))?.status).toBe('running');
    release();
    await holder;
    expect((await store.getRun(live!))?.status).toBe('succeeded');

    // The next run of the installation finds out by itself.
    clock = new Date(NOW.getTime() + 3 * HOUR);
    sandbox.addResponses({ count: 2, createdAt: (i) => new Date(clock.getTime() - 60_000 + i * 1000) });
    await expect(runSync({ store: dyingBefore(store, 'finishRun'), connector, installation, now })).rejects.toThrow('the process died');
    const [second] = await store.listRuns({ workspace: 'acme', limit: 1 });
    const next = await store.withRunLock(installation.id, () => runSync({ store, connector, installation, now }));
    expect(next.acquired && next.value.status).toBe('succeeded');
    expect(await store.getRun(second!.id)).toMatchObject({ status: 'abandoned', inserted: 2 });
  });

  it('closes a dead run even when the installation\'s token cannot be opened (the key is missing)', async () => {
    clock = new Date(NOW.getTime() + 4 * HOUR);
    sandbox.addResponses({ count: 3, createdAt: (i) => new Date(clock.getTime() - 60_000 + i * 1000) });
    await expect(runSync({ store: dyingBefore(store, 'finishRun'), connector, installation, now })).rejects.toThrow('the process died');
    const [dead] = await store.listRuns({ workspace: 'acme', limit: 1 });
    const keyless = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { k9: randomBytes(32) }, currentKeyId: 'k9' }) });
    try {
      const [abandoned] = await keyless.markAbandonedRuns(new Date());
      expect(abandoned).toMatchObject({ id: dead!.id, status: 'abandoned', inserted: 3 });
    } finally {
      await keyless.close();
    }
  });
});
