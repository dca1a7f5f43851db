import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createCloseAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition, Installation } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { runSync } from './run-sync.js';
import { applyRetentionAfterRun } from './retention.js';

// Retention on both databases: responses (with their answers and raw copies), rejected records and
// run-log lines older than the period go, in batches, after a run; a later sync, a reconciliation
// pass or a backfill does not store them again, and counts still add up.

const databases = await testDatabases('retention');
const DAY = 86_400_000;
// Near the real clock: the store dates rejected records by it.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);

const connector = createCloseAlertConnector({
  client: { backoffBaseMs: 1, backoffMaxMs: 2, maxAttempts: 3, requestTimeoutMs: 2_000, rateLimitWaitMs: 5 },
}) as unknown as ConnectorDefinition;

describe.each(databases)('retention on $dialect', (db) => {
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  let installation: Installation;
  let clock = NOW;
  const now = () => clock;
  const p = (n: number) => (db.dialect === 'postgres' ? `$${n}` : '?');
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });

  const settings = () => connector.configSchema.parse({ projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url, backfillDays: 60, pageSize: 100 });
  const cutoffValue = (at: Date) => at.toISOString();
  const count = async (table: string, installationId: string, where = '', params: unknown[] = []) =>
    Number(
      (
        await store.query<{ n: number | string }>(
          `SELECT COUNT(*) AS n FROM ${store.appTable('closealert', table)} WHERE installation_id = ${p(1)}${where}`,
          [installationId, ...params],
        )
      )[0]?.n,
    );
  const inLast = (days: number) => sandbox.responses().filter((r) => Date.parse(`${r.created_at}Z`) >= NOW.getTime() - days * DAY).length;

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 600, spanDays: 59, seed: 23, now });
    store = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    await store.migrate();
    installation = await store.install({
      workspace: 'acme',
      app: 'closealert',
      config: settings(),
      secretFields: connector.secrets,
      mappings: [...connector.defaultMappings],
      dataModel: connector.dataModel,
    });
    const first = await runSync({ store, connector, installation, now });
    expect(first.status, first.error).toBe('succeeded');
    expect(first.inserted).toBe(600);
  });
  afterAll(async () => {
    await store?.close();
    await sandbox?.close();
  });

  it('is off by default and refuses a period an app cannot age its records by', async () => {
    expect(installation.retentionDays).toBeUndefined();
    expect((await store.applyRetention(installation.id, NOW)).records).toBe(0);
    await expect(
      store.install({
        workspace: 'acme',
        app: 'notes',
        config: {},
        secretFields: [],
        mappings: [],
        dataModel: { primaryTable: 'notes', tables: [{ name: 'notes', description: '', rowsFrom: { kind: 'record' }, key: ['id'], onConflict: 'ignore', indexes: [], columns: [{ name: 'id', type: 'text', nullable: false, description: '' }] }] },
        retentionDays: 7,
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('deletes records with their answers and raw copies past the period, in batches', async () => {
    const older = 600 - inLast(20);
    expect(older).toBeGreaterThan(200);
    const updated = await store.updateInstallation(installation.id, { retentionDays: 20 });
    expect(updated.retentionDays).toBe(20);
    // Dated by the store's clock: 25 days on, this one is past the period too.
    const runId = await store.startRun(installation.id, NOW);
    await store.writePage({
      installationId: installation.id,
      runId,
      stream: 'form_responses',
      rows: {},
      rejected: [{ sourceId: 'x1', reason: 'invalid', raw: { id: 'x1' } }],
      checkpoint: await store.readCheckpoint(installation.id, 'form_responses'),
    });
    await store.finishRun(runId, { status: 'succeeded', fetched: 1, inserted: 0, unchanged: 0, rejected: 1, saved: [], warnings: [] }, NOW);

    const result = await store.applyRetention(installation.id, NOW, { batchSize: 50 });
    expect(result.records).toBe(older);
    expect(result.batches).toBeGreaterThanOrEqual(Math.ceil(older / 50));
    expect(result.linked).toBeGreaterThan(0);
    expect(result.rejected).toBe(0);
    expect(await count('form_responses', installation.id)).toBe(600 - older);
    // No answer outlives its response.
    expect(
      await count('answers', installation.id, ` AND NOT EXISTS (SELECT 1 FROM ${store.appTable('closealert', 'form_responses')} r WHERE r.installation_id = ${store.appTable('closealert', 'answers')}.installation_id AND r.response_id = ${store.appTable('closealert', 'answers')}.response_id)`),
    ).toBe(0);
    expect(await count('form_responses', installation.id, ` AND created_at < ${p(2)}`, [cutoffValue(new Date(NOW.getTime() - 20 * DAY))])).toBe(0);

  });

  it('keeps syncs exactly-once: a reconciliation pass and a backfill store nothing past the period, and counts add up', async () => {
    const kept = await count('form_responses', installation.id);
    sandbox.addResponses({ count: 3, createdAt: new Date(NOW.getTime() - 3_600_000) });
    clock = new Date(NOW.getTime() + 60_000);
    const current = (await store.getInstallation(installation.id))!;
    const rerun = await runSync({ store, connector, installation: current, now, reconcile: true });
    expect(rerun.status, rerun.error).toBe('succeeded');
    expect(rerun.inserted).toBe(3);
    expect(await count('form_responses', installation.id)).toBe(kept + 3);
    const again = await runSync({ store, connector, installation: current, now, reconcile: true });
    expect(again.inserted).toBe(0);

    // A new installation with a period from the start: its 60-day backfill stores only the last 20 days.
    const fresh = await store.install({
      workspace: 'beta',
      app: 'closealert',
      config: settings(),
      secretFields: connector.secrets,
      mappings: [...connector.defaultMappings],
      dataModel: connector.dataModel,
      retentionDays: 20,
    });
    const backfill = await runSync({ store, connector, installation: fresh, now });
    expect(backfill.status, backfill.error).toBe('succeeded');
    expect(backfill.inserted).toBe(inLast(20));
    expect(backfill.expired).toBe(603 - inLast(20));
    expect(backfill.fetched).toBe(backfill.inserted + backfill.unchanged + backfill.rejected + (backfill.duplicates ?? 0) + (backfill.expired ?? 0));
    expect(await count('form_responses', fresh.id)).toBe(inLast(20));
  });

  it('after a run, deletes rejected records and run-log lines past the period too, and logs how many', async () => {
    const updated = (await store.getInstallation(installation.id))!;
    // 25 days on, the runner's pass takes the rejected record and the first run's log lines too.
    const later = new Date(NOW.getTime() + 25 * DAY);
    const after = await applyRetentionAfterRun(store, updated, later, logger);
    expect(after?.rejected).toBe(1);
    expect(after?.runLogLines).toBeGreaterThan(0);
    const [first] = (await store.listRuns({ workspace: 'acme', limit: 10 })).slice(-1);
    expect(first?.savedTotal).toBe(0);
    const line = logLines.map((l) => JSON.parse(l) as { msg: string; records: number; rejected: number }).find((l) => l.msg.startsWith('retention: deleted'));
    expect(line).toMatchObject({ records: after!.records, rejected: 1 });
  });
});
