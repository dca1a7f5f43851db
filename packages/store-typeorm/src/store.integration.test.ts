import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  StorageError,
  dataModelSchema,
  validateMappings,
  type DataModel,
  type Installation,
  type MappedRows,
  type PageWrite,
  type Row,
} from '@tributary/core';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';
import { openRawDatabase, type RawDatabase } from './test-support/raw-database.js';

const databases = await testDatabases('store');

const APP = 'testapp';

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
        { name: 'created_at', type: 'timestamp' },
        { name: 'score', type: 'numeric' },
        { name: 'backfill', type: 'boolean', nullable: false },
        { name: 'merge_tags', type: 'json' },
        { name: 'form_id', type: 'integer' },
      ],
      indexes: [['created_at'], ['email']],
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
    {
      name: 'answers',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['response_id', 'question_index'],
      onConflict: 'ignore',
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
    { source: '$meta.backfill', target: { table: 'responses', column: 'backfill' } },
    { source: 'merge_tags', target: { table: 'responses', column: 'merge_tags' }, transform: 'json' },
    { source: 'form.id', target: { table: 'responses', column: 'form_id' } },
    { source: 'form.id', target: { table: 'forms', column: 'id' } },
    { source: 'form.name', target: { table: 'forms', column: 'name' } },
    { source: '$record.id', target: { table: 'answers', column: 'response_id' } },
    { source: 'question_index', target: { table: 'answers', column: 'question_index' } },
    { source: 'response_value', target: { table: 'answers', column: 'value' }, transform: 'string' },
  ],
  model,
);

function response(id: number, email: string, score: number | null = 4): Row {
  return {
    id,
    email,
    created_at: '2024-05-01T10:00:00.000Z',
    score,
    backfill: false,
    merge_tags: '{"campaign":"spring"}',
    form_id: 7,
  };
}

function page(
  installation: Installation,
  runId: string,
  rows: MappedRows,
  checkpoint: unknown,
  rejected: PageWrite['rejected'] = [],
): PageWrite {
  return { installationId: installation.id, runId, stream: 'form_responses', rows, rejected, checkpoint };
}

let workspaceCounter = 0;
const freshWorkspace = () => `workspace ${++workspaceCounter} ${randomBytes(3).toString('hex')}`;

