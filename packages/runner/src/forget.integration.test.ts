import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxFormResponse } from '@tributary/closealert-sandbox';
import { createCloseAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition, Installation } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { runSync } from './run-sync.js';

// The right to erasure end to end, on both databases: a person synced from the CloseAlert sandbox
// (several responses, their address in varying case and spacing, in merge tags, in another
// person's comment, in a rejected record, in a profile's members and history) is found, then
// forgotten; a dump of every table holds no trace of them; a later sync that meets them again
// stores nothing of them until the operator lifts the erasure.

const databases = await testDatabases('forget');
const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00Z');
const PERSON = 'ann.forget@example.com';

const connector = createCloseAlertConnector({
  client: { backoffBaseMs: 1, backoffMaxMs: 2, maxAttempts: 3, requestTimeoutMs: 2_000, rateLimitWaitMs: 5 },
}) as unknown as ConnectorDefinition;

function sandboxTime(at: Date): string {
  return at.toISOString().slice(0, 19);
}

/** Every row of every table Tributary's database holds, as lower-cased text without whitespace. */
async function dump(store: TypeOrmStore): Promise<string> {
  const tables =
    store.dialect === 'postgres'
      ? await store.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`,
          [store.naming.schema],
        )
      : await store.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`);
  expect(tables.length).toBeGreaterThan(15);
  const parts: string[] = [];
  for (const { name } of tables) {
    const table = store.dialect === 'postgres' ? `"${store.naming.schema}"."${name}"` : `"${name}"`;
    const rows = await store.query(`SELECT * FROM ${table}`);
    parts.push(`${name}:${JSON.stringify(rows)}`);
  }
  return parts.join('\n').replace(/\s+/gu, '').toLowerCase();
}

