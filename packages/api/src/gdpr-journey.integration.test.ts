import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DestinationDefinition, DestinationLimits } from '@tributary/core';
import { deliverDue, fileDestination } from '@tributary/runner';
import { testDatabases } from '@tributary/testing';
import { sandboxConfig, startHarness, type Harness } from './test-support/harness.js';

// Issue #16 through the HTTP API, on both databases, against the CloseAlert sandbox: an administrator
// adds a file destination, activates a profile to it, syncs, and sees the delivery land; then finds
// one customer, forgets them (once, and again: one receipt), and finds nothing of them afterwards.

const databases = await testDatabases('api-gdpr');
const SECRET = 'api-webhook-secret-never-answered-7';

async function waitForJob(h: Harness, id: string) {
  for (let i = 0; i < 300; i += 1) {
    const job = await h.call('GET', `/workspaces/acme/jobs/${id}`, { key: h.keys.admin });
    if (!['queued', 'running'].includes(job.json.status)) return job.json;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('job did not finish');
}

describe.each(databases)('destinations and one customer’s data over HTTP on $dialect', (db) => {
  let h: Harness;
  let directory: string;
  let person = '';
  let receiptId = '';
  let limits: DestinationLimits;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tributary-api-drop-'));
    // What the operator of this server allows: the drop directory, and the loopback receiver.
    limits = { fileRoots: [directory], webhookAllowHosts: ['127.0.0.1'] };
    h = await startHarness(db, { responses: 120, destinationLimits: limits });
    const installed = await h.call('POST', '/workspaces/acme/apps/closealert', {
      key: h.keys.admin,
      body: { config: sandboxConfig(h.sandbox) },
    });
    expect(installed.status).toBe(201);
    const profile = await h.call('POST', '/workspaces/acme/profiles', {
      key: h.keys.marketer,
      body: { name: 'everyone', match: { type: 'responded', withinDays: 3650 } },
    });
    expect(profile.status).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('adds destinations checked by their own schema, and never answers a secret', async () => {
    const unknown = await h.call('POST', '/workspaces/acme/destinations', {
      key: h.keys.admin,
      body: { name: 'x', type: 'carrier-pigeon' },
    });
    expect([unknown.status, unknown.json.code]).toEqual([422, 'DESTINATION_UNKNOWN']);
    const invalid = await h.call('POST', '/workspaces/acme/destinations', {
      key: h.keys.admin,
      body: { name: 'hook', type: 'webhook', settings: { url: 'ftp://nowhere', secret: 'tiny-secret' } },
    });
    expect([invalid.status, invalid.json.code]).toEqual([422, 'DESTINATION_INVALID']);
    expect(invalid.text).not.toContain('tiny-secret');

    const hook = await h.call('POST', '/workspaces/acme/destinations', {
      key: h.keys.admin,
      body: { name: 'hook', type: 'webhook', settings: { url: 'http://127.0.0.1:9/hook', secret: SECRET } },
    });
    expect(hook.status).toBe(201);
    expect(hook.json).toMatchObject({ name: 'hook', kind: 'push', secrets: ['secret'] });
    expect(hook.json.settings.secret).toBeUndefined();
    const drop = await h.call('POST', '/workspaces/acme/destinations', {
      key: h.keys.admin,
      body: { name: 'drop', type: 'file', settings: { directory, format: 'jsonl' } },
    });
    expect(drop.status).toBe(201);
    const again = await h.call('POST', '/workspaces/acme/destinations', {
      key: h.keys.admin,
      body: { name: 'drop', type: 'file', settings: { directory } },
    });
    expect([again.status, again.json.code]).toEqual([409, 'DESTINATION_EXISTS']);

    const tested = await h.call('POST', '/workspaces/acme/destinations/drop/test', { key: h.keys.admin });
    expect(tested.status).toBe(200);
    expect(tested.json.notes.join(' ')).toContain('writable');

    const list = await h.call('GET', '/workspaces/acme/destinations?limit=1', { key: h.keys.admin });
    expect(list.json.items.map((d: { name: string }) => d.name)).toEqual(['drop']);
    const rest = await h.call('GET', `/workspaces/acme/destinations?cursor=${list.json.next}`, {
      key: h.keys.admin,
    });
    expect(rest.json).toMatchObject({ items: [{ name: 'hook', secrets: ['secret'] }], next: null });
    expect(`${hook.text}${list.text}${rest.text}`).not.toContain(SECRET);
    // Destinations are the administrators': a marketer who builds profiles cannot send them anywhere.
    expect((await h.call('GET', '/workspaces/acme/destinations', { key: h.keys.marketer })).status).toBe(403);
    expect((await h.call('DELETE', '/workspaces/acme/destinations/hook', { key: h.keys.admin })).status).toBe(
      204,
    );
    const gone = await h.call('DELETE', '/workspaces/acme/destinations/hook', { key: h.keys.admin });
    expect([gone.status, gone.json.code]).toEqual([404, 'DESTINATION_NOT_FOUND']);
  });

  it('activates a profile to the file destination, syncs, and sees the delivery land', async () => {
    const path = '/workspaces/acme/profiles/everyone/destinations';
    const activated = await h.call('POST', path, { key: h.keys.admin, body: { destination: 'drop' } });
    expect(activated.status).toBe(201);
    expect(activated.json).toMatchObject({ profile: 'everyone', destination: 'drop', view: null });
    const twice = await h.call('POST', path, { key: h.keys.admin, body: { destination: 'drop' } });
    expect([twice.status, twice.json.code]).toEqual([409, 'ACTIVATION_EXISTS']);

    const queued = await h.call('POST', '/workspaces/acme/apps/closealert/sync', { key: h.keys.admin });
    expect((await waitForJob(h, queued.json.id)).status).toBe('succeeded');
    const run = await h.call('POST', '/workspaces/acme/profiles/everyone/run?limit=1', {
      key: h.keys.marketer,
    });
    expect(run.json.count).toBeGreaterThan(0);
    person = run.json.members[0].email;

    // Nobody was in when the profile was activated (before the sync): only the evaluation has a batch.
    const batches = await h.call('GET', '/workspaces/acme/deliveries?limit=1', { key: h.keys.admin });
    expect(batches.json).toEqual({
      items: [
        expect.objectContaining({
          profile: 'everyone',
          destination: 'drop',
          reason: 'evaluation',
          count: run.json.count,
          status: 'pending',
          attempts: 0,
          deadLetter: false,
        }),
      ],
      next: null,
    });
    // Another evaluation that changes nothing queues nothing; one whose definition drops everyone does.
    await h.call('PUT', '/workspaces/acme/profiles/everyone', {
      key: h.keys.marketer,
      body: { match: { type: 'score', op: '<', value: -1 } },
    });
    await h.call('POST', '/workspaces/acme/profiles/everyone/run', { key: h.keys.marketer });
    await h.call('PUT', '/workspaces/acme/profiles/everyone', {
      key: h.keys.marketer,
      body: { match: { type: 'responded', withinDays: 3650 } },
    });
    await h.call('POST', '/workspaces/acme/profiles/everyone/run', { key: h.keys.marketer });
    const pages: { reason: string; count: number }[][] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { items: { reason: string; count: number }[]; next: string | null } } =
        await h.call('GET', `/workspaces/acme/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
          key: h.keys.admin,
        });
      pages.push(page.json.items);
      cursor = page.json.next;
    } while (cursor);
    expect(pages.map((p) => p.map((d) => d.count))).toEqual([
      [run.json.count, run.json.count],
      [run.json.count],
    ]);

    // The runner's delivery passes, as `tributary runner` runs them: one batch per profile and destination each, in order.
    const passes: number[] = [];
    for (let delivered = -1; delivered !== 0;) {
      const outcome = await deliverDue({
        store: h.store,
        destinationFor: (type) =>
          type === 'file' ? (fileDestination as unknown as DestinationDefinition) : undefined,
        limits,
      });
      expect(outcome.dead).toBe(0);
      delivered = outcome.delivered;
      passes.push(delivered);
    }
    expect(passes).toEqual([1, 1, 1, 0]);
    const delivered = await h.call('GET', '/workspaces/acme/deliveries?status=delivered', {
      key: h.keys.admin,
    });
    expect(
      delivered.json.items.map((d: { status: string; attempts: number }) => [d.status, d.attempts]),
    ).toEqual([
      ['delivered', 1],
      ['delivered', 1],
      ['delivered', 1],
    ]);
    const members = (await readFile(join(directory, 'everyone-members.jsonl'), 'utf8')).trim().split('\n');
    expect(members).toHaveLength(run.json.count);
    expect((await readdir(directory)).filter((f) => f.startsWith('everyone-changes-'))).toHaveLength(3);
  });

  it('finds one customer, forgets them with one receipt however often asked, and then finds nothing', async () => {
    const found = await h.call('POST', '/workspaces/acme/customers/find', {
      key: h.keys.admin,
      body: { email: `  ${person.toUpperCase()} ` },
    });
    expect(found.status).toBe(200);
    expect(found.json.email).toBe(person);
    expect(found.json.apps).toHaveLength(1);
    expect(found.json.apps[0].records.length).toBeGreaterThan(0);
    expect(found.json.profiles).toEqual([
      expect.objectContaining({ profile: 'everyone', memberSince: expect.any(String) }),
    ]);
    expect(
      (
        await h.call('POST', '/workspaces/acme/customers/find', {
          key: h.keys.marketer,
          body: { email: person },
        })
      ).status,
    ).toBe(403);

    const forgot = await h.call('POST', '/workspaces/acme/customers/forget', {
      key: h.keys.admin,
      body: { email: person },
    });
    expect(forgot.status).toBe(200);
    expect(forgot.json.alreadyForgotten).toBe(false);
    expect(forgot.json.receipt).toMatchObject({
      workspace: 'acme',
      liftedAt: null,
      erasedBy: expect.stringMatching(/^api-key:/),
    });
    expect(forgot.json.erased['closealert.form_responses']).toBe(found.json.apps[0].records.length);
    expect(forgot.text.toLowerCase()).not.toContain(person);
    receiptId = forgot.json.receipt.id;
    const again = await h.call('POST', '/workspaces/acme/customers/forget', {
      key: h.keys.admin,
      body: { email: person },
    });
    expect(again.json).toMatchObject({ alreadyForgotten: true, receipt: { id: receiptId } });

    const after = await h.call('POST', '/workspaces/acme/customers/find', {
      key: h.keys.admin,
      body: { email: person },
    });
    expect(after.json).toMatchObject({ apps: [], profiles: [], suppressedBy: [{ id: receiptId }] });
    const receipts = await h.call('GET', '/workspaces/acme/erasure-receipts', { key: h.keys.admin });
    expect(receipts.json.items.map((r: { id: string }) => r.id)).toEqual([receiptId]);
    // The destination hears that the person left.
    const forgets = await h.call('GET', '/workspaces/acme/deliveries?status=pending', { key: h.keys.admin });
    expect(forgets.json.items).toEqual([expect.objectContaining({ reason: 'forget', count: 1 })]);
    // The audit log says who erased whom by receipt, never by address.
    const audit = await h.call('GET', '/workspaces/acme/audit?limit=500', { key: h.keys.admin });
    const actions = audit.json.items.map(
      (e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'destination.add:ok',
        'profile.activate:ok',
        'customer.find:ok',
        'customer.forget:ok',
      ]),
    );
    expect(audit.text.toLowerCase()).not.toContain(person);
    expect(h.logs.join('').toLowerCase()).not.toContain(person);
  });

  it('lifts the receipt once, and only from its own workspace', async () => {
    const outsider = await h.call('POST', `/workspaces/other/erasure-receipts/${receiptId}/lift`, {
      key: h.keys.outsider,
    });
    expect([outsider.status, outsider.json.code]).toEqual([404, 'ERASURE_RECEIPT_NOT_FOUND']);
    const lifted = await h.call('POST', `/workspaces/acme/erasure-receipts/${receiptId}/lift`, {
      key: h.keys.admin,
    });
    expect(lifted.json).toMatchObject({
      changed: true,
      receipt: { id: receiptId, liftedAt: expect.any(String) },
    });
    const twice = await h.call('POST', `/workspaces/acme/erasure-receipts/${receiptId}/lift`, {
      key: h.keys.admin,
    });
    expect(twice.json.changed).toBe(false);
  });

  it('drops the view of a view destination when its profile is deleted', async () => {
    expect(
      (
        await h.call('POST', '/workspaces/acme/destinations', {
          key: h.keys.admin,
          body: { name: 'suppression', type: 'view' },
        })
      ).status,
    ).toBe(201);
    const activated = await h.call('POST', '/workspaces/acme/profiles/everyone/destinations', {
      key: h.keys.admin,
      body: { destination: 'suppression' },
    });
    expect(activated.json.view).toBe('suppress_everyone');
    const view = h.store.viewName('suppress_everyone');
    expect((await h.store.query<{ email: string }>(`SELECT email FROM ${view}`)).length).toBeGreaterThan(0);
    expect(
      (await h.call('DELETE', '/workspaces/acme/profiles/everyone', { key: h.keys.marketer })).status,
    ).toBe(204);
    await expect(h.store.query(`SELECT email FROM ${view}`)).rejects.toThrow();
    const list = await h.call('GET', '/workspaces/acme/destinations', { key: h.keys.admin });
    expect(list.json.items.flatMap((d: { profiles: unknown[] }) => d.profiles)).toEqual([]);
  });
});
