import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMappings, compileMappings, dataModelSchema, validateMappings, type Installation } from '@tributary/core';
import { closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from '../index.js';
import { openRawDatabase, type RawDatabase } from '../test-support/raw-database.js';

// Destinations, activations and the outbox on both databases: a recorded evaluation queues its
// batches in its own transaction, claims are exclusive and in order, the view is a suppression list.

const databases = await testDatabases('destinations');

const NOW = new Date('2024-06-20T12:00:00.000Z');
const DAY = 86_400_000;
const SECRET = 'whsec-do-not-leak-0123456789';

const model = dataModelSchema.parse(closeAlertDataModel);
const mappings = validateMappings(closeAlertDefaultMappings, model);
const compiled = compileMappings(mappings, model);

function response(id: number, email: string, daysAgo: number, score: number) {
  return {
    id,
    created_at: new Date(NOW.getTime() - daysAgo * DAY).toISOString(),
    email,
    mail_url: null,
    user_agent: null,
    device_type: null,
    operating_system: null,
    followed_up: false,
    merge_tags: {},
    form: { id: 34, form_type: 'email-satisfaction', name: 'Satisfaction' },
    mailing: { id: 100, name: 'News' },
    group: { id: 44, name: 'Newsletters' },
    answers: [{ question: 'Rate us', question_type: 'sentiment', answer_type: null, question_index: '1', response_value: score }],
  };
}

describe.each(databases)('destinations on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let raw: RawDatabase;
  let installation: Installation;
  const workspace = `dest-${randomBytes(3).toString('hex')}`;
  const profile = 'Unhappy lately';

  const k1 = randomBytes(32);

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1 }, currentKeyId: 'k1' }) });
    await store.migrate();
    raw = await openRawDatabase(database);
    installation = await store.install({
      workspace,
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'not-a-real-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings,
      dataModel: model,
    });
    const runId = await store.startRun(installation.id, NOW);
    await store.writePage({
      installationId: installation.id,
      runId,
      stream: 'form_responses',
      rows: applyMappings([response(1, 'ann@example.com', 2, 1), response(2, 'bob@example.com', 8, 2), response(3, 'cy@example.com', 1, 5)], compiled, { backfill: false, timeZone: 'UTC' }),
      rejected: [],
      checkpoint: { cursor: NOW.toISOString() },
    });
    await store.createProfile(workspace, {
      name: profile,
      match: { all: [{ type: 'responded', withinDays: 10 }, { type: 'score', op: '<', value: 3 }] },
    });
  });

  afterAll(async () => {
    await raw?.close();
    await store?.close();
  });

  it('seals the secret of a destination and lists it without it', async () => {
    await store.addDestination(
      { workspace, name: 'crm', type: 'webhook', kind: 'push', snapshot: false, config: { url: 'http://127.0.0.1:9/hook', secret: SECRET, timeoutMs: 1000 }, secretFields: ['secret'] },
      NOW,
    );
    await expect(
      store.addDestination({ workspace, name: 'crm', type: 'webhook', kind: 'push', snapshot: false, config: {}, secretFields: [] }, NOW),
    ).rejects.toMatchObject({ code: 'DESTINATION_EXISTS' });
    const [listed] = await store.listDestinations(workspace);
    expect(listed).toMatchObject({ name: 'crm', type: 'webhook', secretFields: ['secret'], config: { url: 'http://127.0.0.1:9/hook', timeoutMs: 1000 } });
    expect(listed!.config).not.toHaveProperty('secret');
    expect((await store.getDestination(workspace, 'crm'))!.config.secret).toBe(SECRET);
    const rows = await raw.query<Record<string, unknown>>(`SELECT * FROM ${store.viewName('destinations')}`);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
  });

  it('queues one batch per evaluation that changed something, in the transaction that records it', async () => {
    const activation = await store.activateProfile(workspace, profile, 'crm', NOW);
    expect(activation).toMatchObject({ profile, destination: 'crm' });
    // Nobody is a member before the first recorded evaluation: nothing to announce yet.
    expect(await store.listDeliveries({ workspace, limit: 10 })).toEqual([]);

    const first = await store.evaluateProfile(workspace, profile, { now: NOW });
    expect(first.entered).toEqual(['ann@example.com', 'bob@example.com']);
    const [batch] = await store.listDeliveries({ workspace, limit: 10 });
    expect(batch).toMatchObject({ destination: 'crm', profile, reason: 'evaluation', count: 2, status: 'pending', attempts: 0 });
    const stored = await raw.query<{ evaluation_id: string }>(`SELECT "evaluation_id" FROM ${store.viewName('deliveries')} WHERE "id" = ?`, [batch!.id]);
    expect(stored[0]!.evaluation_id).toBe(first.evaluationId);

    // The same members an hour later: recorded, but nothing to deliver.
    await store.evaluateProfile(workspace, profile, { now: new Date(NOW.getTime() + 3_600_000) });
    expect(await store.listDeliveries({ workspace, limit: 10 })).toHaveLength(1);
  });

  it('claims the oldest batch of a profile and destination only, once, with the secret opened', async () => {
    // Three days on, bob's feedback is older than ten days: he leaves. That batch waits behind the first.
    const later = new Date(NOW.getTime() + 3 * DAY);
    const left = await store.evaluateProfile(workspace, profile, { now: later });
    expect(left.left).toEqual(['bob@example.com']);
    const claimed = await store.claimDeliveries({ now: later, limit: 10, leaseMs: 60_000 });
    expect(claimed).toHaveLength(1);
    expect(claimed[0]!.batch.changes).toEqual([
      { email: 'ann@example.com', change: 'entered' },
      { email: 'bob@example.com', change: 'entered' },
    ]);
    expect(claimed[0]!.batch.id).toBe(claimed[0]!.record.id);
    expect(claimed[0]!.record.attempts).toBe(1);
    expect(claimed[0]!.destination.config.secret).toBe(SECRET);
    // Leased: neither it nor the batch behind it is handed out again.
    expect(await store.claimDeliveries({ now: later, limit: 10, leaseMs: 60_000 })).toEqual([]);

    await store.finishDelivery(claimed[0]!.record.id, { status: 'retry', error: 'HTTP 500', nextAttemptAt: new Date(later.getTime() + 1000) }, later);
    const retried = await store.claimDeliveries({ now: new Date(later.getTime() + 1000), limit: 10, leaseMs: 60_000 });
    expect(retried.map((c) => [c.record.id, c.record.attempts])).toEqual([[claimed[0]!.record.id, 2]]);
    await store.finishDelivery(retried[0]!.record.id, { status: 'delivered' }, later);

    const next = await store.claimDeliveries({ now: new Date(later.getTime() + 2000), limit: 10, leaseMs: 60_000 });
    expect(next.map((c) => c.batch.changes)).toEqual([[{ email: 'bob@example.com', change: 'left' }]]);
    await store.finishDelivery(next[0]!.record.id, { status: 'dead', error: 'HTTP 410' }, later);
    const statuses = (await store.listDeliveries({ workspace, limit: 10 })).map((d) => [d.status, d.attempts, d.lastError]);
    expect(statuses).toEqual([
      ['dead', 1, 'HTTP 410'],
      ['delivered', 2, null],
    ]);
  });

  it('hands each due batch to exactly one of several claimers at once', async () => {
    await store.addDestination({ workspace, name: 'drop', type: 'file', kind: 'push', snapshot: true, config: { directory: '/tmp/x', format: 'jsonl' }, secretFields: [] }, NOW);
    await store.activateProfile(workspace, profile, 'drop', new Date(NOW.getTime() + 4 * DAY));
    const at = new Date(NOW.getTime() + 4 * DAY);
    const claims = await Promise.all([1, 2, 3, 4].map(() => store.claimDeliveries({ now: at, limit: 10, leaseMs: 60_000 })));
    const ids = claims.flat().map((c) => c.record.id);
    expect(ids).toHaveLength(1);
    const [activationBatch] = claims.flat();
    // The activation announces who is in already, with the snapshot a file drop asked for.
    expect(activationBatch!.batch).toMatchObject({ reason: 'activation', changes: [{ email: 'ann@example.com', change: 'entered' }], members: ['ann@example.com'] });
    await store.finishDelivery(activationBatch!.record.id, { status: 'delivered' }, at);
  });

  it('queues a left for a forgotten person to the destinations of the profiles they are in', async () => {
    const at = new Date(NOW.getTime() + 5 * DAY);
    expect(await store.enqueueForgetLeft(workspace, ' ANN@example.com ', at)).toBe(2);
    expect(await store.enqueueForgetLeft(workspace, 'nobody@example.com', at)).toBe(0);
    const forgets = (await store.listDeliveries({ workspace, limit: 10 })).filter((d) => d.reason === 'forget');
    expect(forgets.map((d) => d.destination).sort()).toEqual(['crm', 'drop']);
  });

  it('keeps a read-only view of the members, with customer id and since when, until deactivated', async () => {
    await store.addDestination({ workspace, name: 'suppression', type: 'view', kind: 'view', snapshot: false, config: { prefix: 'suppress_' }, secretFields: [] }, NOW);
    const activation = await store.activateProfile(workspace, profile, 'suppression', NOW);
    expect(activation.view).toBe('suppress_unhappy_lately');
    const view = store.viewName(activation.view!);
    const rows = await raw.query<{ email: string; customer_id: string | null; member_since: unknown }>(`SELECT * FROM ${view}`);
    const [contact] = await raw.query<{ contact_id: string }>(`SELECT "contact_id" FROM ${store.appTable('closealert', 'contacts')} WHERE "email_normalized" = ?`, ['ann@example.com']);
    expect(rows.map((r) => [r.email, r.customer_id])).toEqual([['ann@example.com', contact!.contact_id]]);
    expect(new Date(String(rows[0]!.member_since instanceof Date ? rows[0]!.member_since.toISOString() : rows[0]!.member_since)).toISOString()).toBe(NOW.toISOString());
    // A view destination delivers nothing.
    expect((await store.listDeliveries({ workspace, limit: 20 })).some((d) => d.destination === 'suppression')).toBe(false);
    // Written through the view is refused by the database.
    await expect(raw.query(`DELETE FROM ${view}`)).rejects.toThrow();

    expect(await store.deactivateProfile(workspace, profile, 'suppression')).toBe(true);
    await expect(raw.query(`SELECT * FROM ${view}`)).rejects.toThrow();
    expect(await store.deactivateProfile(workspace, profile, 'suppression')).toBe(false);
  });

  it('drops, on upgrade, the views of profiles deleted before deleting a profile dropped its views', async () => {
    await store.addDestination({ workspace, name: 'orphans', type: 'view', kind: 'view', snapshot: false, config: { prefix: 'orphan_' }, secretFields: [] }, NOW);
    await store.createProfile(workspace, { name: 'Deleted long ago', match: { all: [{ type: 'score', op: '<', value: 3 }] } });
    const gone = store.viewName((await store.activateProfile(workspace, 'Deleted long ago', 'orphans', NOW)).view!);
    const kept = store.viewName((await store.activateProfile(workspace, profile, 'orphans', NOW)).view!);
    // What deleting a profile did before: the activation went with the profile, the view stayed.
    await raw.query(`DELETE FROM ${store.viewName('profiles')} WHERE "workspace_id" = (SELECT "id" FROM ${store.viewName('workspaces')} WHERE "name" = ?) AND "name" = ?`, [workspace, 'Deleted long ago']);
    expect(await raw.query(`SELECT * FROM ${gone}`)).toEqual([]);

    await store.revertLastMigration();
    await store.migrate();
    await expect(raw.query(`SELECT * FROM ${gone}`)).rejects.toThrow();
    expect(await raw.query(`SELECT * FROM ${kept}`)).toHaveLength(1);
    expect(await store.deactivateProfile(workspace, profile, 'orphans')).toBe(true);
  });

  it('counts destination secrets per key and moves them to a new key with the app tokens', async () => {
    await store.addDestination({ workspace, name: 'rotated', type: 'webhook', kind: 'push', snapshot: false, config: { url: 'http://127.0.0.1:9/r', secret: SECRET }, secretFields: ['secret'] }, NOW);
    const before = await store.secretKeyUsage();
    const k2 = randomBytes(32);
    const rotating = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1, k2 }, currentKeyId: 'k2' }) });
    try {
      const result = await rotating.resealSecrets();
      expect(result.resealed).toBe(before.k1);
      expect(await rotating.secretKeyUsage()).toEqual({ k2: before.k1 });
    } finally {
      await rotating.close();
    }
    const rotated = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k2 }, currentKeyId: 'k2' }) });
    try {
      expect((await rotated.getDestination(workspace, 'rotated'))!.config.secret).toBe(SECRET);
    } finally {
      await rotated.close();
    }
    await store.removeDestination(workspace, 'rotated');
  });

  it('removes a destination with its activations and batches', async () => {
    expect(await store.removeDestination(workspace, 'crm')).toBe(true);
    expect(await store.removeDestination(workspace, 'crm')).toBe(false);
    expect((await store.listActivations(workspace)).map((a) => a.destination)).toEqual(['drop']);
    expect((await store.listDeliveries({ workspace, limit: 20 })).some((d) => d.destination === 'crm')).toBe(false);
  });

  it('pages the deliveries newest first: each page starts below the batch the previous one ended with', async () => {
    const all = await store.listDeliveries({ workspace, limit: 100 });
    expect(all.length).toBeGreaterThanOrEqual(2);
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listDeliveries({ workspace, limit: 1, ...(before ? { before } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((d) => d.id));
      before = page[page.length - 1]!.id;
    }
    expect(seen).toEqual(all.map((d) => d.id));
    await expect(store.listDeliveries({ workspace, limit: 2, before: 'not-a-batch' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('refuses a second activation of a profile to one destination, and a deleted profile takes its views and activations with it', async () => {
    await expect(store.activateProfile(workspace, profile, 'drop', NOW)).rejects.toMatchObject({ code: 'ACTIVATION_EXISTS' });
    await store.createProfile(workspace, { name: 'Short lived', match: { type: 'responded', withinDays: 10 } });
    await store.evaluateProfile(workspace, 'Short lived', { now: NOW, record: true });
    const activation = await store.activateProfile(workspace, 'Short lived', 'suppression', NOW);
    await store.activateProfile(workspace, 'Short lived', 'drop', NOW);
    const view = store.viewName(activation.view!);
    expect((await raw.query<{ email: string }>(`SELECT email FROM ${view} ORDER BY email`)).map((r) => r.email)).toEqual(['ann@example.com', 'bob@example.com', 'cy@example.com']);

    expect(await store.deleteProfile(workspace, 'Short lived')).toBe(true);
    await expect(raw.query(`SELECT * FROM ${view}`)).rejects.toThrow();
    expect((await store.listActivations(workspace)).map((a) => a.profile)).toEqual([profile]);
    expect((await store.listDeliveries({ workspace, limit: 100 })).some((d) => d.profile === 'Short lived')).toBe(false);
    // The name is free again: a new profile of that name gets a fresh view.
    await store.createProfile(workspace, { name: 'Short lived', match: { type: 'responded', withinDays: 10 } });
    expect((await store.activateProfile(workspace, 'Short lived', 'suppression', NOW)).view).toBe(activation.view);
  });
});
