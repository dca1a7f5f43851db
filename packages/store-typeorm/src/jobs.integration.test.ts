import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataModelSchema, validateMappings, type DataModel, type Installation } from '@tributary/core';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';

// The jobs table on both databases, as two server processes see it (two stores): one claim wins,
// a job goes back to the queue or ends only from `running`, and a running job counts as
// interrupted only once its installation's run lock is free.

const databases = await testDatabases('store-jobs');

const model: DataModel = dataModelSchema.parse({
  primaryTable: 'items',
  tables: [{ name: 'items', rowsFrom: { kind: 'record' }, key: ['id'], onConflict: 'ignore', columns: [{ name: 'id', type: 'bigint', nullable: false }] }],
});
const mappings = validateMappings([{ source: 'id', target: { table: 'items', column: 'id' } }], model);
const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
const T0 = new Date('2026-03-02T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe.each(databases)('jobs in the store on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let other: TypeOrmStore;
  let installation: Installation;
  const queue = (kind: 'sync' | 'remap', seconds: number) =>
    store.createJob({ kind, installationId: installation.id, workspace: 'alpha', app: 'jobapp', createdAt: at(seconds) });

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher });
    other = await createStore({ url: database.url, cipher });
    await store.migrate();
    installation = await store.install({ workspace: 'alpha', app: 'jobapp', config: {}, secretFields: [], mappings, dataModel: model });
  });
  afterAll(async () => {
    await other?.close();
    await store?.close();
  });

  it('queues jobs oldest first and counts them', async () => {
    const sync = await queue('sync', 0);
    const remap = await queue('remap', 1);
    expect(sync).toMatchObject({ kind: 'sync', status: 'queued', workspace: 'alpha', app: 'jobapp', createdAt: at(0), progress: { done: 0 } });
    expect((await other.listQueuedJobs({ limit: 10 })).map((j) => j.id)).toEqual([sync.id, remap.id]);
    expect(await other.jobQueueDepth()).toEqual({ queued: 2, oldest: at(0) });
    expect(await other.getJob(remap.id)).toEqual(remap);
    expect(await other.getJob('not-an-id')).toBeUndefined();
  });

  it('lets one of two servers claim a job; progress, requeue and the end apply to a running job only', async () => {
    const [job] = await store.listQueuedJobs({ limit: 1 });
    await store.noteQueuedJob(job!.id, 'Waiting for the lock.');
    const claims = await Promise.all([store.claimJob(job!.id, { at: at(5), owner: 'a:1' }), other.claimJob(job!.id, { at: at(5), owner: 'b:2' })]);
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
    const claimed = claims.find((c) => c !== undefined)!;
    expect(claimed).toMatchObject({ status: 'running', startedAt: at(5) });
    expect(claimed.note).toBeUndefined();

    await other.updateJobProgress(job!.id, { done: 40, total: 100 });
    expect((await store.getJob(job!.id))?.progress).toEqual({ done: 40, total: 100 });
    await store.finishJob(job!.id, { status: 'queued', at: at(6), progress: { done: 40, total: 100 }, note: 'Back in the queue.' });
    expect(await store.getJob(job!.id)).toMatchObject({ status: 'queued', note: 'Back in the queue.' });
    expect((await store.getJob(job!.id))?.startedAt).toBeUndefined();

    const again = await store.claimJob(job!.id, { at: at(7), owner: 'a:1' });
    const runId = '00000000-0000-4000-8000-000000000001';
    await store.finishJob(job!.id, { status: 'succeeded', at: at(9), progress: { done: 100, total: 100 }, runId, result: { fetched: 100 } });
    expect(await other.getJob(job!.id)).toEqual({
      ...again,
      status: 'succeeded',
      finishedAt: at(9),
      progress: { done: 100, total: 100 },
      runId,
      result: { fetched: 100 },
    });
    // A finished job stays finished.
    await store.finishJob(job!.id, { status: 'failed', at: at(10), progress: { done: 0 }, error: { code: 'INTERNAL', message: 'late' } });
    await store.updateJobProgress(job!.id, { done: 1 });
    expect((await store.getJob(job!.id))?.status).toBe('succeeded');
    expect(await store.claimJob(job!.id, { at: at(11), owner: 'b:2' })).toBeUndefined();
  });

  it('marks a running job interrupted only once its installation’s run lock is free', async () => {
    const [job] = await store.listQueuedJobs({ limit: 1 });
    const held = await store.withRunLock(installation.id, async () => {
      await store.claimJob(job!.id, { at: at(20), owner: 'host-a:4242' });
      // The holder is alive: another server finds nothing to mark.
      return other.markInterruptedJobs(at(21));
    });
    expect(held).toEqual({ acquired: true, value: [] });
    expect((await store.getJob(job!.id))?.status).toBe('running');
    const marked = await other.markInterruptedJobs(at(22));
    expect(marked.map((j) => [j.id, j.status])).toEqual([[job!.id, 'interrupted']]);
    expect(marked[0]!.note).toMatch(/^The server process 4242 on host-a stopped while this job ran/);
    expect(await other.markInterruptedJobs(at(23))).toEqual([]);
    expect(await store.jobQueueDepth()).toEqual({ queued: 0 });
  });
});
