import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataModelSchema, validateMappings, type DataModel, type Row } from '@tributary/core';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';
import { openRawDatabase, type RawDatabase } from './test-support/raw-database.js';

// The write path builds PostgreSQL array literals itself, sends large inserts through COPY into a
// staging table on PostgreSQL, and splits SQLite inserts and look-ups into a few fixed statement
// sizes: values that need escaping and pages of awkward sizes must come back exactly as written,
// with exact counts, on both databases.

const databases = await testDatabases('page-writer');
const APP = 'pwapp';

const model: DataModel = dataModelSchema.parse({
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
        { name: 'comment', type: 'text' },
        { name: 'tags', type: 'json' },
        { name: 'score', type: 'numeric' },
        { name: 'happy', type: 'boolean' },
      ],
    },
    {
      name: 'forms',
      rowsFrom: { kind: 'record' },
      key: ['id'],
      onConflict: 'update',
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'name', type: 'text' },
      ],
    },
  ],
});

const mappings = validateMappings(
  [
    { source: 'id', target: { table: 'responses', column: 'id' } },
    { source: 'email', target: { table: 'responses', column: 'email' }, transform: 'email' },
    { source: 'comment', target: { table: 'responses', column: 'comment' } },
    { source: 'tags', target: { table: 'responses', column: 'tags' }, transform: 'json' },
    { source: 'score', target: { table: 'responses', column: 'score' } },
    { source: 'happy', target: { table: 'responses', column: 'happy' } },
    { source: 'form.id', target: { table: 'forms', column: 'id' } },
    { source: 'form.name', target: { table: 'forms', column: 'name' } },
  ],
  model,
);

/** Texts an array literal must quote or escape: quotes, backslashes, braces, commas, the word NULL, NUL. */
const AWKWARD = ['say "hi"', 'C:\\path\\', '{a,b}', 'NULL', '', ' padded ', 'line\nbreak', 'ünï©ødé ✓', 'a\u0000b', '\\"{}'];
/** Texts COPY's text format must escape, besides: tabs, carriage returns, a lone backslash-N. */
const COPY_AWKWARD = [...AWKWARD, 'tab\there', 'cr\r\nlf', '\\N', '\\.', '\t'];

