import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMappings,
  compileMappings,
  ConfigError,
  dataModelSchema,
  validateMappings,
  type DataModel,
  type Installation,
  type NewInvoice,
} from '@tributary/core';
import { closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from './index.js';
import { openRawDatabase, type RawDatabase } from './test-support/raw-database.js';

// The store's part of the app lifecycle: billing settings and invoices, reading stored rows back and
// rewriting them (remap), uninstalling with and without purge on shared app tables, and moving
// secrets to a new key.

const databases = await testDatabases('store-lifecycle');

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
        { name: 'followed_up', type: 'boolean' },
        { name: 'score', type: 'numeric' },
        { name: 'raw', type: 'json' },
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
    { source: 'followed_up', target: { table: 'responses', column: 'followed_up' }, transform: 'boolean' },
    { source: 'score', target: { table: 'responses', column: 'score' }, transform: 'number' },
    { source: '$record', target: { table: 'responses', column: 'raw' }, transform: 'json' },
    { source: '$record.id', target: { table: 'answers', column: 'response_id' } },
    { source: 'question_index', target: { table: 'answers', column: 'question_index' } },
    { source: 'value', target: { table: 'answers', column: 'value' }, transform: 'string' },
  ],
  model,
);

const row = (id: number, email: string) => ({
  id,
  email,
  created_at: `2024-05-0${1 + (id % 8)}T10:00:00.000Z`,
  followed_up: id % 2 === 0,
  score: id / 2,
  raw: JSON.stringify({ id, email, note: `n${id}` }),
});

// CloseAlert-shaped responses, for the profile tables a purge must empty.
const closeAlertModel = dataModelSchema.parse(closeAlertDataModel);
const closeAlertMappings = validateMappings(closeAlertDefaultMappings, closeAlertModel);
const closeAlertCompiled = compileMappings(closeAlertMappings, closeAlertModel);
const feedback = (id: number, email: string, score: number) => ({
  id,
  created_at: new Date(Date.now() - id * 60_000).toISOString(),
  email,
  followed_up: false,
  merge_tags: {},
  form: { id: 34, form_type: 'nps', name: 'Form 34' },
  mailing: { id: 100, name: 'Newsletter' },
  group: { id: 44, name: 'Newsletters' },
  answers: [{ question: 'How was it?', question_type: 'sentiment', answer_type: null, question_index: '1', response_value: score }],
});

let counter = 0;
const freshWorkspace = () => `ws-${++counter}-${randomBytes(3).toString('hex')}`;

