import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataModelSchema, validateMappings, type Installation, type RunRecord } from '@tributary/core';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';

// The API's lists read summaries: runs without their customers and rejected records, and
// installations without secrets, mappings or data model. They must show what the full reads show.

const databases = await testDatabases('list-summaries');

const model = dataModelSchema.parse({
  primaryTable: 'responses',
  customerEmailColumn: 'email',
  tables: [
    {
      name: 'responses',
      rowsFrom: { kind: 'record' },
      key: ['id'],
      onConflict: 'ignore',
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'email', type: 'text' },
      ],
    },
  ],
});
const mappings = validateMappings(
  [
    { source: 'id', target: { table: 'responses', column: 'id' } },
    { source: 'email', target: { table: 'responses', column: 'email' }, transform: 'email' },
  ],
  model,
);

/** A full run as the summary shows it: the same, with no customers and no rejected records. */
const summarised = (run: RunRecord): RunRecord => ({ ...run, saved: [], rejectedRecords: [] });

describe.each(databases)('list summaries on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  const workspace = `summaries ${randomBytes(3).toString('hex')}`;
  let installation: Installation;
  let other: Installation;
  const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute));

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }) });
    await store.migrate();
    const install = (app: string, billing?: Installation['billing']) =>
      store.install({
        workspace,
        app,
        config: { projectKey: 'company.com', apiToken: 'a secret token', timeZone: 'UTC' },
        secretFields: ['apiToken'],
        mappings,
        dataModel: model,
        ...(billing ? { billing } : {}),
      });
    installation = await install('summaryapp', { plan: 'yearly', poNumber: 'PO-7' });
    other = await install('otherapp');
  });
  afterAll(async () => {
    await store?.close();
  });

  it('lists runs with the counts, tallies and filters of the full list, in one statement', async () => {
    const running = await store.startRun(installation.id, at(30));
    const failed = await store.startRun(installation.id, at(10));
    const withSaved = await store.startRun(installation.id, at(20));
    const legacy = await store.startRun(other.id, at(5));
    await store.writePage({
      installationId: installation.id,
      runId: failed,
      stream: 'form_responses',
      rows: { responses: [{ id: 1, email: 'kim@example.com' }] },
      rejected: [{ sourceId: '2', reason: 'no e-mail', raw: { id: 2 } }],
      checkpoint: { n: 1 },
    });
    await store.finishRun(
      failed,
      { status: 'failed', fetched: 2, inserted: 1, unchanged: 0, rejected: 1, saved: [], error: 'CloseAlert answered 429', errorCode: 'SOURCE_RATE_LIMITED', warnings: ['The token expires in 6 days'], duplicates: 1, late: 2 },
      at(11),
    );
    // Customers saved through run_saved, counted there.
    await store.writePage({
      installationId: installation.id,
      runId: withSaved,
      stream: 'form_responses',
      rows: { responses: [{ id: 3, email: 'ann@example.com' }, { id: 4, email: 'bo@example.com' }] },
      rejected: [],
      checkpoint: { n: 2 },
      saved: [
        { key: '3', contact: 'ann@example.com', label: 'NPS', fields: { score: 9 } },
        { key: '4', contact: 'bo@example.com', label: 'NPS', fields: { score: 2 } },
      ],
    });
    await store.finishRun(withSaved, { status: 'succeeded', fetched: 2, inserted: 2, unchanged: 0, rejected: 0, saved: [], warnings: [] }, at(21));
    // A run from before run_saved keeps its customers in the run row only.
    await store.finishRun(
      legacy,
      { status: 'succeeded', fetched: 1, inserted: 0, unchanged: 1, rejected: 0, saved: [{ key: '9', contact: 'old@example.com', label: 'NPS', fields: { score: 7 } }], warnings: [] },
      at(6),
    );

    const filters = [
      { workspace, limit: 10 },
      { workspace, limit: 2 },
      { workspace, app: 'otherapp', limit: 10 },
      { workspace, status: 'failed' as const, limit: 10 },
      { workspace, startedFrom: at(5), startedBefore: at(20), limit: 10 },
      { workspace: 'no such workspace', limit: 10 },
      { limit: 1000 },
    ];
    for (const filter of filters) {
      const full = await store.listRuns(filter);
      expect(await store.listRuns({ ...filter, details: false })).toEqual(full.map(summarised));
    }
    const summaries = await store.listRuns({ workspace, limit: 10, details: false });
    expect(summaries.map((r) => r.id)).toEqual([running, withSaved, failed, legacy]);
    expect(summaries.map((r) => r.savedTotal)).toEqual([0, 2, 0, 1]);
    expect(summaries[2]).toMatchObject({ rejected: 1, duplicates: 1, late: 2, errorCode: 'SOURCE_RATE_LIMITED', warnings: ['The token expires in 6 days'], finishedAt: at(11) });
  });

  it('lists installations with their plain settings and never a secret', async () => {
    await store.uninstall(other.id, { purge: false, at: at(40) });
    const full = await store.listInstallations(workspace);
    const summaries = await store.listInstallationSummaries(workspace);
    expect(summaries).toEqual(
      full.map(({ config, mappings: _m, dataModel: _d, customerTable: _c, secretError: _s, ...rest }) => ({
        ...rest,
        settings: Object.fromEntries(Object.entries(config).filter(([key]) => key !== 'apiToken')),
      })),
    );
    expect(summaries.map((i) => [i.app, i.status])).toEqual([
      ['summaryapp', 'active'],
      ['otherapp', 'uninstalled'],
    ]);
    expect(summaries[0]).toMatchObject({ billing: { plan: 'yearly', poNumber: 'PO-7' }, settings: { projectKey: 'company.com', timeZone: 'UTC' } });
    expect(JSON.stringify(summaries)).not.toContain('a secret token');
    expect(await store.listInstallationSummaries('no such workspace')).toEqual([]);
  });
});
