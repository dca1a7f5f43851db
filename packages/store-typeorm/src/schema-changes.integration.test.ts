import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataModelSchema, validateMappings, type DataModel, type Installation } from '@tributary/core';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';
import { openRawDatabase, type RawDatabase } from './test-support/raw-database.js';

// Installing, uninstalling and purging an app while syncs of other installations of the same app
// write pages into the shared app tables: neither side fails. Installing used to re-run
// CREATE INDEX IF NOT EXISTS on every shared table inside its transaction, which locked them against
// writes in another order than a page write takes them: PostgreSQL aborted one side as a deadlock.

const databases = await testDatabases('store-schema-changes');

const model: DataModel = dataModelSchema.parse({
  primaryTable: 'responses',
  customerEmailColumn: 'email',
  tables: [
    {
      name: 'responses',
      rowsFrom: { kind: 'record' },
      key: ['id'],
      onConflict: 'ignore',
      indexes: [['created_at'], ['email']],
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'email', type: 'text' },
        { name: 'created_at', type: 'timestamp' },
      ],
    },
    {
      name: 'answers',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['response_id', 'question_index'],
      onConflict: 'ignore',
      indexes: [['value']],
      columns: [
        { name: 'response_id', type: 'bigint', nullable: false },
        { name: 'question_index', type: 'text', nullable: false },
        { name: 'value', type: 'text' },
      ],
    },
  ],
});

const mappings = validateMappings(
  [
    { source: 'id', target: { table: 'responses', column: 'id' } },
    { source: 'email', target: { table: 'responses', column: 'email' }, transform: 'email' },
    { source: 'created_at', target: { table: 'responses', column: 'created_at' }, transform: 'timestamp' },
    { source: '$record.id', target: { table: 'answers', column: 'response_id' } },
    { source: 'question_index', target: { table: 'answers', column: 'question_index' } },
    { source: 'value', target: { table: 'answers', column: 'value' }, transform: 'string' },
  ],
  model,
);

const cipher = () => createSecretCipher({ keys: { k1: Buffer.alloc(32, 7) }, currentKeyId: 'k1' });

describe.each(databases)('schema changes beside running syncs on $dialect', (database: TestDatabase) => {
  let writer: TypeOrmStore;
  let admin: TypeOrmStore;
  let raw: RawDatabase;
  const pg = database.dialect === 'postgres';
  const own = (bare: string) => (pg ? `"tributary"."${bare}"` : `"tributary_${bare}"`);

  const install = (store: TypeOrmStore, workspace: string) =>
    store.install({ workspace, app: 'churn', config: { token: 'not-a-real-token' }, secretFields: ['token'], mappings, dataModel: model });

  /** Pages of 40 responses with new customers each, as a backfill writes them, until `until` resolves. */
  async function sync(installation: Installation, until: Promise<void>): Promise<number> {
    let stop = false;
    void until.then(() => (stop = true));
    const runId = await writer.startRun(installation.id, new Date());
    let pages = 0;
    for (let base = 0; !stop; base += 40) {
      const ids = Array.from({ length: 40 }, (_, i) => base + i + 1);
      await writer.writePage({
        installationId: installation.id,
        runId,
        stream: 'responses',
        rows: {
          responses: ids.map((id) => ({ id, email: `c${id}@example.com`, created_at: '2026-05-01T10:00:00.000Z' })),
          answers: ids.flatMap((id) => [1, 2].map((q) => ({ response_id: id, question_index: String(q), value: `v${id}` }))),
        },
        rejected: [],
        checkpoint: { last: base + 40 },
      });
      pages += 1;
    }
    return pages;
  }

  beforeAll(async () => {
    writer = await createStore({ url: database.url, cipher: cipher() });
    await writer.migrate();
    // On PostgreSQL installs come over their own connections, as from another process. SQLite's
    // driver blocks the whole thread while it waits for a lock, so there one store does both.
    admin = pg ? await createStore({ url: database.url, cipher: cipher() }) : writer;
    raw = await openRawDatabase(database);
  });

  afterAll(async () => {
    await raw?.close();
    if (admin !== writer) await admin?.close();
    await writer?.close();
  });

  it('installs, uninstalls and purges while pages of other installations are written, without a failure', async () => {
    const syncing = await Promise.all(Array.from({ length: 4 }, (_, i) => install(admin, `busy-${i}`)));
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const syncs = Promise.all(syncing.map((installation) => sync(installation, done)));
    const changes = (async () => {
      const made: Installation[] = [];
      try {
        for (let i = 0; i < 12; i++) {
          made.push(await install(admin, `new-${i}`));
          if (i % 3 === 2) await admin.uninstall(made.shift()!.id, { purge: true, at: new Date() });
        }
        for (const installation of made.splice(0, 2)) await admin.uninstall(installation.id, { purge: false, at: new Date() });
        return made.length;
      } finally {
        finish();
      }
    })();
    const [pages, left] = await Promise.all([syncs, changes]);
    expect(left).toBe(6);
    expect(pages.every((n) => n > 0)).toBe(true);
    const counts = await raw.query<{ installation_id: string; n: number | string }>(
      `SELECT installation_id, count(*) AS n FROM ${own('churn_responses')} GROUP BY installation_id`,
    );
    const stored = new Map(counts.map((row) => [row.installation_id, Number(row.n)]));
    syncing.forEach((installation, i) => expect(stored.get(installation.id)).toBe(pages[i]! * 40));
  }, 120_000);

  it('runs no DDL on the shared tables when installing an app whose tables are in place', async () => {
    await install(admin, 'first');
    const indexes = async () =>
      pg
        ? raw.query<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'tributary' AND tablename LIKE 'churn_%' ORDER BY 1`)
        : raw.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'tributary_churn_%' AND sql IS NOT NULL ORDER BY 1`);
    const before = await indexes();
    expect(before.length).toBeGreaterThanOrEqual(4);
    if (pg) {
      // A transaction that holds a write lock on the primary table: DDL on it would wait, a second install does not.
      const blocker = await openRawDatabase(database);
      try {
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE ${own('churn_responses')} IN ROW EXCLUSIVE MODE`);
        const second = await Promise.race([
          install(admin, 'second').then(() => 'installed'),
          new Promise((resolve) => setTimeout(() => resolve('blocked'), 5_000)),
        ]);
        expect(second).toBe('installed');
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.close();
      }
    } else {
      await install(admin, 'second');
    }
    expect(await indexes()).toEqual(before);
  }, 30_000);

  it.runIf(!pg)('waits for another process that holds SQLite’s write lock longer than the busy timeout, then commits', async () => {
    const path = database.url.slice('sqlite:'.length);
    // Another process takes the write lock and keeps it for 11 s, past the 10 s busy timeout.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]); db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
         setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, 11000);`,
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: new URL('.', import.meta.url).pathname },
    );
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const installed = await install(admin, `patient-${randomBytes(2).toString('hex')}`);
    expect(installed.status).toBe('active');
    await exited;
  }, 60_000);
});
