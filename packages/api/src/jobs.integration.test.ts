import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthService } from '@tributary/auth';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import type { Installation } from '@tributary/core';
import { installConnector } from '@tributary/runner';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { createApiServer, type ApiServer } from './server.js';
import { connector, sandboxConfig } from './test-support/harness.js';

// Jobs queued over HTTP live in the store, on both databases: a job queued on a server that stops
// before running it runs on the next server started on the database; any server answers for any
// job; and a job left running by a process that died reads as interrupted, saying so.

const databases = await testDatabases('api-jobs');

describe.each(databases)('jobs queued over HTTP on $dialect', (db) => {
  const cipherKey = randomBytes(32);
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  let installation: Installation;
  let key: string;
  const servers = new Set<ApiServer>();
  const stores = new Set<TypeOrmStore>();

  /** A separate store and server on the same database, as another process would have. */
  async function startServer(
    jobs: { progressEveryMs?: number } = {},
  ): Promise<{ url: string; close(): Promise<void> }> {
    const own = await createStore({
      url: db.url,
      cipher: createSecretCipher({ keys: { k1: cipherKey }, currentKeyId: 'k1' }),
    });
    const server = await createApiServer({
      store: own,
      connectors: [connector],
      auth: createAuthService({ store: own }),
      processMetrics: false,
      jobs: { pollMs: 50, ...jobs },
    });
    servers.add(server);
    stores.add(own);
    const url = await server.listen();
    return {
      url,
      async close() {
        servers.delete(server);
        await server.close();
        await own.close();
        stores.delete(own);
      },
    };
  }

  async function call(url: string, method: string, path: string, as = key) {
    const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${as}` } });
    return { status: response.status, json: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  const jobOn = async (url: string, id: string) =>
    (await call(url, 'GET', `/workspaces/acme/jobs/${id}`)).json;

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 120, spanDays: 30, seed: 11 });
    store = await createStore({
      url: db.url,
      cipher: createSecretCipher({ keys: { k1: cipherKey }, currentKeyId: 'k1' }),
    });
    await store.migrate();
    ({ installation } = await installConnector({
      store,
      connector,
      workspace: 'acme',
      config: sandboxConfig(sandbox),
      billing: { plan: 'monthly' },
    }));
    key = (
      await createAuthService({ store }).createApiKey({
        workspace: 'acme',
        role: 'admin',
        name: 'jobs',
        actor: 'test',
      })
    ).secret;
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    for (const own of stores) await own.close();
    await store?.close();
    await sandbox?.close();
  });

  it('runs a job that a server queued and stopped before running on the next server started on the database', async () => {
    const first = await startServer();
    let id = '';
    // While the test holds the installation's run lock, the job can only wait.
    const held = await store.withRunLock(installation.id, async () => {
      const queued = await call(first.url, 'POST', '/workspaces/acme/apps/closealert/sync');
      expect(queued.status).toBe(202);
      expect(queued.json.status).toBe('queued');
      id = queued.json.id as string;
      await expect
        .poll(async () => (await jobOn(first.url, id)).note, { timeout: 20_000, interval: 50 })
        .toMatch(/^Waiting: another sync/);
      await first.close();
      return (await store.getJob(id))!.status;
    });
    expect(held).toEqual({ acquired: true, value: 'queued' });

    const second = await startServer();
    await expect
      .poll(async () => (await jobOn(second.url, id)).status, { timeout: 30_000, interval: 100 })
      .toBe('succeeded');
    const job = await jobOn(second.url, id);
    const run = await store.getRun(job.runId as string);
    expect(run?.status).toBe('succeeded');
    expect(job.result).toMatchObject({ runId: run!.id, status: 'succeeded', inserted: run!.inserted });
    expect(job.progress.done).toBe(run!.fetched);
    await second.close();
  });

  it('answers for a job on every server of the database', async () => {
    const a = await startServer();
    const b = await startServer();
    const queued = await call(a.url, 'POST', '/workspaces/acme/apps/closealert/remap');
    expect(queued.status).toBe(202);
    const id = queued.json.id as string;
    const seen = await call(b.url, 'GET', `/workspaces/acme/jobs/${id}`);
    expect(seen.status).toBe(200);
    expect(seen.json).toMatchObject({ id, kind: 'remap', workspace: 'acme', app: 'closealert' });
    await expect
      .poll(async () => (await jobOn(b.url, id)).status, { timeout: 30_000, interval: 100 })
      .toBe('succeeded');
    const done = await jobOn(a.url, id);
    expect(done).toEqual(await jobOn(b.url, id));
    expect(done.progress.done).toBeGreaterThan(0);
    expect(done.progress.done).toBe(done.progress.total);
    // Another workspace's caller learns nothing of it.
    expect((await call(b.url, 'GET', `/workspaces/other/jobs/${id}`)).status).toBe(404);
    await a.close();
    await b.close();
  });

  it('marks a job left running by a process that died as interrupted, naming the process', async () => {
    const job = await store.createJob({
      kind: 'sync',
      installationId: installation.id,
      workspace: 'acme',
      app: 'closealert',
      createdAt: new Date(),
    });
    // Claimed by a process that is gone: no lock is held for it any more.
    expect((await store.claimJob(job.id, { at: new Date(), owner: 'gone-host:424242' }))?.status).toBe(
      'running',
    );
    const server = await startServer();
    await expect
      .poll(async () => (await jobOn(server.url, job.id)).status, { timeout: 20_000, interval: 50 })
      .toBe('interrupted');
    const interrupted = await jobOn(server.url, job.id);
    expect(interrupted.note).toMatch(/process 424242 on gone-host stopped while this job ran/);
    expect(interrupted.finishedAt).toBeNull();
    await server.close();
  });

  it('puts a job its server stopped mid-sync back in the queue, and the next server finishes it', async () => {
    const slow = await startSandbox({ responses: 200, spanDays: 30, seed: 12 });
    try {
      const { installation: beta } = await installConnector({
        store,
        connector,
        workspace: 'beta',
        config: { ...sandboxConfig(slow), pageSize: 10 },
        billing: { plan: 'monthly' },
      });
      const betaKey = (
        await createAuthService({ store }).createApiKey({
          workspace: 'beta',
          role: 'admin',
          name: 'jobs',
          actor: 'test',
        })
      ).secret;
      const jobOfBeta = async (url: string, id: string) =>
        (await call(url, 'GET', `/workspaces/beta/jobs/${id}`, betaKey)).json;
      // Every page answers late, so that the server stops while the sync is under way.
      slow.injectFault({ kind: 'slow', delayMs: 200 }, { times: 1000 });
      const first = await startServer({ progressEveryMs: 0 });
      const before = slow.stats().requests;
      const queued = await call(first.url, 'POST', '/workspaces/beta/apps/closealert/sync', betaKey);
      const id = queued.json.id as string;
      // Running, and a few pages into it.
      await expect
        .poll(async () => (await jobOfBeta(first.url, id)).status, { timeout: 30_000, interval: 50 })
        .toBe('running');
      await expect
        .poll(() => slow.stats().requests - before, { timeout: 30_000, interval: 50 })
        .toBeGreaterThan(2);
      await first.close();
      const stopped = await store.getJob(id);
      expect(stopped).toMatchObject({
        status: 'queued',
        note: expect.stringMatching(
          /^The server stopped while this job ran; it stopped between pages and went back to the queue/,
        ),
      });
      expect(stopped?.startedAt).toBeUndefined();
      const [cut] = await store.listRuns({ workspace: 'beta', limit: 10 });
      expect(cut?.status).toBe('stopped');

      slow.clearFaults();
      const second = await startServer();
      await expect
        .poll(async () => (await jobOfBeta(second.url, id)).status, { timeout: 30_000, interval: 100 })
        .toBe('succeeded');
      const done = await jobOfBeta(second.url, id);
      expect(done.runId).not.toBe(cut!.id);
      expect(done.note).toBeNull();
      const runs = await store.listRuns({ workspace: 'beta', limit: 10 });
      expect(runs.map((r) => r.status).sort()).toEqual(['stopped', 'succeeded']);
      // Together the two runs stored every response exactly once.
      expect(runs.reduce((n, r) => n + r.inserted, 0)).toBe(200);
      expect(Object.values(await store.countRows(beta.id)).some((n) => n === 200)).toBe(true);
      await second.close();
    } finally {
      await slow.close();
    }
  }, 90_000);
});