describe.each(databases)('page writes on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let raw: RawDatabase;
  const pg = database.dialect === 'postgres';
  const own = (bare: string) => (pg ? `"tributary"."${bare}"` : `"tributary_${bare}"`);

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    await store.migrate();
    raw = await openRawDatabase(database);
  });
  afterAll(async () => {
    await raw?.close();
    await store?.close();
  });

  const install = () =>
    store.install({
      workspace: `ws ${randomBytes(3).toString('hex')}`,
      app: APP,
      config: { projectKey: 'company.com', timeZone: 'UTC' },
      secretFields: [],
      mappings,
      dataModel: model,
    });

  it('stores text and JSON that need escaping exactly as given (NUL characters aside on PostgreSQL)', async () => {
    const installation = await install();
    const runId = await store.startRun(installation.id, new Date());
    const responses: Row[] = AWKWARD.map((comment, i) => ({
      id: i + 1,
      email: `person${i}@example.com`,
      comment,
      tags: JSON.stringify({ note: comment, list: [comment, null] }),
      score: i % 2 === 0 ? 1.5 : null,
      happy: i % 3 === 0 ? null : i % 3 === 1,
    }));
    const forms: Row[] = [{ id: 1, name: AWKWARD[0]! }];
    const written = await store.writePage({ installationId: installation.id, runId, stream: 's', rows: { responses, forms }, rejected: [], checkpoint: { n: 1 } });
    expect(written.inserted).toBe(AWKWARD.length);

    const stored = await raw.query<{ id: number | string; comment: string | null; tags: unknown; score: unknown; happy: unknown }>(
      `SELECT id, comment, tags, score, happy FROM ${own(`${APP}_responses`)} WHERE installation_id = ? ORDER BY id`,
      [installation.id],
    );
    const expected = (text: string) => (pg ? text.replaceAll('\u0000', '') : text);
    expect(stored.map((r) => r.comment)).toEqual(AWKWARD.map(expected));
    expect(stored.map((r) => (typeof r.tags === 'string' ? JSON.parse(r.tags) : r.tags))).toEqual(
      AWKWARD.map((c) => ({ note: expected(c), list: [expected(c), null] })),
    );
    expect(stored.map((r) => (r.score === null ? null : Number(r.score)))).toEqual(AWKWARD.map((_, i) => (i % 2 === 0 ? 1.5 : null)));
    expect(stored.map((r) => (r.happy === null ? null : Boolean(r.happy)))).toEqual(AWKWARD.map((_, i) => (i % 3 === 0 ? null : i % 3 === 1)));
    const [form] = await raw.query<{ name: string }>(`SELECT name FROM ${own(`${APP}_forms`)} WHERE installation_id = ?`, [installation.id]);
    expect(form!.name).toBe(AWKWARD[0]);
  });

  it('stores every row and contact of pages whose sizes are not one statement size, and finds them again', async () => {
    const installation = await install();
    const runId = await store.startRun(installation.id, new Date());
    // 1,000 and 613 rows span every statement size; 700 addresses exceed one look-up IN list.
    const page = (from: number, count: number) =>
      Array.from({ length: count }, (_, i): Row => ({ id: from + i, email: `c${(from + i) % 700}@example.com`, comment: `r${from + i}` }));
    const first = await store.writePage({ installationId: installation.id, runId, stream: 's', rows: { responses: page(1, 1_000) }, rejected: [], checkpoint: { n: 1 } });
    expect(first).toMatchObject({ inserted: 1_000, newContacts: 700 });
    expect(new Set(first.insertedKeys).size).toBe(1_000);

    // A second store has no cached contact ids: it must look all 700 up, in more than one IN list.
    const other = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    try {
      const second = await other.writePage({ installationId: installation.id, runId, stream: 's', rows: { responses: page(1_001, 613) }, rejected: [], checkpoint: { n: 2 } });
      expect(second).toMatchObject({ inserted: 613, newContacts: 0 });
    } finally {
      await other.close();
    }
    const [count] = await raw.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${own(`${APP}_responses`)} WHERE installation_id = ?`, [installation.id]);
    expect(Number(count!.n)).toBe(1_613);
    const byEmail = await raw.query<{ email: string; ids: number | string }>(
      `SELECT r.email, COUNT(DISTINCT r.contact_id) AS ids FROM ${own(`${APP}_responses`)} r
        JOIN ${own(`${APP}_contacts`)} c ON c.installation_id = r.installation_id AND c.contact_id = r.contact_id AND c.email_normalized = r.email
        WHERE r.installation_id = ? GROUP BY r.email`,
      [installation.id],
    );
    // Every row links to the one contact of its address, the first page's as the second's.
    expect(byEmail).toHaveLength(700);
    expect(byEmail.every((r) => Number(r.ids) === 1)).toBe(true);
  });

  it('stores large pages exactly, counts updates exactly, and a rolled-back page leaves nothing behind', async () => {
    const installation = await install();
    const runId = await store.startRun(installation.id, new Date());
    // 300 rows and 250 forms: enough for the staged path (COPY and one merge) on PostgreSQL.
    const responses = (from: number): Row[] =>
      Array.from({ length: 300 }, (_, i): Row => {
        const comment = COPY_AWKWARD[i % COPY_AWKWARD.length]!;
        return { id: from + i, email: `big${from + i}@example.com`, comment, tags: JSON.stringify({ note: comment }), score: i % 2 ? 2.25 : null, happy: i % 3 ? i % 3 === 1 : null };
      });
    const forms = (renamed: number): Row[] => Array.from({ length: 250 }, (_, i): Row => ({ id: i + 1, name: i < renamed ? `renamed ${i}` : `form\t${i}` }));
    const write = (target: TypeOrmStore, rows: Record<string, Row[]>, n: number) =>
      target.writePage({ installationId: installation.id, runId, stream: 's', rows, rejected: [], checkpoint: { n } });

    // A fresh store whose first staged write rolls back (the forms are written after the responses,
    // and one of them cannot be stored): its connection's staging table goes with the rollback.
    const other = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    try {
      await expect(write(other, { responses: responses(1), forms: [...forms(0), { id: 'not a number', name: 'x' }] }, 1)).rejects.toThrow(/forms\.id/);
      const first = await write(other, { responses: responses(1), forms: forms(0) }, 1);
      expect(first).toMatchObject({ inserted: 300, newContacts: 300 });
      expect(first.tables.forms).toEqual({ inserted: 250, updated: 0, unchanged: 0 });
    } finally {
      await other.close();
    }
    const again = await write(store, { responses: responses(1), forms: forms(100) }, 2);
    expect(again).toMatchObject({ inserted: 0, unchanged: 300, insertedKeys: [], newContacts: 0 });
    expect(again.tables.forms).toEqual({ inserted: 0, updated: 100, unchanged: 150 });
    const next = await write(store, { responses: responses(301), forms: forms(100) }, 3);
    expect(next).toMatchObject({ inserted: 300, newContacts: 300 });
    expect(next.tables.forms).toEqual({ inserted: 0, updated: 0, unchanged: 250 });

    const stored = await raw.query<{ id: number | string; comment: string | null; tags: unknown }>(
      `SELECT id, comment, tags FROM ${own(`${APP}_responses`)} WHERE installation_id = ? ORDER BY id`,
      [installation.id],
    );
    const expected = (text: string) => (pg ? text.replaceAll('\u0000', '') : text);
    expect(stored).toHaveLength(600);
    expect(stored.map((r) => r.comment)).toEqual([...responses(1), ...responses(301)].map((r) => expected(r.comment as string)));
    expect(stored.map((r) => (typeof r.tags === 'string' ? JSON.parse(r.tags) : r.tags))).toEqual(
      [...responses(1), ...responses(301)].map((r) => ({ note: expected(r.comment as string) })),
    );
    const names = await raw.query<{ name: string }>(`SELECT name FROM ${own(`${APP}_forms`)} WHERE installation_id = ? ORDER BY id`, [installation.id]);
    expect(names.map((r) => r.name)).toEqual(forms(100).map((f) => f.name));
  });

  it('counts the rows of a table besides the primary one exactly: new, renamed and unchanged', async () => {
    // SQLite counts such a table by the statement's changes, PostgreSQL by the rows it returns.
    const installation = await install();
    const runId = await store.startRun(installation.id, new Date());
    const forms = (ids: number[], name: (id: number) => string) => ids.map((id): Row => ({ id, name: name(id) }));
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const first = await store.writePage({
      installationId: installation.id,
      runId,
      stream: 's',
      rows: { responses: [], forms: forms(range(1, 300), (id) => `form ${id}`) },
      rejected: [],
      checkpoint: { n: 1 },
    });
    expect(first.tables.forms).toEqual({ inserted: 300, updated: 0, unchanged: 0 });
    // 100 renamed, 200 as they were, 50 new: sizes that span several statement shapes.
    const second = await store.writePage({
      installationId: installation.id,
      runId,
      stream: 's',
      rows: { responses: [], forms: forms(range(1, 350), (id) => (id <= 100 ? `renamed ${id}` : `form ${id}`)) },
      rejected: [],
      checkpoint: { n: 2 },
    });
    expect(second.tables.forms).toEqual({ inserted: 50, updated: 100, unchanged: 200 });
    const [count] = await raw.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${own(`${APP}_forms`)} WHERE installation_id = ?`, [installation.id]);
    expect(Number(count!.n)).toBe(350);
  });
});
