import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { closeAlertConnector } from '@tributary/connector-closealert';
import type { Installation } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { createPostgresTestDatabase } from '@tributary/testing';
import { readQueueStatus } from './queue-status.js';
import { spawnRunnerProcess, type RunnerProcess } from './test-support/spawn-runner.js';

// Distributed runners keep a job's lease alive while its sync runs, so a sync longer than the lease
// is never taken for dead; a runner stopped by SIGTERM mid-sync hands its installation to another
// runner at once, rather than at that runner's next tick; and `runner status` shows a job whose
// runner died as interrupted, with the time it resumes by.

const postgres = await createPostgresTestDatabase('runner-resume');
afterAll(async () => postgres?.drop());
const secretKey = randomBytes(32).toString('base64');

describe.runIf(postgres)('resuming syncs across distributed runners', () => {
  const url = postgres?.url ?? '';
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  let db: pg.Client;
  const live = new Set<RunnerProcess>();

  const settings = {
    url,
    secretKey,
    concurrency: 2,
    pollIntervalMs: 100,
    // A lease far shorter than a sync, renewed every half second.
    expireInSeconds: 2,
    heartbeatSeconds: 0.5,
    maintenanceIntervalSeconds: 1,
    retryDelaySeconds: 0,
    dedupeWindowSeconds: 600,
  };

  async function startRunner(tickMs: number): Promise<RunnerProcess> {
    const runner = await spawnRunnerProcess({ ...settings, tickMs });
    live.add(runner);
    void runner.exited.then(() => live.delete(runner));
    return runner;
  }

  async function install(workspace: string): Promise<Installation> {
    const config = closeAlertConnector.configSchema.parse({
      projectKey: sandbox.projectKey,
      apiToken: sandbox.token,
      baseUrl: sandbox.url,
      backfillDays: 2,
      pageSize: 2,
    }) as Record<string, unknown>;
    return store.install({
      workspace,
      app: 'closealert',
      config,
      secretFields: closeAlertConnector.secrets,
      mappings: [...closeAlertConnector.defaultMappings],
      dataModel: closeAlertConnector.dataModel,
    });
  }

  const started = (runner: RunnerProcess, id: string) => runner.events.some((e) => e.type === 'sync-started' && e.installationId === id);

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 40, spanDays: 1, seed: 23, rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 } });
    store = await createStore({ url, cipher: createSecretCipher({ keys: { k1: Buffer.from(secretKey, 'base64') }, currentKeyId: 'k1' }) });
    await store.migrate();
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });

  afterAll(async () => {
    for (const runner of live) runner.child.kill('SIGKILL');
    await db?.end();
    await store?.close();
    await sandbox?.close();
  });

  it('renews the lease of a sync that outlasts it: the job is never retried and nobody finds it busy', async () => {
    // 20 pages of 300 ms: a sync of about 6 s, three leases long.
    sandbox.injectFault({ kind: 'slow', delayMs: 300 }, { times: 1_000 });
    const first = await install('long-sync');
    const a = await startRunner(200);
    await expect
      .poll(() => a.events.some((e) => e.type === 'job-done' && e.installationId === first.id && e.outcome === 'ran'), { timeout: 60_000, interval: 100 })
      .toBe(true);
    expect(a.events.filter((e) => e.type === 'job-done' && e.outcome === 'busy')).toEqual([]);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT retry_count FROM tributary_boss.job UNION ALL SELECT retry_count FROM tributary_boss.archive) j WHERE retry_count > 0`,
    );
    expect(rows[0]!.n).toBe(0);
    a.child.kill('SIGTERM');
    await a.exited;
  });

  it('hands a sync stopped by SIGTERM to another runner at once, long before its next tick', async () => {
    // Slow answers again (the first test used some): the sync is still running when A gets SIGTERM.
    sandbox.clearFaults();
    sandbox.injectFault({ kind: 'slow', delayMs: 300 }, { times: 1_000 });
    const second = await install('handed-over');
    const a = await startRunner(200);
    await expect.poll(() => started(a, second.id), { timeout: 30_000, interval: 50 }).toBe(true);
    // B ticks once at start (the job is A's then) and not again within this test.
    const b = await startRunner(600_000);
    const from = b.events.length;
    a.child.kill('SIGTERM');
    const stoppedAt = Date.now();
    expect(await a.exited).toMatchObject({ code: 0, stopped: true });
    await expect
      .poll(() => b.events.slice(from).some((e) => e.type === 'sync-started' && e.installationId === second.id), { timeout: 20_000, interval: 50 })
      .toBe(true);
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    b.child.kill('SIGTERM');
    await b.exited;
  });

  it('shows the job of a killed runner as interrupted, with when it resumes', async () => {
    const third = await install('killed');
    const a = await startRunner(600_000);
    await expect.poll(() => started(a, third.id), { timeout: 30_000, interval: 50 }).toBe(true);
    a.child.kill('SIGKILL');
    await a.exited;
    // The lease (2 s) lapses with nobody to renew it; no other runner runs maintenance yet.
    await expect
      .poll(async () => (await readQueueStatus({ connectionString: url }))?.jobs.find((j) => j.installationId === third.id)?.interrupted?.reason, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe('worker-gone');
    const status = await readQueueStatus({ connectionString: url });
    const job = status!.jobs.find((j) => j.installationId === third.id)!;
    expect(job.state).toBe('active');
    expect(job.interrupted!.resumesBy.getTime()).toBeGreaterThan(Date.now());
    // Another runner's maintenance expires the lease and resumes the sync.
    const b = await startRunner(600_000);
    await expect.poll(() => started(b, third.id), { timeout: 30_000, interval: 100 }).toBe(true);
    b.child.kill('SIGTERM');
    await b.exited;
  });
});