describe.each(databases)('forgetting a customer on $dialect', (db) => {
  let sandbox: Sandbox;
  let store: TypeOrmStore;
  let installation: Installation;
  let clock = NOW;
  const now = () => clock;
  const p = (n: number) => (db.dialect === 'postgres' ? `$${n}` : '?');

  /** A copy of a generated response with another id, time and e-mail. */
  function responseOf(id: number, email: string, at: Date, comment?: string): SandboxFormResponse {
    const template = sandbox.responses()[0]!;
    const answers = template.answers.map((a) => ({ ...a }));
    if (comment !== undefined) answers.push({ question: 'Anything else?', question_type: 'comment', answer_type: null, question_index: '99', response_value: comment });
    return { ...structuredClone(template), id, email, created_at: sandboxTime(at), merge_tags: { contact: email.trim() }, answers };
  }

  const stored = async (email: string) =>
    (
      await store.query<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM ${store.appTable('closealert', 'form_responses')} WHERE installation_id = ${p(1)} AND email_normalized = ${p(2)}`,
        [installation.id, email],
      )
    ).map((r) => Number(r.n))[0];

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 200, spanDays: 20, seed: 16, now });
    sandbox.addResponses([
      responseOf(900_001, ' Ann.Forget@Example.COM ', new Date(NOW.getTime() - 3 * DAY)),
      responseOf(900_002, PERSON, new Date(NOW.getTime() - 2 * DAY), 'Loved it'),
      responseOf(900_003, 'bob.stays@example.com', new Date(NOW.getTime() - DAY), 'Ask ANN.FORGET@example.com, she knows'),
    ]);
    store = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    await store.migrate();
    installation = await store.install({
      workspace: 'acme',
      app: 'closealert',
      config: connector.configSchema.parse({ projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url, backfillDays: 30, pageSize: 100 }),
      secretFields: connector.secrets,
      mappings: [...connector.defaultMappings],
      dataModel: connector.dataModel,
    });
    const first = await runSync({ store, connector, installation, now });
    expect(first.status, first.error).toBe('succeeded');
    // A record set aside with the address in its raw copy, as a source's malformed record would be.
    const checkpoint = await store.readCheckpoint(installation.id, 'form_responses');
    const runId = await store.startRun(installation.id, NOW);
    await store.writePage({
      installationId: installation.id,
      runId,
      stream: 'form_responses',
      rows: {},
      rejected: [{ sourceId: '900004', reason: 'created_at: invalid', raw: { id: 900_004, email: 'ANN.forget@example.com', created_at: 'soon' } }],
      checkpoint,
    });
    await store.finishRun(runId, { status: 'succeeded', fetched: 1, inserted: 0, unchanged: 0, rejected: 1, saved: [], warnings: [] }, NOW);
    await store.createProfile('acme', { name: 'Recent', match: { type: 'responded', withinDays: 30 } });
    await store.evaluateProfile('acme', 'Recent', { now: NOW });
    // A file drop hears the profile: its activation batch names every member, the person included.
    await store.addDestination({ workspace: 'acme', name: 'drop', type: 'file', kind: 'push', snapshot: true, config: { directory: '/tmp/forget-drop', format: 'jsonl' }, secretFields: [] }, NOW);
    await store.activateProfile('acme', 'Recent', 'drop', NOW);
  });
  afterAll(async () => {
    await store?.close();
    await sandbox?.close();
  });

  it('finds everything held about the person, whatever the case and spacing asked for', async () => {
    const report = await store.findCustomer('  ANN.Forget@example.com', { workspace: 'acme' });
    expect(report.email).toBe(PERSON);
    const [app] = report.apps;
    expect(app?.app).toBe('closealert');
    expect(app?.records.map((r) => String(r.row['response_id'])).sort()).toEqual(['900001', '900002']);
    expect(app?.records.every((r) => (r.linked['answers']?.length ?? 0) > 0)).toBe(true);
    expect(app?.records.every((r) => typeof r.row['raw'] === 'object')).toBe(true);
    expect(app?.contacts).toHaveLength(1);
    expect(app?.runLog.map((l) => l.line.key).sort()).toEqual(expect.arrayContaining(['900001', '900002']));
    expect(app?.rejected.map((r) => r.sourceId)).toEqual(['900004']);
    expect(report.profiles).toEqual([expect.objectContaining({ workspace: 'acme', profile: 'Recent', memberSince: NOW })]);
    expect(report.profiles[0]?.history).toEqual([{ evaluatedAt: NOW, change: 'entered' }]);
    expect(report.suppressedBy).toEqual([]);
    expect(await dump(store)).toContain(PERSON);
  });

  it('erases every trace of the address in one transaction and writes a receipt without it', async () => {
    const { receipt, alreadyForgotten, erased } = await store.forgetCustomer('Ann.Forget@Example.com ', { workspace: 'acme', actor: 'dpo@company.com', at: NOW });
    expect(alreadyForgotten).toBe(false);
    expect(erased).toEqual(receipt.counts);
    expect(receipt.workspace).toBe('acme');
    expect(receipt.counts).toMatchObject({ 'closealert.form_responses': 2, 'closealert.contacts': 1, 'rejected records': 1, 'profile memberships': 1, 'profile history': 1 });
    expect(receipt.counts['closealert.answers']).toBeGreaterThan(0);
    expect(receipt.counts['anonymised values']).toBeGreaterThan(0);
    expect(receipt.counts).toMatchObject({ 'delivery batches': 1, 'departures queued': 1 });
    // The destination hears that the person left; until that batch is sent it is the one place that names them.
    const deliveries = await store.listDeliveries({ workspace: 'acme', limit: 10 });
    expect(deliveries.map((d) => [d.reason, d.status])).toEqual([
      ['forget', 'pending'],
      ['activation', 'pending'],
    ]);
    const sent: unknown[] = [];
    for (let claimed = await store.claimDeliveries({ now: NOW, limit: 10, leaseMs: 60_000 }); claimed.length > 0; claimed = await store.claimDeliveries({ now: NOW, limit: 10, leaseMs: 60_000 })) {
      for (const { record, batch } of claimed) {
        sent.push(batch);
        await store.finishDelivery(record.id, { status: 'delivered' }, NOW);
      }
    }
    expect(sent).toEqual([
      expect.objectContaining({ reason: 'activation', changes: expect.not.arrayContaining([expect.objectContaining({ email: PERSON })]) }),
      expect.objectContaining({ reason: 'forget', changes: [{ email: PERSON, change: 'left' }] }),
    ]);
    expect(JSON.stringify(sent[0])).not.toContain(PERSON);
    const text = await dump(store);
    expect(text).not.toContain(PERSON);
    expect(text).toContain('bob.stays@example.com');
    expect(await stored('bob.stays@example.com')).toBe(1);
    const report = await store.findCustomer(PERSON, {});
    expect(report.apps).toEqual([]);
    expect(report.profiles).toEqual([]);
    expect(report.suppressedBy.map((r) => r.id)).toEqual([receipt.id]);
  });

  it('reuses the standing receipt when the same address is forgotten again in the same scope', async () => {
    const [first] = await store.listErasureReceipts();
    const again = await store.forgetCustomer(' ANN.forget@example.COM', { workspace: 'acme', actor: 'dpo2@company.com', at: new Date(NOW.getTime() + 60_000) });
    expect(again.alreadyForgotten).toBe(true);
    expect(again.erased).toEqual({});
    // The first erasure's receipt, unchanged: one receipt per address and scope, so that lifting it lets the person back.
    expect(again.receipt).toEqual(first);
    expect(await store.listErasureReceipts()).toEqual([first]);
    expect((await store.findCustomer(PERSON, { workspace: 'acme' })).suppressedBy.map((r) => r.id)).toEqual([first!.id]);
  });

  it('keeps a later sync from storing the person again, even in rejected records, and counts them', async () => {
    clock = new Date(NOW.getTime() + 2 * 3_600_000);
    sandbox.addResponses([
      responseOf(900_010, 'ann.FORGET@example.com', new Date(NOW.getTime() + 3_600_000), 'Me again'),
      responseOf(900_011, 'carl.new@example.com', new Date(NOW.getTime() + 3_600_000)),
    ]);
    const checkpoint = await store.readCheckpoint(installation.id, 'form_responses');
    const result = await runSync({ store, connector, installation, now });
    expect(result.status, result.error).toBe('succeeded');
    expect(result.suppressed).toBe(1);
    expect(result.inserted).toBe(1);
    expect(result.fetched).toBe(result.inserted + result.unchanged + result.rejected + (result.duplicates ?? 0) + (result.suppressed ?? 0));
    expect(await stored('carl.new@example.com')).toBe(1);
    const runId = await store.startRun(installation.id, clock);
    const page = await store.writePage({
      installationId: installation.id,
      runId,
      stream: 'form_responses',
      rows: {},
      rejected: [{ sourceId: '900012', reason: 'created_at: invalid', raw: { email: ' Ann.Forget@example.com' } }],
      checkpoint: (await store.readCheckpoint(installation.id, 'form_responses')) ?? checkpoint,
    });
    expect(page).toMatchObject({ rejected: 0, suppressedRejected: 1 });
    await store.finishRun(runId, { status: 'succeeded', fetched: 1, inserted: 0, unchanged: 0, rejected: 0, saved: [], warnings: [] }, clock);
    await store.evaluateProfile('acme', 'Recent', { now: clock });
    expect(await dump(store)).not.toContain(PERSON);
    const [run] = await store.listRuns({ workspace: 'acme', limit: 2 }).then((runs) => runs.filter((r) => r.id === result.runId));
    expect(run?.suppressed).toBe(1);
  });

  it('stores the person again once the operator lifts the erasure', async () => {
    const [receipt] = await store.listErasureReceipts();
    const lifted = await store.liftErasure(receipt!.id, { actor: 'dpo@company.com', at: clock });
    expect(lifted.liftedAt).toEqual(clock);
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    sandbox.addResponses([responseOf(900_020, PERSON, new Date(clock.getTime() - 3_600_000))]);
    const result = await runSync({ store, connector, installation, now });
    expect(result.status, result.error).toBe('succeeded');
    expect(result.suppressed ?? 0).toBe(0);
    // The look-back reads the response kept out before again: with the erasure lifted, it is stored too.
    expect(await stored(PERSON)).toBeGreaterThanOrEqual(1);
    const ids = await store.query<{ id: string | number }>(
      `SELECT response_id AS id FROM ${store.appTable('closealert', 'form_responses')} WHERE installation_id = ${p(1)} AND email_normalized = ${p(2)}`,
      [installation.id, PERSON],
    );
    expect(ids.map((r) => Number(r.id))).toContain(900_020);
    await expect(store.liftErasure('00000000-0000-4000-8000-000000000000', { at: clock })).rejects.toMatchObject({ code: 'ERASURE_RECEIPT_NOT_FOUND' });
    // A lifted receipt stands no more: forgetting the person again writes a new one.
    const anew = await store.forgetCustomer(PERSON, { workspace: 'acme', at: clock });
    expect(anew.alreadyForgotten).toBe(false);
    expect(anew.receipt.id).not.toBe(receipt!.id);
    expect((await store.listErasureReceipts()).filter((r) => r.liftedAt === undefined).map((r) => r.id)).toEqual([anew.receipt.id]);
  });
});
