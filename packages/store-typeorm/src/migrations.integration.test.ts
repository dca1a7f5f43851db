import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, StorageError, dataModelSchema, validateMappings } from '@tributary/core';
import { closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import { tempDirectory, testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';
import { openRawDatabase, type RawDatabase } from './test-support/raw-database.js';

const databases = await testDatabases('store-migrations');
const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });

/** Tables the first migration creates; later migrations add their own. */
const CORE_TABLES = [
  'checkpoints',
  'installation_secrets',
  'installations',
  'provisioned_tables',
  'rejected_records',
  'runs',
  'workspaces',
];

describe.each(databases)('migrations on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let raw: RawDatabase;
  const pg = database.dialect === 'postgres';

  async function ownTables(): Promise<string[]> {
    const rows = pg
      ? await raw.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'tributary'`,
        )
      : await raw.query<{ name: string }>(
          `SELECT substr(name, 11) AS name FROM sqlite_master WHERE type = 'table' AND name LIKE 'tributary\\_%' ESCAPE '\\'`,
        );
    return rows
      .map((r) => r.name)
      .filter((name) => name !== 'migrations')
      .sort();
  }

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher });
    raw = await openRawDatabase(database);
  });

  afterAll(async () => {
    await raw?.close();
    await store?.close();
  });

  it('migrates up, down and up again', async () => {
    const appliedNames = async () =>
      (
        await raw.query<{ name: string }>(
          `SELECT name FROM ${pg ? '"tributary"."migrations"' : '"tributary_migrations"'} ORDER BY id`,
        )
      ).map((m) => m.name);
    await store.migrate();
    const tables = await ownTables();
    expect(tables).toEqual(expect.arrayContaining(CORE_TABLES));
    const applied = await appliedNames();
    expect(applied[0]).toBe('InitialSchema1764201600000');
    expect(applied).toEqual(
      [...applied].sort((a, b) => Number(a.match(/\d+$/)?.[0]) - Number(b.match(/\d+$/)?.[0])),
    );

    await store.migrate();
    expect(await ownTables()).toEqual(tables);
    expect(await appliedNames()).toEqual(applied);

    // Every migration reverses: undone one by one, newest first, nothing of Tributary's is left.
    for (let left = applied.length; left > 0; left--) {
      await store.revertLastMigration();
      expect(await appliedNames()).toEqual(applied.slice(0, left - 1));
    }
    expect(await ownTables()).toEqual([]);

    await store.migrate();
    expect(await ownTables()).toEqual(tables);
    // The store works on the re-created tables.
    expect(await store.listInstallations()).toEqual([]);
  });

  it('gives the primary tables of existing installations their contact ids, and takes them back out', async () => {
    await store.migrate();
    const model = dataModelSchema.parse(closeAlertDataModel);
    const installation = await store.install({
      workspace: 'contact-ids',
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'not-a-real-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings: validateMappings(closeAlertDefaultMappings, model),
      dataModel: model,
    });
    const at = '2024-06-01T10:00:00.000Z';
    await store.writePage({
      installationId: installation.id,
      runId: await store.startRun(installation.id, new Date(at)),
      stream: 'form_responses',
      rows: {
        form_responses: [
          { response_id: 1, created_at: at, email_normalized: 'ann@example.com', form_id: 34 },
          { response_id: 2, created_at: at, email_normalized: 'bob@example.com', form_id: 34 },
          { response_id: 3, created_at: at, email_normalized: 'ann@example.com', form_id: 35 },
          { response_id: 4, created_at: at, email_normalized: null, form_id: 34 },
        ],
      },
      rejected: [],
      checkpoint: { cursor: at },
    });
    const responses = store.appTable('closealert', 'form_responses');
    const columns = async () =>
      (pg
        ? await raw.query<{ name: string }>(
            `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'tributary' AND table_name = 'closealert_form_responses'`,
          )
        : await raw.query<{ name: string }>(
            `SELECT name FROM pragma_table_info('tributary_closealert_form_responses')`,
          )
      ).map((c) => c.name);
    const indexes = async () =>
      (pg
        ? (
            await raw.query<{ def: string }>(
              `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'tributary' AND tablename = 'closealert_form_responses' AND indexname NOT LIKE '%member\\_order\\_idx'`,
            )
          ).map((i) => ({
            def: i.def.replace(/^.*\((.*)\)$/, '$1'),
          }))
        : await raw.query<{ def: string }>(
            `SELECT (SELECT group_concat(name, ', ') FROM (SELECT name FROM pragma_index_info(m.name) ORDER BY seqno)) AS def
               FROM sqlite_master m WHERE m.type = 'index' AND m.tbl_name = 'tributary_closealert_form_responses' AND m.sql IS NOT NULL AND m.name NOT LIKE '%member_order_idx'`,
          )
      )
        .map((i) => i.def)
        .filter((def) => def.includes('email_normalized'))
        .sort();
    const carried = async () =>
      raw.query<{ email: string | null; same: number | boolean | null }>(
        `SELECT r.email_normalized AS email, r.contact_id = c.contact_id AS same FROM ${responses} r
           LEFT JOIN ${store.appTable('closealert', 'contacts')} c ON c.installation_id = r.installation_id AND c.email_normalized = r.email_normalized
          WHERE r.installation_id = ? ORDER BY r.response_id`,
        [installation.id],
      );
    // The index that carries the e-mail last (profiles read it) carries the contact id; the one
    // that searches by e-mail stays as declared.
    const withContactIds = [
      'installation_id, email_normalized, created_at',
      'installation_id, form_id, created_at, response_id, email_normalized, contact_id',
    ];
    expect(await indexes()).toEqual(withContactIds);
    // Streamed profiles' index (migration 1764800200000): built for installed feedback apps, dropped on the way down.
    const memberOrder = async () =>
      (pg
        ? await raw.query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'tributary' AND indexname LIKE '%member\\_order\\_idx'`)
        : await raw.query<{ def: string }>(`SELECT sql AS def FROM sqlite_master WHERE type = 'index' AND name LIKE '%member_order_idx'`)
      ).map((i) => i.def.replace(/^.* ON /, ''));
    const ordered = pg
      ? ['tributary.closealert_form_responses USING btree (installation_id, email_normalized COLLATE "C", created_at DESC, response_id DESC) INCLUDE (form_id, contact_id)']
      : ['"tributary_closealert_form_responses" ("installation_id", "email_normalized", "created_at" DESC, "response_id" DESC, "form_id", "contact_id")'];
    expect(await memberOrder()).toEqual(ordered);

    // The database as the previous release left it: no contact id, indexes without it.
    const applied = async () =>
      (await raw.query<{ name: string }>(`SELECT name FROM ${pg ? '"tributary"."migrations"' : '"tributary_migrations"'}`)).map((m) => m.name);
    while ((await applied()).includes('ContactIds1764202100000')) await store.revertLastMigration();
    expect(await columns()).not.toContain('contact_id');
    expect(await indexes()).toEqual(withContactIds.map((def) => def.replace(', contact_id', '')));
    expect(await memberOrder()).toEqual([]);

    await store.migrate();
    expect(await columns()).toContain('contact_id');
    expect(await indexes()).toEqual(withContactIds);
    expect(await memberOrder()).toEqual(ordered);
    expect((await carried()).map((r) => [r.email, r.same === null ? null : Boolean(r.same)])).toEqual([
      ['ann@example.com', true],
      ['bob@example.com', true],
      ['ann@example.com', true],
      [null, null],
    ]);
    // Profiles read the filled ids.
    await store.createProfile('contact-ids', { name: 'form 34', match: { type: 'form', id: 34 } });
    const evaluation = await store.evaluateProfile('contact-ids', 'form 34', {
      now: new Date('2024-06-02T00:00:00Z'),
      record: false,
    });
    expect(evaluation.members.map((m) => [m.email, typeof m.contactId])).toEqual([
      ['ann@example.com', 'string'],
      ['bob@example.com', 'string'],
    ]);
  });

  it('gives the app rows of existing installations a run id, and keeps their runs through the new run states', async () => {
    await store.migrate();
    const model = dataModelSchema.parse(closeAlertDataModel);
    const installation = await store.install({
      workspace: 'run-ids',
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'not-a-real-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings: validateMappings(closeAlertDefaultMappings, model),
      dataModel: model,
    });
    const at = '2024-06-01T10:00:00.000Z';
    const page = (runId: string, id: number) => ({
      installationId: installation.id,
      runId,
      stream: 'form_responses',
      rows: {
        form_responses: [{ response_id: id, created_at: at, email_normalized: `c${id}@example.com`, form_id: 34 }],
        answers: [{ response_id: id, question_index: '1', score: 4 }],
      },
      rejected: [{ sourceId: `bad-${id}`, reason: 'id: expected number', raw: { id: 'x' } }],
      checkpoint: { cursor: at },
    });
    const applied = async () =>
      (await raw.query<{ name: string }>(`SELECT name FROM ${pg ? '"tributary"."migrations"' : '"tributary_migrations"'}`)).map((m) => m.name);
    const columnsOf = async (table: string) =>
      (pg
        ? await raw.query<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'tributary' AND table_name = ?`, [table])
        : await raw.query<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [`tributary_${table}`])
      ).map((c) => c.name);

    // The database as the previous release left it, with a finished run that set a record aside.
    while ((await applied()).includes('RunStates1764500100000')) await store.revertLastMigration();
    expect(await columnsOf('closealert_form_responses')).not.toContain('run_id');
    const old = await store.startRun(installation.id, new Date(at));
    const responses = store.appTable('closealert', 'form_responses');
    await raw.query(
      `INSERT INTO ${responses} (installation_id, response_id, created_at, email_normalized, form_id) VALUES (?, 1, ?, 'c1@example.com', 34)`,
      [installation.id, pg ? at : at],
    );
    await raw.query(
      `INSERT INTO ${pg ? '"tributary"."rejected_records"' : '"tributary_rejected_records"'} (run_id, installation_id, source_id, reason, created_at) VALUES (?, ?, 'bad-0', 'broken', ?)`,
      [old, installation.id, at],
    );
    await store.finishRun(old, { status: 'succeeded', fetched: 2, inserted: 1, unchanged: 0, rejected: 1, saved: [], warnings: [] }, new Date(at));
    // The run log as that release kept it: CloseAlert's fields in `runs.saved`.
    await raw.query(`UPDATE ${pg ? '"tributary"."runs"' : '"tributary_runs"'} SET saved = ? WHERE id = ?`, [JSON.stringify([{ email: 'c1@example.com' }]), old]);

    await store.migrate();
    for (const table of ['closealert_form_responses', 'closealert_answers', 'closealert_forms']) expect(await columnsOf(table)).toContain('run_id');
    expect(await raw.query(`SELECT run_id FROM ${responses} WHERE installation_id = ?`, [installation.id])).toEqual([{ run_id: null }]);
    // The run kept everything, its set-aside record included, and takes the new states.
    const [kept] = await store.listRuns({ workspace: 'run-ids', limit: 5 });
    expect(kept).toMatchObject({ id: old, status: 'succeeded', inserted: 1, savedTotal: 1, rejectedRecords: [{ sourceId: 'bad-0', reason: 'broken' }] });
    expect((await store.listSavedCustomers(old, { limit: 10 }))?.customers).toEqual([{ contact: 'c1@example.com', seq: 1 }]);
    const next = await store.startRun(installation.id, new Date('2024-06-01T11:00:00Z'));
    await store.writePage(page(next, 2));
    await store.finishRun(next, { status: 'stopped', fetched: 2, inserted: 1, unchanged: 0, rejected: 1, saved: [], warnings: [] }, new Date());
    expect((await store.getRun(next))?.status).toBe('stopped');
    expect(await raw.query(`SELECT response_id AS id, run_id FROM ${responses} WHERE installation_id = ? ORDER BY response_id`, [installation.id])).toEqual([
      { id: pg ? '1' : 1, run_id: null },
      { id: pg ? '2' : 2, run_id: next },
    ]);
    if (!pg) expect(await raw.query('PRAGMA foreign_key_check')).toEqual([]);
  });

  it('reads run-log lines kept in the older CloseAlert shape in the connector-neutral one, and takes new ones back down', async () => {
    await store.migrate();
    const model = dataModelSchema.parse(closeAlertDataModel);
    const installation = await store.install({
      workspace: 'run-saved-lines',
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'not-a-real-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings: validateMappings(closeAlertDefaultMappings, model),
      dataModel: model,
    });
    const applied = async () =>
      (await raw.query<{ name: string }>(`SELECT name FROM ${pg ? '"tributary"."migrations"' : '"tributary_migrations"'}`)).map((m) => m.name);
    const savedTable = pg ? '"tributary"."run_saved"' : '"tributary_run_saved"';
    const finish = (runId: string) =>
      store.finishRun(runId, { status: 'succeeded', fetched: 2, inserted: 2, unchanged: 0, rejected: 0, saved: [], warnings: [] }, new Date());

    while ((await applied()).includes('RunSavedSummary1764500600000')) await store.revertLastMigration();
    const old = await store.startRun(installation.id, new Date('2024-06-01T10:00:00Z'));
    await raw.query(`INSERT INTO ${savedTable} (run_id, email, form, score, comment) VALUES (?, 'ann@example.com', 'NPS', 4, 'Great'), (?, '(no e-mail, response 7)', NULL, NULL, NULL)`, [old, old]);
    await finish(old);

    await store.migrate();
    const oldLines = [
      { contact: 'ann@example.com', label: 'NPS', fields: { score: 4, comment: 'Great' } },
      { key: '7' },
    ];
    const page = await store.listSavedCustomers(old, { limit: 10 });
    expect(page?.customers.map(({ seq, ...line }) => (void seq, line))).toEqual(oldLines);
    expect(await store.getRun(old)).toMatchObject({ saved: oldLines, savedTotal: 2 });

    // A line of today's shape, with fields CloseAlert never had, round-trips; going down keeps what the older columns can hold.
    const next = await store.startRun(installation.id, new Date('2024-06-02T10:00:00Z'));
    const line = { key: '12', contact: 'bo@example.com', label: 'Onboarding', fields: { plan: 'pro', seats: 3, trial: false, note: null, score: 9 } };
    await store.writePage({
      installationId: installation.id,
      runId: next,
      stream: 'form_responses',
      rows: { form_responses: [{ response_id: 12, created_at: '2024-06-02T10:00:00.000Z', email_normalized: 'bo@example.com', form_id: 34 }] },
      rejected: [],
      checkpoint: { cursor: '2024-06-02T10:00:00.000Z' },
      saved: [line, { key: '13', contact: 'not-inserted@example.com' }],
    });
    await finish(next);
    expect((await store.listSavedCustomers(next, { limit: 10 }))?.customers).toEqual([{ seq: expect.any(Number), ...line }]);
    // Newer migrations go down first, down to this one.
    while ((await applied()).includes('RunSavedSummary1764500600000')) await store.revertLastMigration();
    expect(await applied()).not.toContain('RunSavedSummary1764500600000');
    await store.migrate();
    expect((await store.getRun(next))?.saved).toEqual([{ contact: 'bo@example.com', label: 'Onboarding', fields: { score: 9 } }]);
    if (!pg) expect(await raw.query('PRAGMA foreign_key_check')).toEqual([]);
  });

  it.runIf(!pg)('opens SQLite in WAL mode with a busy timeout and foreign keys on', async () => {
    expect(await store.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await store.query('PRAGMA busy_timeout')).toEqual([{ timeout: 10_000 }]);
    expect(await store.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
  });

  it.runIf(pg)(
    'turns PostgreSQL JIT off for its sessions (it costs more than it saves on indexed queries)',
    async () => {
      expect(await store.query('SHOW jit')).toEqual([{ jit: 'off' }]);
    },
  );

  it.runIf(pg)('keeps everything it owns in its schema', async () => {
    const elsewhere = await raw.query(
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('tributary', 'pg_catalog', 'information_schema')`,
    );
    expect(elsewhere).toEqual([]);
  });
});