describe.each(databases)('TypeORM store on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let raw: RawDatabase;
  const logLines: string[] = [];
  const pg = database.dialect === 'postgres';
  /** Quoted name of a table Tributary owns, as the test's own connection addresses it. */
  const own = (bare: string) => (pg ? `"tributary"."${bare}"` : `"tributary_${bare}"`);
  const userTable = (bare: string) => (pg ? `"public"."${bare}"` : `"${bare}"`);

  const install = (overrides: Partial<Parameters<TypeOrmStore['install']>[0]> = {}) =>
    store.install({
      workspace: freshWorkspace(),
      app: APP,
      config: { projectKey: 'company.com', apiToken: 'token-not-secret-here', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings,
      dataModel: model,
      ...overrides,
    });

  async function countRows(table: string, installationId: string): Promise<number> {
    const rows = await raw.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${table} WHERE installation_id = ?`,
      [installationId],
    );
    return Number(rows[0]!.n);
  }

  async function dumpUserTables(): Promise<string> {
    const dump: Record<string, unknown> = {};
    for (const name of ['customers', 'newsletter']) {
      if (pg) {
        dump[`${name}.rows`] = await raw.query(
          `SELECT xmin::text AS xmin, ctid::text AS ctid, t.* FROM public.${name} t ORDER BY 3`,
        );
        dump[`${name}.columns`] = await raw.query(
          `SELECT column_name, data_type, is_nullable, column_default, ordinal_position FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position`,
          [name],
        );
        dump[`${name}.constraints`] = await raw.query(
          `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = ?::regclass ORDER BY conname`,
          [`public.${name}`],
        );
        dump[`${name}.indexes`] = await raw.query(
          `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ? ORDER BY 1`,
          [name],
        );
        dump[`${name}.triggers`] = await raw.query(
          `SELECT tgname FROM pg_trigger WHERE tgrelid = ?::regclass ORDER BY 1`,
          [`public.${name}`],
        );
      } else {
        dump[`${name}.rows`] = await raw.query(`SELECT rowid AS _rowid, * FROM "${name}" ORDER BY rowid`);
        dump[`${name}.columns`] = await raw.query(`SELECT * FROM pragma_table_info(?)`, [name]);
        dump[`${name}.schema`] = await raw.query(
          `SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? ORDER BY name`,
          [name],
        );
      }
    }
    return JSON.stringify(dump);
  }

  /** Row writes the audit triggers saw on the app tables, per table and operation. */
  async function auditedWrites(): Promise<Record<string, number>> {
    const rows = await raw.query<{ tbl: string; op: string; n: number | string }>(
      `SELECT tbl, op, count(*) AS n FROM ${userTable('write_audit')} GROUP BY tbl, op`,
    );
    return Object.fromEntries(rows.map((r) => [`${r.tbl}:${r.op}`, Number(r.n)]));
  }

  async function auditAppTables(): Promise<void> {
    for (const table of ['responses', 'forms', 'answers', 'contacts']) {
      if (pg) {
        await raw.query(
          `CREATE OR REPLACE TRIGGER audit AFTER INSERT OR UPDATE ON ${own(`${APP}_${table}`)} FOR EACH ROW EXECUTE FUNCTION public.audit_write()`,
        );
      } else {
        for (const op of ['INSERT', 'UPDATE']) {
          await raw.query(
            `CREATE TRIGGER IF NOT EXISTS "audit_${table}_${op}" AFTER ${op} ON ${own(`${APP}_${table}`)}
             BEGIN INSERT INTO write_audit VALUES ('${APP}_${table}', '${op}'); END`,
          );
        }
      }
    }
  }

  beforeAll(async () => {
    const cipher = createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
    const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
    store = await createStore({ url: database.url, cipher, logger });
    await store.migrate();
    raw = await openRawDatabase(database);
    // A user's own tables, next to Tributary's: they must come out of every test untouched.
    if (pg) {
      await raw.query(
        `CREATE TABLE public.customers (id serial PRIMARY KEY, email text NOT NULL, name text, since timestamptz DEFAULT now())`,
      );
      await raw.query(
        `CREATE TABLE public.newsletter (customer_id int REFERENCES public.customers (id), subscribed boolean NOT NULL, note jsonb)`,
      );
      await raw.query(`CREATE INDEX customers_email ON public.customers (email)`);
      await raw.query(`CREATE TABLE public.write_audit (tbl text, op text)`);
      await raw.query(
        `CREATE FUNCTION public.audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO public.write_audit VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$`,
      );
    } else {
      await raw.query(
        `CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, since TEXT DEFAULT CURRENT_TIMESTAMP)`,
      );
      await raw.query(
        `CREATE TABLE newsletter (customer_id INTEGER REFERENCES customers (id), subscribed INTEGER NOT NULL, note TEXT)`,
      );
      await raw.query(`CREATE INDEX customers_email ON customers (email)`);
      await raw.query(`CREATE TABLE write_audit (tbl TEXT, op TEXT)`);
    }
    for (const [email, name] of [
      ['ann@example.com', 'Ann'],
      ['Bob@Example.com', 'Bob'],
      ['cy@example.com', null],
    ]) {
      await raw.query(`INSERT INTO ${userTable('customers')} (email, name) VALUES (?, ?)`, [email, name]);
    }
    await raw.query(
      `INSERT INTO ${userTable('newsletter')} (customer_id, subscribed, note) VALUES (1, ?, ?), (2, ?, NULL)`,
      [pg ? true : 1, '{"source":"signup"}', pg ? false : 0],
    );
  });

  afterAll(async () => {
    await raw?.close();
    await store?.close();
  });

  describe('install', () => {
    it('saves the installation and provisions the app tables with the declared columns', async () => {
      const installation = await install();
      expect(installation).toMatchObject({ app: APP, status: 'active', mappings, dataModel: model });

      const columns = async (bare: string) => {
        const rows = pg
          ? await raw.query<{ name: string; type: string; nullable: boolean }>(
              `SELECT column_name AS name, data_type AS type, is_nullable = 'YES' AS nullable FROM information_schema.columns
                WHERE table_schema = 'tributary' AND table_name = ? ORDER BY ordinal_position`,
              [bare],
            )
          : await raw.query<{ name: string; type: string; nullable: number }>(
              `SELECT name, type, "notnull" = 0 AS nullable FROM pragma_table_info(?)`,
              [`tributary_${bare}`],
            );
        return rows.map((r) => `${r.name} ${r.type}${r.nullable ? '' : ' not null'}`);
      };
      expect(await columns(`${APP}_responses`)).toEqual(
        pg
          ? [
              'installation_id uuid not null',
              'id bigint not null',
              'email text',
              'created_at timestamp with time zone',
              'score numeric',
              'backfill boolean not null',
              'merge_tags jsonb',
              'form_id integer',
              // The store's: the contact id of the customer e-mail (customerEmailColumn).
              'contact_id uuid',
              // The store's: the run that stored the row.
              'run_id uuid',
            ]
          : [
              'installation_id TEXT not null',
              'id INTEGER not null',
              'email TEXT',
              'created_at TEXT',
              'score REAL',
              'backfill INTEGER not null',
              'merge_tags TEXT',
              'form_id INTEGER',
              'contact_id TEXT',
              'run_id TEXT',
            ],
      );
      expect(await columns(`${APP}_answers`)).toEqual(
        pg
          ? [
              'installation_id uuid not null',
              'response_id bigint not null',
              'question_index text not null',
              'value text',
              'run_id uuid',
            ]
          : [
              'installation_id TEXT not null',
              'response_id INTEGER not null',
              'question_index TEXT not null',
              'value TEXT',
              'run_id TEXT',
            ],
      );
      expect(await columns(`${APP}_contacts`)).toEqual(
        pg
          ? [
              'installation_id uuid not null',
              'email_normalized text not null',
              'contact_id uuid not null',
              'first_seen_at timestamp with time zone not null',
            ]
          : [
              'installation_id TEXT not null',
              'email_normalized TEXT not null',
              'contact_id TEXT not null',
              'first_seen_at TEXT not null',
            ],
      );

      const indexes = pg
        ? (
            await raw.query<{ def: string }>(
              `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'tributary' AND tablename = ?`,
              [`${APP}_responses`],
            )
          ).map((r) => r.def.replace(/^.*\((.*)\)$/, '$1'))
        : (
            await raw.query<{ def: string }>(
              `SELECT (SELECT group_concat(name, ', ') FROM (SELECT name FROM pragma_index_info(m.name) ORDER BY seqno)) AS def
                 FROM sqlite_master m WHERE m.type = 'index' AND m.tbl_name = ? AND m.sql IS NOT NULL`,
              [`tributary_${APP}_responses`],
            )
          ).map((r) => r.def);
      // Indexes as declared, after the installation id; the one over the customer e-mail carries the contact id too,
      // and the store's own over the run that stored each row.
      expect(indexes.sort()).toEqual([
        'installation_id, created_at',
        'installation_id, email, contact_id',
        ...(pg ? ['installation_id, id'] : []),
        'installation_id, run_id',
      ]);

      const registered = await raw.query<{ table_name: string }>(
        `SELECT table_name FROM ${own('provisioned_tables')} WHERE app = ? ORDER BY 1`,
        [APP],
      );
      const prefix = pg ? '' : 'tributary_';
      expect(registered.map((r) => r.table_name)).toEqual(
        ['answers', 'contacts', 'forms', 'responses'].map((t) => `${prefix}${APP}_${t}`),
      );

      await expect(store.getInstallation(installation.id)).resolves.toEqual(installation);
      await expect(store.findInstallation(installation.workspace, APP)).resolves.toEqual(installation);
      await expect(store.listInstallations(installation.workspace)).resolves.toEqual([installation]);
      await expect(store.getInstallation('not-an-id')).resolves.toBeUndefined();
      // Provisioning again is a no-op.
      await store.provision(installation);
    });

    it('refuses a second active installation of the app in the same workspace', async () => {
      const first = await install();
      const second = install({ workspace: first.workspace });
      await expect(second).rejects.toBeInstanceOf(ConfigError);
      await expect(second).rejects.toMatchObject({ code: 'INSTALLATION_EXISTS' });
      // Purged: nothing to reattach, so the new installation is a new one (kept data is reattached instead).
      await store.uninstall(first.id, { purge: true, at: new Date() });
      const again = await install({ workspace: first.workspace });
      expect(again.id).not.toBe(first.id);
      expect((await store.listInstallations(first.workspace)).map((i) => i.status)).toEqual([
        'uninstalled',
        'active',
      ]);
    });

    it('leaves nothing behind when a step fails', async () => {
      const workspace = freshWorkspace();
      const counts = async () => ({
        workspaces: (await raw.query(`SELECT 1 FROM ${own('workspaces')} WHERE name = ?`, [workspace]))
          .length,
        secrets: (await raw.query(`SELECT 1 FROM ${own('installation_secrets')}`)).length,
        installations: (await raw.query(`SELECT 1 FROM ${own('installations')}`)).length,
        registered: (await raw.query(`SELECT 1 FROM ${own('provisioned_tables')} WHERE app = 'rollbackapp'`))
          .length,
        tables: pg
          ? (await raw.query(`SELECT 1 FROM information_schema.tables WHERE table_name LIKE 'rollbackapp%'`))
              .length
          : (await raw.query(`SELECT 1 FROM sqlite_master WHERE name LIKE '%rollbackapp%'`)).length,
      });
      const before = await counts();
      expect(before.tables).toBe(0);
      for (const customerTable of [
        { table: pg ? 'public.no_such_table' : 'no_such_table', emailColumn: 'email', idColumn: 'id' },
        { table: pg ? 'public.customers' : 'customers', emailColumn: 'mail', idColumn: 'id' },
      ]) {
        const attempt = install({ workspace, app: 'rollbackapp', customerTable });
        await expect(attempt).rejects.toBeInstanceOf(ConfigError);
        await expect(attempt).rejects.toMatchObject({
          code: expect.stringMatching(/^CUSTOMER_TABLE_(NOT_FOUND|INVALID)$/),
        });
        // The workspace and the app tables had been created inside the transaction: all rolled back.
        expect(await counts()).toEqual(before);
      }
    });

    it('refuses to alter a table of that name it did not create', async () => {
      await raw.query(`CREATE TABLE ${own('strangerapp_responses')} (id bigint)`);
      const attempt = install({ app: 'strangerapp' });
      await expect(attempt).rejects.toMatchObject({ code: 'TABLE_NOT_OURS' });
      const columns = pg
        ? await raw.query(
            `SELECT column_name FROM information_schema.columns WHERE table_schema = 'tributary' AND table_name = 'strangerapp_responses'`,
          )
        : await raw.query(`SELECT name FROM pragma_table_info('tributary_strangerapp_responses')`);
      expect(columns).toHaveLength(1);
    });

    it('keeps secrets out of the database, the stored config and the logs', async () => {
      const token = `tok_${randomBytes(16).toString('hex')}`;
      const installation = await install({
        config: { projectKey: 'company.com', apiToken: token, timeZone: 'UTC' },
      });
      expect(installation.config.apiToken).toBe(token);
      expect((await store.findInstallation(installation.workspace, APP))!.config).toEqual({
        projectKey: 'company.com',
        apiToken: token,
        timeZone: 'UTC',
      });

      const stored = await raw.query<{ config: unknown }>(
        `SELECT config FROM ${own('installations')} WHERE id = ?`,
        [installation.id],
      );
      const config =
        typeof stored[0]!.config === 'string' ? JSON.parse(stored[0]!.config) : stored[0]!.config;
      expect(config).toEqual({ projectKey: 'company.com', timeZone: 'UTC' });
      const secrets = await raw.query(
        `SELECT name, key_id FROM ${own('installation_secrets')} WHERE installation_id = ?`,
        [installation.id],
      );
      expect(secrets).toEqual([{ name: 'apiToken', key_id: 'k1' }]);

      // Every text-like column of every table Tributary owns.
      const columns = pg
        ? await raw.query<{ t: string; c: string }>(
            `SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'tributary'`,
          )
        : await raw.query<{ t: string; c: string }>(
            `SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name LIKE 'tributary\\_%' ESCAPE '\\'`,
          );
      expect(columns.length).toBeGreaterThan(30);
      for (const { t, c } of columns) {
        const table = pg ? `"tributary"."${t}"` : `"${t}"`;
        const cast = pg ? `"${c}"::text` : `CAST("${c}" AS TEXT)`;
        const hits = await raw.query(`SELECT 1 FROM ${table} WHERE ${cast} LIKE ?`, [`%${token}%`]);
        expect(hits, `${t}.${c}`).toEqual([]);
      }
      if (!pg) {
        const file = database.url.slice('sqlite:'.length);
        for (const path of [file, `${file}-wal`]) {
          if (existsSync(path)) expect(readFileSync(path).includes(token), path).toBe(false);
        }
      }
      expect(logLines.length).toBeGreaterThan(0);
      expect(logLines.join('\n')).not.toContain(token);
    });

    it('replaces the token and extends the data model without reinstalling', async () => {
      const installation = await install();
      const extended = dataModelSchema.parse({
        ...model,
        tables: model.tables.map((t) =>
          t.name === 'responses' ? { ...t, columns: [...t.columns, { name: 'campaign', type: 'text' }] } : t,
        ),
      });
      const updated = await store.updateInstallation(installation.id, {
        config: { ...installation.config, apiToken: 'replaced-token' },
        secretFields: ['apiToken'],
        dataModel: extended,
        mappings: [
          ...mappings,
          {
            source: 'merge_tags.campaign',
            target: { table: 'responses', column: 'campaign' },
            transform: 'string',
            enabled: true,
          },
        ],
      });
      expect(updated.config.apiToken).toBe('replaced-token');
      expect((await store.getInstallation(installation.id))!.config.apiToken).toBe('replaced-token');
      const columns = pg
        ? await raw.query<{ name: string }>(
            `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'tributary' AND table_name = ?`,
            [`${APP}_responses`],
          )
        : await raw.query<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [
            `tributary_${APP}_responses`,
          ]);
      expect(columns.map((c) => c.name)).toContain('campaign');
      await expect(
        store.updateInstallation(installation.id, {
          mappings: [
            {
              source: 'id',
              target: { table: 'responses', column: 'nope' },
              transform: 'none',
              enabled: true,
            },
          ],
        }),
      ).rejects.toMatchObject({ code: 'MAPPING_INVALID' });
    });
  });

  describe('writePage', () => {
    it('inserts rows and reports what was new; the same page again writes nothing', async () => {
      const installation = await install();
      await auditAppTables();
      const runId = await store.startRun(installation.id, new Date());
      const rows: MappedRows = {
        responses: [
          response(101, 'ann@example.com'),
          response(102, 'bob@example.com', 2.5),
          response(103, 'ann@example.com', null),
        ],
        forms: [{ id: 7, name: 'NPS' }],
        answers: [
          { response_id: 101, question_index: '1', value: '4' },
          { response_id: 101, question_index: '2', value: 'great' },
          { response_id: 102, question_index: '1', value: '2.5' },
        ],
      };
      const first = await store.writePage(page(installation, runId, rows, { since: '2024-05-01T10:00:00Z' }));
      expect(first).toMatchObject({ inserted: 3, unchanged: 0, newContacts: 2 });
      expect(first.insertedKeys.sort()).toEqual(['101', '102', '103']);
      expect(first.tables).toEqual({
        responses: { inserted: 3, updated: 0, unchanged: 0 },
        forms: { inserted: 1, updated: 0, unchanged: 0 },
        answers: { inserted: 3, updated: 0, unchanged: 0 },
      });
      const stored = await raw.query<Record<string, unknown>>(
        `SELECT id, email, created_at, score, backfill, merge_tags, form_id FROM ${own(`${APP}_responses`)} WHERE installation_id = ? ORDER BY id`,
        [installation.id],
      );
      expect(
        stored.map((r) => [
          String(r.id),
          r.email,
          r.score === null ? null : Number(r.score),
          Boolean(r.backfill),
        ]),
      ).toEqual([
        ['101', 'ann@example.com', 4, false],
        ['102', 'bob@example.com', 2.5, false],
        ['103', 'ann@example.com', null, false],
      ]);
      expect(new Date(stored[0]!.created_at as string).toISOString()).toBe('2024-05-01T10:00:00.000Z');
      if (!pg) expect(stored[0]!.created_at).toBe('2024-05-01T10:00:00.000Z');
      const tags = stored[0]!.merge_tags;
      expect(typeof tags === 'string' ? JSON.parse(tags) : tags).toEqual({ campaign: 'spring' });

      const writesBefore = await auditedWrites();
      const again = await store.writePage(page(installation, runId, rows, { since: '2024-05-01T10:00:00Z' }));
      expect(again).toMatchObject({ inserted: 0, unchanged: 3, insertedKeys: [], newContacts: 0 });
      expect(again.tables).toEqual({
        responses: { inserted: 0, updated: 0, unchanged: 3 },
        forms: { inserted: 0, updated: 0, unchanged: 1 },
        answers: { inserted: 0, updated: 0, unchanged: 3 },
      });
      expect(await auditedWrites()).toEqual(writesBefore);
      expect(await countRows(own(`${APP}_responses`), installation.id)).toBe(3);
      expect(await countRows(own(`${APP}_answers`), installation.id)).toBe(3);
      const prefix = pg ? '' : 'tributary_';
      expect(await store.countRows(installation.id)).toEqual({
        [`${prefix}${APP}_responses`]: 3,
        [`${prefix}${APP}_forms`]: 1,
        [`${prefix}${APP}_answers`]: 3,
        [`${prefix}${APP}_contacts`]: 2,
      });
    });

    it('rewrites a row of an update table only when one of its values changed', async () => {
      const installation = await install();
      await auditAppTables();
      const runId = await store.startRun(installation.id, new Date());
      const write = (forms: Row[]) =>
        store.writePage(page(installation, runId, { responses: [], forms, answers: [] }, { n: 1 }));
      await write([
        { id: 1, name: 'Old name' },
        { id: 2, name: 'Stable' },
      ]);
      const before = await auditedWrites();
      const result = await write([
        { id: 1, name: 'New name' },
        { id: 2, name: 'Stable' },
        { id: 3, name: null },
      ]);
      expect(result.tables.forms).toEqual({ inserted: 1, updated: 1, unchanged: 1 });
      const after = await auditedWrites();
      const formsTable = `${APP}_forms`;
      expect((after[`${formsTable}:UPDATE`] ?? 0) - (before[`${formsTable}:UPDATE`] ?? 0)).toBe(1);
      expect((after[`${formsTable}:INSERT`] ?? 0) - (before[`${formsTable}:INSERT`] ?? 0)).toBe(1);
      const names = await raw.query<{ id: number; name: string | null }>(
        `SELECT id, name FROM ${own(`${APP}_forms`)} WHERE installation_id = ? ORDER BY id`,
        [installation.id],
      );
      expect(names.map((r) => [Number(r.id), r.name])).toEqual([
        [1, 'New name'],
        [2, 'Stable'],
        [3, null],
      ]);
      // NULL compared with NULL is "unchanged" too.
      const third = await write([{ id: 3, name: null }]);
      expect(third.tables.forms).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    });

    it('commits rows and checkpoint together: a failing page changes neither', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      await store.writePage(
        page(installation, runId, { responses: [response(201, 'dee@example.com')] }, { since: 'first' }),
      );
      const failing = page(
        installation,
        runId,
        {
          responses: [response(202, 'eve@example.com'), response(203, 'fay@example.com')],
          forms: [{ id: 9, name: 'Form' }],
          // The last table of the page breaks a NOT NULL key, after the others were written.
          answers: [{ response_id: 202, question_index: null, value: 'x' }],
        },
        { since: 'second' },
        [{ sourceId: '204', reason: 'invalid e-mail', raw: { id: 204 } }],
      );
      const attempt = store.writePage(failing);
      await expect(attempt).rejects.toBeInstanceOf(StorageError);
      await expect(attempt).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
      expect(await store.readCheckpoint(installation.id, 'form_responses')).toEqual({ since: 'first' });
      expect(await countRows(own(`${APP}_responses`), installation.id)).toBe(1);
      expect(await countRows(own(`${APP}_forms`), installation.id)).toBe(0);
      expect(await countRows(own(`${APP}_contacts`), installation.id)).toBe(1);
      expect(await countRows(own('rejected_records'), installation.id)).toBe(0);
    });

    it('refuses a value its column cannot hold, naming the column', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      const attempt = store.writePage(
        page(
          installation,
          runId,
          { responses: [{ ...response(301, 'x@example.com'), form_id: 'seven' }] },
          { n: 1 },
        ),
      );
      await expect(attempt).rejects.toMatchObject({
        code: 'STORE_VALUE_INVALID',
        message: expect.stringContaining('responses.form_id'),
      });
      expect(await store.readCheckpoint(installation.id, 'form_responses')).toBeNull();
    });

    it('stores rejected records with their reasons, and checkpoints as JSON', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      expect(await store.readCheckpoint(installation.id, 'form_responses')).toBeNull();
      await store.writePage(
        page(
          installation,
          runId,
          { responses: [response(401, 'gus@example.com')] },
          { since: '2024-05-01', page: 0 },
          [
            {
              sourceId: '402',
              reason: 'created_at is not a date',
              raw: { id: 402, created_at: 'yesterday' },
            },
            { reason: 'no id', raw: { email: 'x' } },
          ],
        ),
      );
      expect(await store.readCheckpoint(installation.id, 'form_responses')).toEqual({
        since: '2024-05-01',
        page: 0,
      });
      await store.writePage(page(installation, runId, {}, 'a plain string checkpoint'));
      expect(await store.readCheckpoint(installation.id, 'form_responses')).toBe('a plain string checkpoint');
      const rejected = await raw.query<{
        source_id: string | null;
        reason: string;
        raw: unknown;
        run_id: string;
      }>(
        `SELECT source_id, reason, raw, run_id FROM ${own('rejected_records')} WHERE installation_id = ? ORDER BY id`,
        [installation.id],
      );
      expect(
        rejected.map((r) => [
          r.source_id,
          r.reason,
          typeof r.raw === 'string' ? JSON.parse(r.raw) : r.raw,
          r.run_id,
        ]),
      ).toEqual([
        ['402', 'created_at is not a date', { id: 402, created_at: 'yesterday' }, runId],
        [null, 'no id', { email: 'x' }, runId],
      ]);
    });

    it('sets a record aside once, however often the look-back reads it again', async () => {
      const installation = await install();
      const bad = { sourceId: '502', reason: 'created_at is not a date', raw: { id: 502 } };
      const first = await store.startRun(installation.id, new Date());
      const firstWrite = await store.writePage(page(installation, first, {}, { n: 1 }, [bad, { ...bad }]));
      expect(firstWrite.rejected).toBe(1);
      // The next run reads it again: known, not logged twice. Changed for the worse, it is news.
      const second = await store.startRun(installation.id, new Date());
      const secondWrite = await store.writePage(
        page(installation, second, {}, { n: 2 }, [
          bad,
          { sourceId: '502', reason: 'id is not a number', raw: { id: 'x' } },
          { reason: 'no id', raw: {} },
          { reason: 'no id', raw: {} },
        ]),
      );
      expect(secondWrite.rejected).toBe(3);
      const rows = await raw.query<{ source_id: string | null; reason: string; run_id: string }>(
        `SELECT source_id, reason, run_id FROM ${own('rejected_records')} WHERE installation_id = ? ORDER BY id`,
        [installation.id],
      );
      expect(rows.map((r) => [r.source_id, r.reason, r.run_id])).toEqual([
        ['502', 'created_at is not a date', first],
        ['502', 'id is not a number', second],
        // Without an id a record cannot be recognized: each one is kept.
        [null, 'no id', second],
        [null, 'no id', second],
      ]);
    });

    it('does not stop on NUL characters (PostgreSQL cannot store them and drops them)', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      await store.writePage(
        page(
          installation,
          runId,
          {
            responses: [
              { ...response(1101, 'nul@example.com'), merge_tags: JSON.stringify({ note: 'a\u0000b' }) },
            ],
            answers: [{ response_id: 1101, question_index: '1', value: 'a\u0000b' }],
          },
          { n: 1 },
          [{ sourceId: '1102', reason: 'bad', raw: { v: 'x\u0000y' } }],
        ),
      );
      const [answer] = await raw.query<{ value: string }>(
        `SELECT value FROM ${own(`${APP}_answers`)} WHERE installation_id = ?`,
        [installation.id],
      );
      expect(answer!.value).toBe(pg ? 'ab' : 'a\u0000b');
      expect(await countRows(own('rejected_records'), installation.id)).toBe(1);
    });

    it('fills the contacts table once per normalized e-mail', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      const first = await store.writePage(
        page(
          installation,
          runId,
          {
            responses: [
              response(501, ' Hal@Example.com'),
              response(502, 'hal@example.com'),
              response(503, ''),
            ],
          },
          { n: 1 },
        ),
      );
      expect(first.newContacts).toBe(1);
      const contacts = async () =>
        raw.query<{ email_normalized: string; contact_id: string }>(
          `SELECT email_normalized, contact_id FROM ${own(`${APP}_contacts`)} WHERE installation_id = ? ORDER BY email_normalized`,
          [installation.id],
        );
      const before = await contacts();
      expect(before.map((c) => c.email_normalized)).toEqual(['hal@example.com']);
      const second = await store.writePage(
        page(
          installation,
          runId,
          { responses: [response(504, 'HAL@example.com'), response(505, 'ivy@example.com')] },
          { n: 2 },
        ),
      );
      expect(second.newContacts).toBe(1);
      const after = await contacts();
      expect(after.map((c) => c.email_normalized)).toEqual(['hal@example.com', 'ivy@example.com']);
      expect(after[0]!.contact_id).toBe(before[0]!.contact_id);

      // Each response carries the contact id of its e-mail, whether the contact is new or known.
      const carried = await raw.query<{ id: number | string; contact_id: string | null }>(
        `SELECT id, contact_id FROM ${own(`${APP}_responses`)} WHERE installation_id = ? ORDER BY id`,
        [installation.id],
      );
      const [hal, ivy] = after.map((c) => c.contact_id);
      expect(carried.map((r) => [Number(r.id), r.contact_id])).toEqual([
        [501, hal],
        [502, hal],
        [503, null],
        [504, hal],
        [505, ivy],
      ]);
    });

    it('remembers the contact ids of committed pages instead of inserting or looking them up again', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      await store.writePage(page(installation, runId, { responses: [response(701, 'known@example.com')] }, { n: 1 }));
      const contacts = () =>
        raw.query<{ contact_id: string }>(`SELECT contact_id FROM ${own(`${APP}_contacts`)} WHERE installation_id = ?`, [installation.id]);
      const [first] = await contacts();
      // Behind the store's back (never done by Tributary while an installation is active): the
      // next page neither re-creates the contact nor looks it up, it knows the id.
      await raw.query(`DELETE FROM ${own(`${APP}_contacts`)} WHERE installation_id = ?`, [installation.id]);
      const second = await store.writePage(page(installation, runId, { responses: [response(702, 'Known@example.com ')] }, { n: 2 }));
      expect(second.newContacts).toBe(0);
      expect(await contacts()).toEqual([]);
      const rows = await raw.query<{ contact_id: string }>(
        `SELECT contact_id FROM ${own(`${APP}_responses`)} WHERE installation_id = ? ORDER BY id`,
        [installation.id],
      );
      expect(rows.map((r) => r.contact_id)).toEqual([first!.contact_id, first!.contact_id]);
    });

    it('never reuses the contact id of a page that rolled back', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      // The responses (and their contact) are written before the answers fail: all of it rolls back.
      const failing = store.writePage(
        page(
          installation,
          runId,
          {
            responses: [response(601, 'undo@example.com')],
            answers: [{ response_id: 'not a number', question_index: '1', value: 'x' }],
          },
          { n: 1 },
        ),
      );
      await expect(failing).rejects.toThrow();
      expect(await countRows(own(`${APP}_contacts`), installation.id)).toBe(0);
      expect(await countRows(own(`${APP}_responses`), installation.id)).toBe(0);
      const again = await store.writePage(page(installation, runId, { responses: [response(602, 'undo@example.com')] }, { n: 2 }));
      expect(again.newContacts).toBe(1);
      const [contact] = await raw.query<{ contact_id: string }>(
        `SELECT contact_id FROM ${own(`${APP}_contacts`)} WHERE installation_id = ?`,
        [installation.id],
      );
      const [row] = await raw.query<{ contact_id: string }>(`SELECT contact_id FROM ${own(`${APP}_responses`)} WHERE installation_id = ?`, [
        installation.id,
      ]);
      expect(row!.contact_id).toBe(contact!.contact_id);
    });

    it('writes many rows in one page, beyond one statement', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      const responses = Array.from({ length: 6_000 }, (_, i) =>
        response(10_000 + i, `bulk${i % 50}@example.com`),
      );
      const result = await store.writePage(page(installation, runId, { responses }, { n: 1 }));
      expect(result).toMatchObject({ inserted: 6_000, unchanged: 0, newContacts: 50 });
      expect(new Set(result.insertedKeys).size).toBe(6_000);
      const [ids] = await raw.query<{ rows: number | string; contacts: number | string }>(
        `SELECT count(contact_id) AS rows, count(DISTINCT contact_id) AS contacts FROM ${own(`${APP}_responses`)} WHERE installation_id = ?`,
        [installation.id],
      );
      expect([Number(ids!.rows), Number(ids!.contacts)]).toEqual([6_000, 50]);
      expect(await countRows(own(`${APP}_responses`), installation.id)).toBe(6_000);
    });

    it('keeps concurrent writes of several installations apart', async () => {
      const installations = await Promise.all([install(), install(), install()]);
      const runs = await Promise.all(installations.map((i) => store.startRun(i.id, new Date())));
      const results = await Promise.all(
        installations.flatMap((installation, n) =>
          [0, 1].map((p) =>
            store.writePage(
              page(
                installation,
                runs[n]!,
                { responses: [response(600 + p, `c${p}@example.com`)] },
                { page: p },
              ),
            ),
          ),
        ),
      );
      expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(6);
      for (const installation of installations)
        expect(await countRows(own(`${APP}_responses`), installation.id)).toBe(2);
    });

    it.runIf(pg)('makes a second writer of the same installation wait for the first', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      const other = await openRawDatabase(database);
      try {
        // Another worker holds the installation's lock inside its transaction.
        await other.query('BEGIN');
        await other.query('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [
          `tributary:tributary:installation:${installation.id}`,
        ]);
        let settled = false;
        const pending = store.writePage(
          page(installation, runId, { responses: [response(701, 'lock@example.com')] }, { n: 1 }),
        );
        void pending.finally(() => (settled = true)).catch(() => undefined);
        let waiting = 0;
        for (let attempt = 0; attempt < 400 && waiting === 0; attempt++) {
          // Only this installation's lock in this database: other test files share the server.
          const rows = await raw.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_locks
              WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(?, 0)`,
            [`tributary:tributary:installation:${installation.id}`],
          );
          waiting = Number(rows[0]!.n);
          if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(waiting).toBe(1);
        expect(settled).toBe(false);
        await other.query('COMMIT');
        await expect(pending).resolves.toMatchObject({ inserted: 1 });
      } finally {
        await other.close();
      }
    });

    it('refuses pages of an uninstalled app, and a purge deletes what it collected', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      await store.writePage(
        page(
          installation,
          runId,
          { responses: [response(801, 'jo@example.com')], forms: [{ id: 1, name: 'F' }] },
          { n: 1 },
          [{ sourceId: '802', reason: 'bad', raw: {} }],
        ),
      );
      await store.finishRun(
        runId,
        {
          status: 'succeeded',
          fetched: 2,
          inserted: 1,
          unchanged: 0,
          rejected: 1,
          saved: [{ key: '801', contact: 'jo@example.com', fields: { score: 4 } }],
          warnings: [],
        },
        new Date(),
      );
      await store.uninstall(installation.id, { purge: true, at: new Date() });
      await expect(
        store.writePage(page(installation, runId, { responses: [response(803, 'x@example.com')] }, { n: 2 })),
      ).rejects.toMatchObject({
        code: 'INSTALLATION_NOT_ACTIVE',
      });
      for (const table of ['responses', 'forms', 'answers', 'contacts'])
        expect(await countRows(own(`${APP}_${table}`), installation.id)).toBe(0);
      expect(await countRows(own('rejected_records'), installation.id)).toBe(0);
      expect(await countRows(own('installation_secrets'), installation.id)).toBe(0);
      expect(await store.readCheckpoint(installation.id, 'form_responses')).toBeNull();
      const [run] = await store.listRuns({ workspace: installation.workspace, limit: 5 });
      expect(run).toMatchObject({ id: runId, inserted: 1, saved: [], rejectedRecords: [] });
      const uninstalled = await store.getInstallation(installation.id);
      expect(uninstalled).toMatchObject({ status: 'uninstalled', config: { projectKey: 'company.com' } });
      expect(uninstalled!.uninstalledAt).toBeInstanceOf(Date);
      expect(await store.findInstallation(installation.workspace, APP)).toBeUndefined();
    });
  });

  describe('query', () => {
    it('runs bound read-only statements for the profile engine and refuses writes', async () => {
      const installation = await install();
      const runId = await store.startRun(installation.id, new Date());
      await store.writePage(
        page(installation, runId, { responses: [response(1201, 'q@example.com')] }, { n: 1 }),
      );
      const responses = store.appTable(APP, 'responses');
      expect(responses).toBe(pg ? `"tributary"."${APP}_responses"` : `"tributary_${APP}_responses"`);
      const p = pg ? '$1' : '?';
      const rows = await store.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM ${responses} WHERE installation_id = ${p}`,
        [installation.id],
      );
      expect(Number(rows[0]!.n)).toBe(1);
      await expect(
        store.query(`DELETE FROM ${responses} WHERE installation_id = ${p}`, [installation.id]),
      ).rejects.toBeInstanceOf(StorageError);
      expect(await countRows(own(`${APP}_responses`), installation.id)).toBe(1);
      // The connection takes writes again afterwards.
      await expect(
        store.writePage(
          page(installation, runId, { responses: [response(1202, 'q@example.com')] }, { n: 2 }),
        ),
      ).resolves.toMatchObject({ inserted: 1 });
    });
  });

  describe('runs', () => {
    it('lists runs newest first, with their rejected records', async () => {
      const installation = await install();
      const other = await install({ workspace: installation.workspace, app: 'otherapp' });
      const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute));
      const oldest = await store.startRun(installation.id, at(0));
      const middle = await store.startRun(installation.id, at(10));
      const newest = await store.startRun(installation.id, at(20));
      const otherRun = await store.startRun(other.id, at(5));
      await store.writePage(
        page(installation, middle, { responses: [response(901, 'kim@example.com')] }, { n: 1 }, [
          { sourceId: '902', reason: 'no e-mail', raw: { id: 902 } },
        ]),
      );
      await store.finishRun(
        middle,
        {
          status: 'failed',
          fetched: 2,
          inserted: 1,
          unchanged: 0,
          rejected: 1,
          saved: [{ key: '901', contact: 'kim@example.com', label: 'NPS', fields: { score: 5, comment: 'Lovely' } }],
          error: 'CloseAlert answered 429 three times',
          errorCode: 'SOURCE_RATE_LIMITED',
          warnings: ['The API token expires in 6 days'],
        },
        at(11),
      );

      const runs = await store.listRuns({ workspace: installation.workspace, limit: 10 });
      expect(runs.map((r) => r.id)).toEqual([newest, middle, otherRun, oldest]);
      expect(runs[1]).toEqual({
        id: middle,
        installationId: installation.id,
        workspace: installation.workspace,
        app: APP,
        startedAt: at(10),
        finishedAt: at(11),
        status: 'failed',
        fetched: 2,
        inserted: 1,
        unchanged: 0,
        rejected: 1,
        saved: [{ key: '901', contact: 'kim@example.com', label: 'NPS', fields: { score: 5, comment: 'Lovely' } }],
        savedTotal: 1,
        error: 'CloseAlert answered 429 three times',
        errorCode: 'SOURCE_RATE_LIMITED',
        warnings: ['The API token expires in 6 days'],
        rejectedRecords: [{ sourceId: '902', reason: 'no e-mail' }],
      });
      expect(runs[0]).toMatchObject({
        status: 'running',
        finishedAt: null,
        saved: [],
        warnings: [],
        rejectedRecords: [],
      });
      expect(
        (await store.listRuns({ workspace: installation.workspace, app: APP, limit: 2 })).map((r) => r.id),
      ).toEqual([newest, middle]);
      expect(
        (await store.listRuns({ workspace: installation.workspace, app: 'otherapp', limit: 10 })).map(
          (r) => r.id,
        ),
      ).toEqual([otherRun]);
      expect(await store.listRuns({ workspace: 'no such workspace', limit: 10 })).toEqual([]);
      // The records a run set aside, with the raw record, a page at a time.
      const rejectedPage = await store.listRejectedRecords(middle, { limit: 10 });
      expect(rejectedPage).toMatchObject({ runId: middle, total: 1, records: [{ sourceId: '902', reason: 'no e-mail', raw: { id: 902 } }] });
      expect(rejectedPage!.next).toBeUndefined();
      expect(await store.listRejectedRecords(middle, { after: rejectedPage!.records[0]!.seq, limit: 10 })).toMatchObject({ total: 1, records: [] });
      expect(await store.listRejectedRecords(newest, { limit: 10 })).toEqual({ runId: newest, total: 0, records: [] });
      expect(await store.listRejectedRecords('00000000-0000-4000-8000-000000000000', { limit: 10 })).toBeUndefined();

      // The run log's filters: by status, and by start (from included, before excluded).
      const ws = installation.workspace;
      expect((await store.listRuns({ workspace: ws, status: 'failed', limit: 10 })).map((r) => r.id)).toEqual([middle]);
      expect(
        (await store.listRuns({ workspace: ws, startedFrom: at(5), startedBefore: at(20), limit: 10 })).map((r) => r.id),
      ).toEqual([middle, otherRun]);
      expect(
        (await store.listRuns({ workspace: ws, status: 'running', startedFrom: at(10), limit: 10 })).map((r) => r.id),
      ).toEqual([newest]);

      // The newest run of each installation, in the order asked, for any number of them at once.
      const never = await install({ workspace: installation.workspace, app: 'neverran' });
      const latest = await store.latestRuns([other.id, never.id, installation.id, 'not-an-id']);
      expect(latest.map((r) => [r.installationId, r.id])).toEqual([
        [other.id, otherRun],
        [installation.id, newest],
      ]);
      const sameStart = await store.startRun(other.id, at(5));
      expect((await store.latestRuns([other.id]))[0]?.id).toBe([otherRun, sameStart].sort().at(-1));
      expect((await store.latestRuns([installation.id])).map((r) => r.rejectedRecords)).toEqual([[]]);
      expect(await store.latestRuns([])).toEqual([]);
      await expect(
        store.finishRun(
          '00000000-0000-4000-8000-000000000000',
          {
            status: 'succeeded',
            fetched: 0,
            inserted: 0,
            unchanged: 0,
            rejected: 0,
            saved: [],
            warnings: [],
          },
          new Date(),
        ),
      ).rejects.toMatchObject({
        code: 'RUN_NOT_FOUND',
      });
    });
  });

  describe("the user's own tables", () => {
    it('come out of install, writes, changes and uninstall byte-identical', async () => {
      const before = await dumpUserTables();
      const link = { table: pg ? 'public.customers' : 'customers', emailColumn: 'email', idColumn: 'id' };
      const installation = await install({ customerTable: link });
      expect(installation.customerTable).toEqual(link);
      const runId = await store.startRun(installation.id, new Date());
      await store.writePage(
        page(
          installation,
          runId,
          {
            responses: [response(1001, 'ann@example.com'), response(1002, 'bob@example.com')],
            forms: [{ id: 1, name: 'F' }],
          },
          { n: 1 },
        ),
      );
      await store.updateInstallation(installation.id, { customerTable: { ...link, emailColumn: 'email' } });
      await store.uninstall(installation.id, { purge: true, at: new Date() });
      expect(await dumpUserTables()).toBe(before);
      // Nothing Tributary created landed next to them.
      const stray = pg
        ? await raw.query(
            `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT IN ('customers', 'newsletter', 'write_audit')`,
          )
        : await raw.query(
            // sqlite_sequence is SQLite's own bookkeeping (TypeORM's migrations table uses AUTOINCREMENT).
            `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'tributary\\_%' ESCAPE '\\'
               AND name NOT IN ('customers', 'newsletter', 'write_audit', 'sqlite_sequence')`,
          );
      expect(stray).toEqual([]);
    });
  });
});
