import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxFormResponse } from '@tributary/closealert-sandbox';
import { createCloseAlertConnector, type CloseAlertConfigInput } from '@tributary/connector-closealert';
import type { ConnectorDefinition, Installation } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { runSync, type SyncResult } from './run-sync.js';

// Late feedback end to end, on both databases, with a controlled clock: responses that appear in
// CloseAlert after their timestamp (by the look-back when within it, by the daily reconciliation
// pass when beyond it), the backfill flag as "older than the installation", run counts that add up
// when pages shift, and e-mails that are not addresses.

const databases = await testDatabases('late-feedback');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const connector = createCloseAlertConnector({
  client: { backoffBaseMs: 1, backoffMaxMs: 2, maxAttempts: 3, requestTimeoutMs: 2_000, rateLimitWaitMs: 5 },
}) as unknown as ConnectorDefinition;

const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;
const createdMs = (r: SandboxFormResponse) => Date.parse(`${r.created_at}Z`);

/** Every run's records are accounted for exactly once. */
function expectCountsAddUp(run: SyncResult): void {
  expect(run.status, run.error).toBe('succeeded');
  expect(run.duplicates).toBeTypeOf('number');
  expect(run.fetched).toBe(run.inserted + run.unchanged + run.rejected + run.duplicates!);
}

