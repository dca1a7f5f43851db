import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createCloseAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition, Installation } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { runSync } from './run-sync.js';

// End to end against the sandbox over real HTTP, on both databases: backfill, incremental runs,
// faults that end a run cleanly, rejected records in the log, and the backfill flag.

const databases = await testDatabases('run-sync');
const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00Z');

const connector = createCloseAlertConnector({
  client: { backoffBaseMs: 1, backoffMaxMs: 2, maxAttempts: 3, requestTimeoutMs: 2_000, rateLimitWaitMs: 5 },
}) as unknown as ConnectorDefinition;

describe.each(databases)('runSync on $dialect', (db) => {
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  let installation: Installation;
  let clock = NOW;
  const now = () => clock;
  const param = (n: number) => (db.dialect === 'postgres' ? `$${n}` : '?');

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 1500, spanDays: 120, seed: 5, now });
    const key = randomBytes(32);
    store = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { k1: key }, currentKeyId: 'k1' }) });
    await store.migrate();
    installation = await store.install({
      workspace: 'acme',
      app: 'closealert',
      config: connector.configSchema.parse({
        projectKey: sandbox.projectKey,
        apiToken: sandbox.token,
        baseUrl: sandbox.url,
        backfillDays: 90,
        pageSize: 100,
      }),
      secretFields: connector.secrets,
      mappings: [...connector.defaultMappings],
      dataModel: connector.dataModel,
    });
  });
  afterAll(async () => {
    await store?.close();
    await sandbox?.close();
  });

  const inBackfill = () => sandbox.responses().filter((r) => Date.parse(`${r.created_at}Z`) >= NOW.getTime() - 90 * DAY);
  const storedIds = async () =>
    (
      await store.query<{ id: string | number }>(
        `SELECT response_id AS id FROM ${store.appTable('closealert', 'form_responses')} WHERE installation_id = ${param(1)} ORDER BY response_id`,
        [installation.id],
      )
    ).map((r) => Number(r.id));

  it('backfills the configured days, flagged as backfill, and logs the customers', async () => {
    const result = await runSync({ store, connector, installation, now });
    expect(result.status, result.error).toBe('succeeded');
    const expected = inBackfill();
    expect(result.inserted).toBe(expected.length);
    expect(await storedIds()).toEqual(expected.map((r) => r.id).sort((a, b) => a - b));
    const flags = await store.query<{ n: string | number }>(
      `SELECT COUNT(*) AS n FROM ${store.appTable('closealert', 'form_responses')} WHERE installation_id = ${param(1)} AND backfilled = ${param(2)}`,
      [installation.id, db.dialect === 'sqlite' ? 1 : true],
    );
    expect(Number(flags[0]?.n)).toBe(expected.length);
    const [run] = await store.listRuns({ workspace: 'acme', limit: 1 });
    expect(run?.status).toBe('succeeded');
    expect(run?.saved.length).toBeGreaterThan(0);
    expect(run?.saved.every((s) => /^\d+$/.test(s.key ?? ''))).toBe(true);
    expect(run?.saved.some((s) => s.contact?.includes('@'))).toBe(true);
  });

  it('writes nothing on a re-run and picks up only what is new', async () => {
    clock = new Date(NOW.getTime() + 3_600_000);
    const again = await runSync({ store, connector, installation, now });
    expect(again.status).toBe('succeeded');
    expect(again.inserted).toBe(0);

    clock = new Date(NOW.getTime() + 2 * 3_600_000);
    const added = sandbox.addResponses({ count: 7, createdAt: (i) => new Date(clock.getTime() - 60_000 + i * 1000) });
    const incremental = await runSync({ store, connector, installation, now });
    expect(incremental.inserted).toBe(7);
    expect(incremental.saved).toHaveLength(7);
    const fresh = await store.query<{ n: string | number }>(
      `SELECT COUNT(*) AS n FROM ${store.appTable('closealert', 'form_responses')} WHERE installation_id = ${param(1)} AND backfilled = ${param(2)}`,
      [installation.id, db.dialect === 'sqlite' ? 0 : false],
    );
    expect(Number(fresh[0]?.n)).toBe(added.length);
  });

  it('ends a run cleanly when faults outlast the retries, and the next run completes', async () => {
    clock = new Date(NOW.getTime() + 3 * 3_600_000);
    sandbox.addResponses({ count: 5, createdAt: (i) => new Date(clock.getTime() - 120_000 + i * 1000) });
    sandbox.injectFault({ kind: 'status', status: 504 }, { times: 3 });
    const failed = await runSync({ store, connector, installation, now });
    expect(failed.status).toBe('failed');
    expect(failed.errorCode).toBe('SOURCE_TIMEOUT');
    expect(failed.failure?.actor).toBe('source');
    const [failedRun] = await store.listRuns({ workspace: 'acme', limit: 1 });
    expect(failedRun).toMatchObject({ status: 'failed', errorCode: 'SOURCE_TIMEOUT' });
    expect(failedRun?.finishedAt).toBeInstanceOf(Date);

    sandbox.injectFault({ kind: 'reset' });
    sandbox.injectFault({ kind: 'truncated-json' });
    const recovered = await runSync({ store, connector, installation, now });
    expect(recovered.status, recovered.error).toBe('succeeded');
    expect(recovered.inserted).toBe(5);
    const all = sandbox.responses().filter((r) => Date.parse(`${r.created_at}Z`) >= NOW.getTime() - 90 * DAY);
    expect(await storedIds()).toEqual(all.map((r) => r.id).sort((a, b) => a - b));
  });

  it('sets a malformed record aside with its reason and saves the rest', async () => {
    clock = new Date(NOW.getTime() + 4 * 3_600_000);
    sandbox.addResponses({ count: 4, createdAt: (i) => new Date(clock.getTime() - 60_000 + i * 1000) });
    sandbox.injectFault({ kind: 'bad-record', index: 0 });
    const result = await runSync({ store, connector, installation, now });
    expect(result.status).toBe('succeeded');
    expect(result.rejected).toBe(1);
    const [run] = await store.listRuns({ workspace: 'acme', limit: 1 });
    expect(run?.rejected).toBe(1);
    expect(run?.rejectedRecords[0]?.reason).toMatch(/id: must be a number/);
  });

  it('stops between pages on shutdown, keeps what it committed, and logs no failure', async () => {
    clock = new Date(NOW.getTime() + 5 * 3_600_000);
    sandbox.addResponses({ count: 3, createdAt: (i) => new Date(clock.getTime() - 60_000 + i * 1000) });
    sandbox.injectFault({ kind: 'slow', delayMs: 1_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const stopped = await runSync({ store, connector, installation, now, signal: controller.signal });
    expect(stopped).toMatchObject({ status: 'stopped', interrupted: true });
    expect(stopped.failure).toBeUndefined();
    expect(stopped.warnings).toContainEqual(expect.stringMatching(/Stopped early by a shutdown/));
    const [run] = await store.listRuns({ workspace: 'acme', limit: 1 });
    expect(run).toMatchObject({ status: 'stopped' });

    const resumed = await runSync({ store, connector, installation, now });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.inserted).toBe(3);
  });

  it('fails a run with an expired token and says how to replace it', async () => {
    const expired = sandbox.issueToken({ expiresAt: new Date(clock.getTime() - DAY) });
    const stale = { ...installation, config: { ...installation.config, apiToken: expired } };
    const result = await runSync({ store, connector, installation: stale, now });
    expect(result.status).toBe('failed');
    expect(result.errorCode).toBe('TOKEN_EXPIRED');
    expect(result.error).toMatch(/tributary app token --workspace/);
    expect(result.error).not.toContain(expired);
  });
});
