import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createCloseAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition, Installation } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { createEmbeddedQueue, type EmbeddedQueue } from './embedded-queue.js';
import { createRunner, type Runner } from './runner.js';

// The scheduled runner makes the daily reconciliation pass by itself: a response that appears six
// hours after its timestamp, beyond the hour of look-back, is stored by the first scheduled run a
// day after the previous pass, once, and the hourly runs in between do not re-read the week.

const databases = await testDatabases('runner-reconcile');
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = new Date('2026-03-02T10:00:00.000Z');
const connector = createCloseAlertConnector({ client: { maxAttempts: 2, backoffBaseMs: 1, backoffMaxMs: 2 } }) as unknown as ConnectorDefinition;

describe.each(databases)('the daily reconciliation pass under the runner on $dialect', (database) => {
  const clock = { now: T0 };
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  let queue: EmbeddedQueue;
  let runner: Runner;
  let installation: Installation;

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 30, spanDays: 3, seed: 8, now: () => clock.now, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
    store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    await store.migrate();
    installation = await store.install({
      workspace: 'reconcile',
      app: 'closealert',
      config: connector.configSchema.parse({ projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url, backfillDays: 5, pageSize: 20 }),
      secretFields: connector.secrets,
      mappings: [...connector.defaultMappings],
      dataModel: connector.dataModel,
    });
    queue = createEmbeddedQueue({ concurrency: 1 });
    runner = createRunner({ store, connectorFor: () => connector, queue, now: () => clock.now, timers: { repeat: () => () => undefined } });
    await runner.start();
    await queue.idle();
  });
  afterAll(async () => {
    await runner?.stop();
    await store?.close();
    await sandbox?.close();
  });

  const isStored = async (id: number) =>
    (
      await store.query(
        `SELECT 1 FROM ${store.appTable('closealert', 'form_responses')} WHERE installation_id = ${database.dialect === 'postgres' ? '$1' : '?'} AND response_id = ${database.dialect === 'postgres' ? '$2' : '?'}`,
        [installation.id, id],
      )
    ).length === 1;

  it('stores a response six hours late with the first scheduled run a day after the last pass', async () => {
    let late: number | undefined;
    let firstFoundAt: Date | undefined;
    for (let t = 5 * MIN; t <= 26 * HOUR; t += 5 * MIN) {
      clock.now = new Date(T0.getTime() + t);
      if (t === 3 * HOUR) late = sandbox.addResponses({ count: 1, createdAt: new Date(clock.now.getTime() - 6 * HOUR) })[0]!.id;
      await runner.tick();
      await queue.idle();
      if (late !== undefined && firstFoundAt === undefined && (await isStored(late))) firstFoundAt = clock.now;
    }
    const runs = (await store.listRuns({ workspace: 'reconcile', limit: 100 })).reverse();
    expect(runs.length).toBeGreaterThanOrEqual(26);
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true);
    const passes = runs.filter((run) => run.reconciled !== undefined);
    // The first run backfilled; the next pass is the first run 24 hours (less the slack) after it.
    expect(passes).toHaveLength(1);
    const pass = passes[0]!;
    expect(pass.startedAt.getTime() - T0.getTime()).toBeGreaterThanOrEqual(24 * HOUR - 30 * MIN);
    expect(pass.startedAt.getTime() - T0.getTime()).toBeLessThanOrEqual(25 * HOUR);
    expect(pass.late).toBe(1);
    expect(firstFoundAt?.getTime()).toBeGreaterThanOrEqual(pass.startedAt.getTime());
    // Everything once: the stored rows are exactly the sandbox's responses of the backfill range on.
    const counts = await store.countRows(installation.id);
    const key = Object.keys(counts).find((name) => name.endsWith('form_responses'))!;
    expect(counts[key]).toBe(sandbox.responses().filter((r) => Date.parse(`${r.created_at}Z`) >= T0.getTime() - 5 * 24 * HOUR).length);
    for (const run of runs) expect(run.fetched).toBe(run.inserted + run.unchanged + run.rejected + (run.duplicates ?? 0));
  });
});