describe.each(databases)('late feedback on $dialect', (db) => {
  let store: TypeOrmStore;
  const sandboxes: Sandbox[] = [];
  const param = (n: number) => (db.dialect === 'postgres' ? `$${n}` : '?');
  const yes = db.dialect === 'sqlite' ? 1 : true;

  beforeAll(async () => {
    store = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    for (const sandbox of sandboxes) await sandbox.close();
  });

  /** A sandbox and an installation of its own; the clock starts half an hour after the install moment. */
  async function setUp(workspace: string, settings: Partial<CloseAlertConfigInput> = {}, sandboxOptions = { responses: 300, spanDays: 20 }) {
    const state = { clock: new Date(wholeSecond(Date.now() + 30 * MINUTE)), onClock: undefined as (() => void) | undefined };
    // The sandbox reads its clock while it serves a request: the moment for a test to change its data.
    const sandbox = await startSandbox({ ...sandboxOptions, seed: 11, now: () => (state.onClock?.(), state.clock) });
    sandboxes.push(sandbox);
    const installation = await store.install({
      workspace,
      app: 'closealert',
      config: connector.configSchema.parse({
        projectKey: sandbox.projectKey,
        apiToken: sandbox.token,
        baseUrl: sandbox.url,
        backfillDays: 30,
        pageSize: 50,
        ...settings,
      }),
      secretFields: connector.secrets,
      mappings: [...connector.defaultMappings],
      dataModel: connector.dataModel,
    });
    const installedMs = installation.createdAt.getTime();
    const sync = async (atMs: number, options: { reconcile?: boolean } = {}) => {
      state.clock = new Date(atMs);
      const result = await runSync({ store, connector, installation, now: () => state.clock, ...options });
      expectCountsAddUp(result);
      return result;
    };
    return { sandbox, installation, installedMs, state, sync, startMs: state.clock.getTime() };
  }

  async function storedRows(installation: Installation) {
    const rows = await store.query<{ id: string | number; backfilled: boolean | number; email: string | null; email_normalized: string | null }>(
      `SELECT response_id AS id, backfilled, email, email_normalized FROM ${store.appTable('closealert', 'form_responses')}
        WHERE installation_id = ${param(1)} ORDER BY response_id`,
      [installation.id],
    );
    return new Map(rows.map((r) => [Number(r.id), { backfilled: r.backfilled === yes || r.backfilled === 1 || r.backfilled === true, email: r.email, normalized: r.email_normalized }]));
  }

  const late = (sandbox: Sandbox, appearsMs: number, lateByMs: number) => sandbox.addResponses({ count: 1, createdAt: new Date(appearsMs - lateByMs) })[0]!;

  it('stores a response within the look-back by the next run, and one beyond it by the daily reconciliation pass, once', async () => {
    const { sandbox, installation, installedMs, sync, startMs } = await setUp('late-default');
    const first = await sync(startMs);
    expect(first.late).toBe(0);
    expect(first.reconciled).toBeUndefined();

    const t2 = installedMs + 7 * HOUR;
    await sync(t2);
    // Appears 15 minutes after the second run; the third run's look-back starts an hour before the second.
    const appears = t2 + 15 * MINUTE;
    const late45 = late(sandbox, appears, 45 * MINUTE);
    const late90 = late(sandbox, appears, 90 * MINUTE);
    const late6h = late(sandbox, appears, 6 * HOUR);
    const third = await sync(t2 + HOUR);
    let stored = await storedRows(installation);
    expect(stored.has(late45.id)).toBe(true);
    expect(third.inserted).toBe(1);
    expect(third.late).toBe(1);
    // Beyond the default 60-minute look-back: not yet.
    expect(stored.has(late90.id)).toBe(false);
    expect(stored.has(late6h.id)).toBe(false);

    // A few hourly runs later, still the same day: still not.
    expect((await sync(t2 + 2 * HOUR)).inserted).toBe(0);

    // The first run after 24 hours reads the past 7 days again.
    const daily = await sync(startMs + DAY);
    expect(daily.reconciled).toBeDefined();
    expect(Date.parse(daily.reconciled!.since)).toBeLessThanOrEqual(startMs + DAY - 7 * DAY + 1000);
    expect(daily.inserted).toBe(2);
    expect(daily.late).toBe(2);
    stored = await storedRows(installation);
    for (const response of [late90, late6h]) {
      expect(stored.get(response.id)).toMatchObject({ backfilled: false });
    }
    const [logged] = await store.listRuns({ workspace: 'late-default', limit: 1 });
    expect(logged).toMatchObject({ id: daily.runId, late: 2, reconciled: daily.reconciled, duplicates: daily.duplicates });

    // The next hourly run does not reconcile again; nothing is doubled.
    const after = await sync(startMs + DAY + HOUR);
    expect(after.reconciled).toBeUndefined();
    expect(after.inserted).toBe(0);
    const expected = sandbox.responses().filter((r) => createdMs(r) >= startMs - 30 * DAY);
    expect([...(await storedRows(installation)).keys()]).toEqual(expected.map((r) => r.id).sort((a, b) => a - b));

    // On request (`sync --reconcile`), the pass runs now, whenever the last one ran.
    const lateAgain = late(sandbox, startMs + DAY + 90 * MINUTE, 5 * HOUR);
    const plain = await sync(startMs + DAY + 2 * HOUR);
    expect(plain.inserted).toBe(0);
    const forced = await sync(startMs + DAY + 2 * HOUR + 5 * MINUTE, { reconcile: true });
    expect(forced.reconciled).toBeDefined();
    expect(forced.inserted).toBe(1);
    expect(forced.late).toBe(1);
    expect((await storedRows(installation)).has(lateAgain.id)).toBe(true);
  });

  it('stores a response 90 minutes late by the next run when the look-back is 2 hours', async () => {
    const { sandbox, installation, installedMs, sync, startMs } = await setUp('late-2h', { lookbackMinutes: 120 });
    await sync(startMs);
    const t2 = installedMs + 7 * HOUR;
    await sync(t2);
    const late90 = late(sandbox, t2 + 15 * MINUTE, 90 * MINUTE);
    const next = await sync(t2 + HOUR);
    expect(next.inserted).toBe(1);
    expect(next.late).toBe(1);
    expect(next.reconciled).toBeUndefined();
    expect((await storedRows(installation)).get(late90.id)).toMatchObject({ backfilled: false });
  });

  it('flags as backfilled exactly the responses older than the installation, late arrivals included', async () => {
    const { sandbox, installation, installedMs, sync, startMs } = await setUp('backfill-flag');
    // Created after the install moment, before the first run: news, although the first run reads it.
    const fresh = sandbox.addResponses({ count: 2, createdAt: (i) => new Date(installedMs + 5 * MINUTE + i * 1000) });
    await sync(startMs);
    // Created 20 minutes after the install, appearing only hours later: read by the second run's look-back.
    const t2 = startMs + 40 * MINUTE;
    const lateAfterInstall = late(sandbox, t2 - 5 * MINUTE, t2 - 5 * MINUTE - (installedMs + 20 * MINUTE));
    // Created before the install, appearing late: backfill, even though it arrives now.
    const lateBeforeInstall = late(sandbox, t2 - 5 * MINUTE, t2 - 5 * MINUTE - (installedMs - 10 * MINUTE));
    const second = await sync(t2);
    expect(second.inserted).toBe(2);
    expect(second.late).toBe(2);

    const stored = await storedRows(installation);
    for (const r of fresh) expect(stored.get(r.id)).toMatchObject({ backfilled: false });
    expect(stored.get(lateAfterInstall.id)).toMatchObject({ backfilled: false });
    expect(stored.get(lateBeforeInstall.id)).toMatchObject({ backfilled: true });
    for (const r of sandbox.responses()) {
      const row = stored.get(r.id);
      if (row) expect(row.backfilled, `response ${r.id} created ${r.created_at}`).toBe(createdMs(r) < installedMs);
    }
    expect(stored.size).toBeGreaterThan(100);
  });

  it('accounts for every fetched record when pages shift while read and a busy second spans a window boundary', async () => {
    const { sandbox, installation, state, sync, startMs } = await setUp('counts', { backfillDays: 40, pageSize: 10 }, { responses: 400, spanDays: 40 });
    const sinceMs = startMs - 40 * DAY;
    // Three responses in the very second two backfill windows share.
    const busy = sandbox.addResponses({ count: 3, createdAt: new Date(sinceMs + 28 * DAY) });
    // Inside the next run's look-back: read again then, and already stored.
    const recent = sandbox.addResponses({ count: 3, createdAt: (i) => new Date(startMs - 10 * MINUTE + i * 1000) });
    // While the third page is being served, a late response lands before it: every later page of the
    // window shifts by one, and the last record of the page before comes back once more.
    state.onClock = () => {
      if (sandbox.stats().requests < 3) return;
      state.onClock = undefined;
      sandbox.addResponses({ count: 1, createdAt: new Date(sinceMs + 1000) });
    };
    const first = await sync(startMs);
    expect(state.onClock).toBeUndefined();
    expect(first.duplicates).toBe(busy.length + 1);
    expect(first.fetched).toBe(first.inserted + first.duplicates!);
    const distinct = sandbox.responses().filter((r) => createdMs(r) >= sinceMs + 2000).length;
    expect(first.inserted).toBe(distinct);

    // The look-back overlap reads stored responses again (its first one comes back malformed and is
    // set aside), and four new ones follow.
    sandbox.addResponses({ count: 4, createdAt: (i) => new Date(startMs + 10 * MINUTE + i * 1000) });
    sandbox.injectFault({ kind: 'bad-record', index: 0 });
    const second = await sync(startMs + HOUR);
    expect(second.unchanged).toBe(recent.length - 1);
    expect(second.rejected).toBe(1);
    expect(second.inserted).toBe(4);
    const [logged] = await store.listRuns({ workspace: 'counts', limit: 2 });
    expect(logged).toMatchObject({ fetched: second.fetched, inserted: 4, rejected: 1, unchanged: second.unchanged, duplicates: second.duplicates });
    const [, loggedFirst] = await store.listRuns({ workspace: 'counts', limit: 2 });
    expect(loggedFirst?.duplicates).toBe(busy.length + 1);
    expect((await storedRows(installation)).size).toBe(first.inserted + 4);
  });

  it('stores values that are not e-mail addresses as received, but makes no contact or profile member of them', async () => {
    const { sandbox, installation, sync, startMs } = await setUp('emails', {}, { responses: 0, spanDays: 1 });
    // A shape to copy, created long before the backfill reaches: never read itself.
    const template = sandbox.addResponses({ count: 1, createdAt: new Date(startMs - 100 * DAY) })[0]!;
    const odd = ['+31612345678', '=HYPERLINK("http://evil.example","ann@example.com")', '', 'garbage', '@example.com', null];
    const given: SandboxFormResponse[] = [...odd, ' Ann@Example.COM '].map((email, i) => ({
      ...structuredClone(template),
      id: template.id + 1 + i,
      email,
      created_at: new Date(startMs - HOUR).toISOString().slice(0, 19),
    }));
    sandbox.addResponses(given);
    const run = await sync(startMs);
    expect(run.inserted).toBe(given.length);
    expect(run.withoutEmail).toBe(odd.length);
    const [logged] = await store.listRuns({ workspace: 'emails', limit: 1 });
    expect(logged?.withoutEmail).toBe(odd.length);

    const stored = await storedRows(installation);
    for (const response of given.slice(0, odd.length)) {
      expect(stored.get(response.id)).toEqual({ backfilled: true, email: response.email, normalized: null });
    }
    expect(stored.get(given.at(-1)!.id)?.normalized).toBe('ann@example.com');
    const contacts = await store.query<{ email: string }>(
      `SELECT email_normalized AS email FROM ${store.appTable('closealert', 'contacts')} WHERE installation_id = ${param(1)} ORDER BY email_normalized`,
      [installation.id],
    );
    expect(contacts.map((c) => c.email)).toEqual(['ann@example.com']);

    await store.createProfile('emails', { name: 'Everyone', match: { type: 'responded', withinDays: 3650 } });
    const { members } = await store.evaluateProfile('emails', 'Everyone', { now: new Date(startMs), record: false });
    expect(members.map((m) => m.email)).toEqual(['ann@example.com']);
  });
});