describe.each(databases)('store lifecycle on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let raw: RawDatabase;
  const pg = database.dialect === 'postgres';
  const own = (bare: string) => (pg ? `"tributary"."${bare}"` : `"tributary_${bare}"`);
  const key1 = randomBytes(32);

  const install = (app: string, overrides: Partial<Parameters<TypeOrmStore['install']>[0]> = {}) =>
    store.install({
      workspace: freshWorkspace(),
      app,
      config: { projectKey: 'company.com', apiToken: 'not-a-real-token' },
      secretFields: ['apiToken'],
      mappings,
      dataModel: model,
      ...overrides,
    });

  async function write(installation: Installation, ids: number[]): Promise<void> {
    await store.writePage({
      installationId: installation.id,
      runId: await store.startRun(installation.id, new Date()),
      stream: 'responses',
      rows: {
        responses: ids.map((id) => row(id, `customer${id}@example.com`)),
        answers: ids.map((id) => ({ response_id: id, question_index: '1', value: `v${id}` })),
      },
      rejected: [],
      checkpoint: { last: ids.at(-1) },
    });
  }

  async function tableExists(bare: string): Promise<boolean> {
    const rows = pg
      ? await raw.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = 'tributary' AND table_name = ?`, [bare])
      : await raw.query(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, [`tributary_${bare}`]);
    return rows.length > 0;
  }

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1: key1 }, currentKeyId: 'k1' }) });
    await store.migrate();
    raw = await openRawDatabase(database);
  });

  afterAll(async () => {
    await raw?.close();
    await store?.close();
  });

  describe('billing settings', () => {
    it('default to the monthly plan and keep a chosen plan and PO number', async () => {
      const plain = await install('billa');
      expect(plain.billing).toEqual({ plan: 'monthly' });
      const chosen = await install('billa', { billing: { plan: 'yearly', poNumber: 'PO-4711' } });
      expect(chosen.billing).toEqual({ plan: 'yearly', poNumber: 'PO-4711' });
      expect((await store.getInstallation(chosen.id))?.billing).toEqual({ plan: 'yearly', poNumber: 'PO-4711' });
      const stored = await raw.query<{ billing_plan: string; billing_po: string | null }>(
        `SELECT billing_plan, billing_po FROM ${own('installations')} WHERE id = ?`,
        [chosen.id],
      );
      expect(stored).toEqual([{ billing_plan: 'yearly', billing_po: 'PO-4711' }]);
    });

    it('change with updateInstallation, and refuse a bad plan or PO number without changing anything', async () => {
      const installation = await install('billa');
      const updated = await store.updateInstallation(installation.id, { billing: { plan: 'yearly', poNumber: 'PO-1' } });
      expect(updated.billing).toEqual({ plan: 'yearly', poNumber: 'PO-1' });
      expect((await store.updateInstallation(installation.id, { billing: { plan: 'monthly' } })).billing).toEqual({ plan: 'monthly' });
      await expect(store.updateInstallation(installation.id, { billing: { plan: 'weekly' as 'monthly' } })).rejects.toBeInstanceOf(ConfigError);
      await expect(store.updateInstallation(installation.id, { billing: { plan: 'yearly', poNumber: 'PO\n2' } })).rejects.toBeInstanceOf(ConfigError);
      expect((await store.getInstallation(installation.id))?.billing).toEqual({ plan: 'monthly' });
    });
  });

  describe('invoices', () => {
    const invoice = (installationId: string, start: string, end: string, plan: NewInvoice['plan'] = 'monthly'): NewInvoice => ({
      installationId,
      plan,
      periodStart: new Date(start),
      periodEnd: new Date(end),
      amountMinor: plan === 'monthly' ? 2500 : 25000,
      currency: 'EUR',
      issuedAt: new Date(start),
    });

    it('records each period once, however often it is offered', async () => {
      const installation = await install('inv', { billing: { plan: 'monthly', poNumber: 'PO-9' } });
      const first = await store.recordInvoices([
        { ...invoice(installation.id, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'), poNumber: 'PO-9' },
        invoice(installation.id, '2025-02-01T00:00:00Z', '2025-03-01T00:00:00Z'),
      ]);
      expect(first).toHaveLength(2);
      expect(first[0]).toMatchObject({ installationId: installation.id, workspace: installation.workspace, app: 'inv', amountMinor: 2500, currency: 'EUR', poNumber: 'PO-9' });
      const again = await store.recordInvoices([
        invoice(installation.id, '2025-02-01T00:00:00Z', '2025-03-01T00:00:00Z'),
        invoice(installation.id, '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z'),
      ]);
      expect(again.map((i) => i.periodStart.toISOString())).toEqual(['2025-03-01T00:00:00.000Z']);
      // A period overlapping one already billed (a plan changed by another runner meanwhile) is not billed again.
      expect(await store.recordInvoices([invoice(installation.id, '2025-03-01T00:00:00Z', '2026-03-01T00:00:00Z', 'yearly')])).toEqual([]);
      expect(await store.recordInvoices([invoice(installation.id, '2025-02-15T00:00:00Z', '2025-03-15T00:00:00Z')])).toEqual([]);
      const listed = await store.listInvoices({ installationId: installation.id });
      expect(listed.map((i) => i.periodStart.toISOString())).toEqual([
        '2025-01-01T00:00:00.000Z',
        '2025-02-01T00:00:00.000Z',
        '2025-03-01T00:00:00.000Z',
      ]);
      expect(await store.listInvoices({ workspace: installation.workspace })).toEqual(listed);
      expect(await store.listInvoices({ workspace: 'no-such-workspace' })).toEqual([]);
      const counted = await raw.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${own('invoices')} WHERE installation_id = ?`, [installation.id]);
      expect(Number(counted[0]!.n)).toBe(3);
    });

    it('lists every installation as billing needs it: plan, install and uninstall times, billed until', async () => {
      const billed = await install('acct', { billing: { plan: 'yearly', poNumber: 'PO-3' } });
      await store.recordInvoices([
        invoice(billed.id, '2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'yearly'),
        invoice(billed.id, '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', 'yearly'),
      ]);
      const gone = await install('acct');
      const uninstalledAt = new Date('2025-06-01T00:00:00Z');
      await store.uninstall(gone.id, { purge: false, at: uninstalledAt });
      const accounts = (await store.listBillingAccounts()).filter((a) => a.app === 'acct');
      expect(accounts).toEqual([
        {
          installationId: billed.id,
          workspace: billed.workspace,
          app: 'acct',
          status: 'active',
          installedAt: billed.createdAt,
          billing: { plan: 'yearly', poNumber: 'PO-3' },
          billedUntil: new Date('2027-01-01T00:00:00Z'),
        },
        {
          installationId: gone.id,
          workspace: gone.workspace,
          app: 'acct',
          status: 'uninstalled',
          installedAt: gone.createdAt,
          uninstalledAt,
          billing: { plan: 'monthly' },
        },
      ]);
      // Nothing of the configuration, so no secret, is part of it.
      expect(JSON.stringify(accounts)).not.toContain('config');
    });

    it('keeps a period unique in the database itself', async () => {
      const installation = await install('inv');
      await store.recordInvoices([invoice(installation.id, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z')]);
      await expect(
        raw.query(
          `INSERT INTO ${own('invoices')} (id, installation_id, plan, period_start, period_end, amount_minor, currency, issued_at)
           VALUES (?, ?, 'monthly', ?, '2025-02-01T00:00:00.000Z', 1, 'EUR', '2025-01-01T00:00:00.000Z')`,
          [randomUUID(), installation.id, '2025-01-01T00:00:00.000Z'],
        ),
      ).rejects.toThrow(/unique/i);
    });

    it('refuses a malformed invoice as a bug, recording nothing', async () => {
      const installation = await install('inv');
      await expect(store.recordInvoices([invoice(installation.id, '2025-02-01T00:00:00Z', '2025-01-01T00:00:00Z')])).rejects.toMatchObject({
        code: 'INVOICE_INVALID',
      });
      expect(await store.listInvoices({ installationId: installation.id })).toEqual([]);
    });
  });

  describe('reading and rewriting stored rows', () => {
    it('reads rows in key order a batch at a time, with values as mappings produce them', async () => {
      const installation = await install('remap');
      await write(installation, [5, 3, 9, 1, 7]);
      const seen: number[] = [];
      let after: (string | number | boolean | null)[] | undefined;
      let batches = 0;
      do {
        const batch = await store.readRows(installation.id, { table: 'responses', columns: ['raw', 'created_at', 'followed_up', 'score'], limit: 2, ...(after ? { after } : {}) });
        for (const r of batch.rows) seen.push(r.id as number);
        after = batch.after;
        batches += 1;
      } while (after);
      expect(seen).toEqual([1, 3, 5, 7, 9]);
      expect(batches).toBe(3);
      const [first] = (await store.readRows(installation.id, { table: 'responses', columns: ['raw', 'created_at', 'followed_up', 'score', 'email'], limit: 1 })).rows;
      expect(first).toEqual({
        id: 1,
        raw: expect.any(String),
        created_at: '2024-05-02T10:00:00.000Z',
        followed_up: false,
        score: 0.5,
        email: 'customer1@example.com',
      });
      expect(JSON.parse(first!.raw as string)).toEqual({ id: 1, email: 'customer1@example.com', note: 'n1' });
      const answers = await store.readRows(installation.id, { table: 'answers', columns: ['value'], limit: 10, after: [3, '1'] });
      expect(answers.rows.map((r) => r.response_id)).toEqual([5, 7, 9]);
      expect(answers.after).toBeUndefined();
    });

    it('refuses an unknown table or column, and a wrong key', async () => {
      const installation = await install('remap');
      await expect(store.readRows(installation.id, { table: 'nope', columns: [], limit: 1 })).rejects.toMatchObject({ code: 'TABLE_UNKNOWN' });
      await expect(store.readRows(installation.id, { table: 'responses', columns: ['nope'], limit: 1 })).rejects.toMatchObject({ code: 'COLUMN_UNKNOWN' });
      await expect(store.readRows(installation.id, { table: 'responses', columns: ['x"; DROP TABLE y; --'], limit: 1 })).rejects.toBeInstanceOf(ConfigError);
      await expect(store.readRows(installation.id, { table: 'responses', columns: [], limit: 1, after: [1, 2] })).rejects.toMatchObject({ code: 'ROW_QUERY_INVALID' });
    });

    it('overwrites known rows of every table, the primary one included, and counts what changed', async () => {
      const installation = await install('remap');
      const other = await install('remap');
      await write(installation, [1, 2, 3]);
      await write(other, [1, 2, 3]);
      const result = await store.rewriteRows(installation.id, {
        responses: [
          { ...row(1, 'customer1@example.com'), score: 10 },
          row(2, 'customer2@example.com'),
          { ...row(3, 'new@example.com'), followed_up: null },
        ],
        answers: [{ response_id: 1, question_index: '2', value: 'added' }],
      });
      expect(result.tables.responses).toEqual({ inserted: 0, updated: 2, unchanged: 1 });
      expect(result.tables.answers).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
      expect(result.newContacts).toBe(1);
      const stored = await raw.query<{ id: number | string; score: number | string; email: string; followed_up: unknown }>(
        `SELECT id, score, email, followed_up FROM ${own('remap_responses')} WHERE installation_id = ? ORDER BY id`,
        [installation.id],
      );
      expect(stored.map((r) => [Number(r.id), Number(r.score), r.email, r.followed_up])).toEqual([
        [1, 10, 'customer1@example.com', pg ? false : 0],
        [2, 1, 'customer2@example.com', pg ? true : 1],
        [3, 1.5, 'new@example.com', null],
      ]);
      // Another installation sharing the tables is untouched.
      const theirs = await raw.query<{ email: string }>(`SELECT email FROM ${own('remap_responses')} WHERE installation_id = ? ORDER BY id`, [other.id]);
      expect(theirs.map((r) => r.email)).toEqual(['customer1@example.com', 'customer2@example.com', 'customer3@example.com']);
      // Rewriting the same rows again writes nothing.
      const again = await store.rewriteRows(installation.id, { responses: [{ ...row(1, 'customer1@example.com'), score: 10 }] });
      expect(again.tables.responses).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    });

    it('refuses rows for an uninstalled installation or an undeclared table', async () => {
      const installation = await install('remap');
      await expect(store.rewriteRows(installation.id, { nope: [{ id: 1 }] })).rejects.toMatchObject({ code: 'TABLE_UNKNOWN' });
      await store.uninstall(installation.id, { purge: false, at: new Date() });
      await expect(store.rewriteRows(installation.id, { responses: [row(1, 'a@b.c')] })).rejects.toMatchObject({ code: 'INSTALLATION_NOT_ACTIVE' });
    });
  });

  describe('uninstall', () => {
    it('keeps the data without purge, and with purge removes exactly the installation rows', async () => {
      const keep = await install('unin');
      const purged = await install('unin');
      await write(keep, [1, 2]);
      await write(purged, [1, 2, 3]);
      await store.uninstall(keep.id, { purge: false, at: new Date('2025-06-01T00:00:00Z') });
      const keptCounts = Object.values(await store.countRows(keep.id));
      expect(keptCounts).toEqual([2, 2, 2]);
      expect(await raw.query(`SELECT 1 FROM ${own('installation_secrets')} WHERE installation_id = ?`, [keep.id])).toEqual([]);
      const gone = await store.getInstallation(keep.id);
      expect(gone).toMatchObject({ status: 'uninstalled', uninstalledAt: new Date('2025-06-01T00:00:00Z') });

      await store.uninstall(purged.id, { purge: true, at: new Date() });
      expect(Object.values(await store.countRows(purged.id))).toEqual([0, 0, 0]);
      expect(Object.values(await store.countRows(keep.id))).toEqual([2, 2, 2]);
      // Another installation's kept data needs the shared tables: they stay.
      expect(await tableExists('unin_responses')).toBe(true);
    });

    it('drops the app tables once no installation of the app is active or has rows', async () => {
      const first = await install('gone');
      const second = await install('gone');
      const unrelated = await install('keepme');
      await write(first, [1]);
      await write(second, [2]);
      await write(unrelated, [3]);
      await store.uninstall(first.id, { purge: true, at: new Date() });
      expect(await tableExists('gone_responses')).toBe(true);
      await store.uninstall(second.id, { purge: false, at: new Date() });
      expect(await tableExists('gone_responses')).toBe(true);
      // Purging the data the second one kept leaves nothing that needs the tables.
      await store.uninstall(second.id, { purge: true, at: new Date() });
      for (const table of ['gone_responses', 'gone_answers', 'gone_contacts']) expect(await tableExists(table)).toBe(false);
      const registry = await raw.query(`SELECT table_name FROM ${own('provisioned_tables')} WHERE app = 'gone'`);
      expect(registry).toEqual([]);
      for (const table of ['keepme_responses', 'keepme_answers', 'keepme_contacts']) expect(await tableExists(table)).toBe(true);
      expect(Object.values(await store.countRows(unrelated.id))).toEqual([1, 1, 1]);
      // Installing the app again provisions its tables again.
      const again = await install('gone');
      await write(again, [4]);
      expect(Object.values(await store.countRows(again.id))).toEqual([1, 1, 1]);
    });

    it('never drops the tables while another installation of the app is active', async () => {
      const active = await install('shared');
      const leaving = await install('shared');
      await write(leaving, [1]);
      await store.uninstall(leaving.id, { purge: true, at: new Date() });
      expect(await tableExists('shared_responses')).toBe(true);
      await write(active, [1]);
      expect(Object.values(await store.countRows(active.id))).toEqual([1, 1, 1]);
    });
  });

  describe('purge and reattach', () => {
    const installCloseAlert = (workspace: string, apiToken: string) =>
      store.install({
        workspace,
        app: 'closealert',
        config: { projectKey: 'company.com', apiToken },
        secretFields: ['apiToken'],
        mappings: closeAlertMappings,
        dataModel: closeAlertModel,
      });
    const writeFeedback = async (installation: Installation, records: ReturnType<typeof feedback>[], cursor: string) =>
      store.writePage({
        installationId: installation.id,
        runId: await store.startRun(installation.id, new Date()),
        stream: 'form_responses',
        rows: applyMappings(records, closeAlertCompiled, { backfill: false, timeZone: 'UTC' }),
        rejected: [],
        checkpoint: { cursor },
      });
    /** Every e-mail the profile tables hold (members and membership changes). */
    const profileEmails = async () =>
      [
        ...(await raw.query<{ email_normalized: string }>(`SELECT email_normalized FROM ${own('profile_members')}`)),
        ...(await raw.query<{ email_normalized: string }>(`SELECT email_normalized FROM ${own('profile_membership_changes')}`)),
      ].map((r) => r.email_normalized);

    it('purges the profile memberships and their history with the data, and refuses a second purge with a sentence', async () => {
      const workspace = freshWorkspace();
      const installation = await installCloseAlert(workspace, 'token-a');
      await writeFeedback(installation, [feedback(1, 'purge-ann@example.com', 1), feedback(2, 'purge-bob@example.com', 2)], 'c1');
      await store.createProfile(workspace, { name: 'Unhappy', match: { type: 'score', op: '<', value: 3 } });
      await store.evaluateProfile(workspace, 'Unhappy');
      await writeFeedback(installation, [feedback(3, 'purge-cy@example.com', 1)], 'c2');
      const second = await store.evaluateProfile(workspace, 'Unhappy');
      expect(second.entered).toEqual(['purge-cy@example.com']);
      expect((await profileEmails()).filter((e) => e.startsWith('purge-')).length).toBeGreaterThanOrEqual(6);

      await store.uninstall(installation.id, { purge: true, at: new Date() });
      expect((await profileEmails()).filter((e) => e.startsWith('purge-'))).toEqual([]);
      expect(await raw.query(`SELECT 1 FROM ${own('profile_evaluations')} WHERE installation_id = ?`, [installation.id])).toEqual([]);
      // The profile itself belongs to the workspace and stays, without members.
      expect((await store.getProfile(workspace, 'Unhappy'))?.name).toBe('Unhappy');
      expect((await store.getInstallation(installation.id))?.purgedAt).toBeInstanceOf(Date);

      const again = await store.uninstall(installation.id, { purge: true, at: new Date() }).catch((error: unknown) => error);
      expect(again).toBeInstanceOf(ConfigError);
      expect(again).toMatchObject({ code: 'APP_ALREADY_PURGED' });
      const evaluation = await store.evaluateProfile(workspace, 'Unhappy').catch((error: unknown) => error);
      expect(evaluation).toBeInstanceOf(ConfigError);
      expect(evaluation).toMatchObject({ code: 'APP_DATA_PURGED' });
      expect((evaluation as Error).message).toContain('its data purged');
    });

    it('reattaches the kept data on reinstall: same id, rows, contact ids and checkpoint; not after a purge', async () => {
      const workspace = freshWorkspace();
      const first = await installCloseAlert(workspace, 'token-a');
      await writeFeedback(first, [feedback(11, 'keep-ann@example.com', 4), feedback(12, 'keep-bob@example.com', 5)], 'kept-cursor');
      const counts = await store.countRows(first.id);
      const contacts = () => raw.query(`SELECT email_normalized, contact_id FROM ${own('closealert_contacts')} WHERE installation_id = ? ORDER BY email_normalized`, [first.id]);
      const contactsBefore = await contacts();
      expect(contactsBefore).toHaveLength(2);
      await store.uninstall(first.id, { purge: false, at: new Date() });

      const second = await installCloseAlert(workspace, 'token-b');
      expect(second.id).toBe(first.id);
      expect(second).toMatchObject({ status: 'active', config: { apiToken: 'token-b' } });
      // Billing starts again at the reinstall: the months it was uninstalled are not billed.
      expect(second.createdAt.getTime()).toBeGreaterThan(first.createdAt.getTime());
      expect(second.uninstalledAt).toBeUndefined();
      expect(await store.countRows(second.id)).toEqual(counts);
      expect(await contacts()).toEqual(contactsBefore);
      expect(await store.readCheckpoint(second.id, 'form_responses')).toEqual({ cursor: 'kept-cursor' });
      expect((await store.listInstallations(workspace)).map((i) => i.id)).toEqual([first.id]);

      await store.uninstall(second.id, { purge: true, at: new Date() });
      const third = await installCloseAlert(workspace, 'token-c');
      expect(third.id).not.toBe(first.id);
      expect(await store.readCheckpoint(third.id, 'form_responses')).toBeNull();
    });
  });

  describe('workspace administrators', () => {
    it('lets only administrators install and remove apps; the first operator claims the workspace', async () => {
      const first = await install('adm', { actor: 'alice' });
      const ws = first.workspace;
      expect((await store.listWorkspaceAdmins(ws)).map((a) => [a.user, a.addedBy])).toEqual([['alice', undefined]]);

      // Bob is nobody here: he can neither remove the app nor install another, and nothing changes.
      const refused = store.uninstall(first.id, { purge: true, at: new Date(), actor: 'bob' });
      await expect(refused).rejects.toBeInstanceOf(ConfigError);
      await expect(refused).rejects.toMatchObject({ code: 'NOT_WORKSPACE_ADMIN', message: expect.stringContaining('"alice"') });
      expect((await store.getInstallation(first.id))?.status).toBe('active');
      await expect(install('adm2', { workspace: ws, actor: 'bob' })).rejects.toMatchObject({ code: 'NOT_WORKSPACE_ADMIN' });
      expect((await store.listInstallations(ws)).map((i) => i.app)).toEqual(['adm']);
      await expect(store.addWorkspaceAdmin(ws, 'bob', 'bob')).rejects.toMatchObject({ code: 'NOT_WORKSPACE_ADMIN' });

      // Alice makes him one; then he may, and he may not remove the last administrator.
      await store.addWorkspaceAdmin(ws, ' bob ', 'alice');
      expect((await store.listWorkspaceAdmins(ws)).map((a) => [a.user, a.addedBy])).toEqual([
        ['alice', undefined],
        ['bob', 'alice'],
      ]);
      await install('adm2', { workspace: ws, actor: 'bob' });
      await store.uninstall(first.id, { purge: false, at: new Date(), actor: 'bob' });
      expect((await store.getInstallation(first.id))?.status).toBe('uninstalled');
      await store.removeWorkspaceAdmin(ws, 'alice', 'bob');
      await expect(store.removeWorkspaceAdmin(ws, 'bob', 'bob')).rejects.toMatchObject({ code: 'LAST_WORKSPACE_ADMIN' });
      await expect(store.removeWorkspaceAdmin(ws, 'carol', 'bob')).rejects.toMatchObject({ code: 'NOT_WORKSPACE_ADMIN' });
      await expect(install('adm3', { workspace: ws, actor: 'alice' })).rejects.toMatchObject({ code: 'NOT_WORKSPACE_ADMIN' });
      await expect(store.listWorkspaceAdmins('no such workspace')).rejects.toMatchObject({ code: 'WORKSPACE_NOT_FOUND' });
    });

    it('lets the first operator claim a workspace from before administrators, and refuses a bad name', async () => {
      // Installed by code acting on its own authority (no actor): nobody administers the workspace.
      const unclaimed = await install('adm');
      expect(await store.listWorkspaceAdmins(unclaimed.workspace)).toEqual([]);
      await store.uninstall(unclaimed.id, { purge: false, at: new Date(), actor: 'dora' });
      expect((await store.listWorkspaceAdmins(unclaimed.workspace)).map((a) => a.user)).toEqual(['dora']);
      await expect(install('adm', { actor: 'bad\nname' })).rejects.toBeInstanceOf(ConfigError);
    });
  });

  describe('secret rotation', () => {
    it('seals every secret with the new key in one go, and counts secrets per key', async () => {
      await install('rot', { config: { projectKey: 'x', apiToken: 'rotate-me-1' } });
      const installation = await install('rot', { config: { projectKey: 'x', apiToken: 'rotate-me-2' } });
      const before = await store.secretKeyUsage();
      expect(Object.keys(before)).toEqual(['k1']);
      const key2 = randomBytes(32);
      const rotated = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1: key1, k2: key2 }, currentKeyId: 'k2' }) });
      try {
        const result = await rotated.resealSecrets();
        expect(result).toEqual({ resealed: before.k1, keyId: 'k2' });
        expect(await rotated.secretKeyUsage()).toEqual({ k2: before.k1 });
        expect(await rotated.resealSecrets()).toEqual({ resealed: 0, keyId: 'k2' });
      } finally {
        await rotated.close();
      }
      // Only the new key is needed now.
      const onlyNew = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k2: key2 }, currentKeyId: 'k2' }) });
      try {
        expect((await onlyNew.getInstallation(installation.id))?.config.apiToken).toBe('rotate-me-2');
      } finally {
        await onlyNew.close();
      }
      // A store without the new key cannot re-seal: it fails whole, changing nothing.
      const stale = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k3: randomBytes(32) }, currentKeyId: 'k3' }) });
      try {
        await expect(stale.resealSecrets()).rejects.toMatchObject({ code: 'SECRET_KEY_UNKNOWN' });
        expect(await stale.secretKeyUsage()).toEqual({ k2: before.k1 });
      } finally {
        await stale.close();
      }
    });
  });
});