describe('createStore', () => {
  it('refuses a bad URL with a ConfigError naming TRIBUTARY_DATABASE_URL', async () => {
    const attempt = createStore({ url: 'mysql://root:hunter2@localhost/db', cipher });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/TRIBUTARY_DATABASE_URL/);
    await expect(attempt).rejects.not.toThrow(/hunter2/);
  });

  it('refuses bad options', async () => {
    await expect(
      createStore({ url: 'sqlite::memory:', cipher, tablePrefix: 'Bad Prefix' }),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(createStore({ url: 'sqlite::memory:', cipher, schema: 'drop' })).rejects.toBeInstanceOf(
      ConfigError,
    );
  });

  it('says which PostgreSQL database it could not reach, without the password', async () => {
    const attempt = createStore({ url: 'postgres://tributary:hunter2@127.0.0.1:1/tributary_db', cipher });
    await expect(attempt).rejects.toBeInstanceOf(StorageError);
    const error = (await attempt.catch((e: unknown) => e)) as StorageError;
    expect(error.code).toBe('STORE_UNREACHABLE');
    expect(error.message).toContain('PostgreSQL database "tributary_db" at 127.0.0.1:1');
    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error)).not.toContain('hunter2');
  });

  it('creates the parent directory of a SQLite file', async () => {
    const dir = join(tempDirectory('store-dir'), 'nested', 'deeper');
    const store = await createStore({
      url: `sqlite:${join(dir, 'tributary.db')}`,
      cipher,
      tablePrefix: 'trib_',
    });
    try {
      await store.migrate();
      expect(existsSync(join(dir, 'tributary.db'))).toBe(true);
      expect(store.appTable('closealert', 'form_responses')).toBe('"trib_closealert_form_responses"');
    } finally {
      await store.close();
    }
  });

  it('says which SQLite file it could not open', async () => {
    const file = join(tempDirectory('store-file'), 'not-a-directory');
    writeFileSync(file, 'x');
    const attempt = createStore({ url: `sqlite:${join(file, 'tributary.db')}`, cipher });
    await expect(attempt).rejects.toBeInstanceOf(StorageError);
    await expect(attempt).rejects.toMatchObject({
      code: 'STORE_UNREACHABLE',
      message: expect.stringContaining(`SQLite database file ${join(file, 'tributary.db')}`),
    });
  });

  it('runs in memory', async () => {
    const store = await createStore({ url: 'sqlite::memory:', cipher });
    try {
      await store.migrate();
      expect(await store.listInstallations()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
