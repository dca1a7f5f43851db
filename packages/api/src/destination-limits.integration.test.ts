import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DestinationDefinition, DestinationLimits } from '@tributary/core';
import {
  deliverDue,
  fileDestination,
  SIGNATURE_HEADER,
  verifySignature,
  webhookDestination,
} from '@tributary/runner';
import { tempDirectory, testDatabases } from '@tributary/testing';
import { createApiServer } from './server.js';
import { sandboxConfig, startHarness, type Harness } from './test-support/harness.js';

// A workspace administrator is not the server's operator: over the API, file destinations stay under
// the operator's roots (links and `..` resolved) and webhooks reach no loopback, link-local or private
// address the operator has not allowed. Real receivers and real directories, on both databases.

const databases = await testDatabases('api-destination-limits');
const SECRET = 'limits-api-webhook-secret-0123456789';

interface Receiver {
  server: Server;
  port: number;
  requests: { headers: IncomingHttpHeaders; body: string }[];
}

async function startReceiver(host: string): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, requests };
}

const destinationFor = (type: string) =>
  (type === 'file' ? fileDestination : type === 'webhook' ? webhookDestination : undefined) as unknown as
    DestinationDefinition | undefined;

describe.each(databases)('destination limits over HTTP on $dialect', (db) => {
  const base = tempDirectory(`api-limits-${db.dialect}`);
  const root = join(base, 'drops');
  const outside = join(base, 'outside');
  let limits: DestinationLimits;
  let h: Harness;
  // The operator allows the receiver on 127.0.0.2; the one on 127.0.0.1 stands for any internal service.
  let allowed: Receiver;
  let internal: Receiver;
  const add = (name: string, type: string, settings: Record<string, unknown>) =>
    h.call('POST', '/workspaces/acme/destinations', { key: h.keys.admin, body: { name, type, settings } });

  beforeAll(async () => {
    mkdirSync(root, { recursive: true });
    mkdirSync(outside, { recursive: true });
    symlinkSync(outside, join(root, 'escape'));
    limits = { fileRoots: [root], webhookAllowHosts: ['127.0.0.2'] };
    [allowed, internal] = await Promise.all([startReceiver('127.0.0.2'), startReceiver('127.0.0.1')]);
    h = await startHarness(db, { responses: 40, destinationLimits: limits });
    const installed = await h.call('POST', '/workspaces/acme/apps/closealert', {
      key: h.keys.admin,
      body: { config: sandboxConfig(h.sandbox) },
    });
    expect(installed.status).toBe(201);
    const queued = await h.call('POST', '/workspaces/acme/apps/closealert/sync', { key: h.keys.admin });
    let status = 'queued';
    for (let i = 0; i < 300 && ['queued', 'running'].includes(status); i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await h.call('GET', `/workspaces/acme/jobs/${queued.json.id}`, { key: h.keys.admin })).json
        .status;
    }
    expect(status).toBe('succeeded');
    const profile = await h.call('POST', '/workspaces/acme/profiles', {
      key: h.keys.marketer,
      body: { name: 'everyone', match: { type: 'responded', withinDays: 3650 } },
    });
    expect(profile.status).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
    for (const r of [allowed, internal]) if (r) await new Promise((resolve) => r.server.close(resolve));
  });

  it.each([
    ['outside the roots', () => outside],
    ['out of a root through ..', () => `${root}/../outside`],
    ['out of a root through a link', () => join(root, 'escape')],
    ['into a new directory behind a link', () => join(root, 'escape', 'deeper')],
  ])('refuses a file destination %s, saying what the operator must configure', async (_label, directory) => {
    const refused = await add('drop', 'file', { directory: directory() });
    expect([refused.status, refused.json.code]).toEqual([403, 'DESTINATION_DIRECTORY_NOT_ALLOWED']);
    expect(refused.json.hint).toContain('TRIBUTARY_FILE_DESTINATION_ROOTS');
    expect(readdirSync(outside)).toEqual([]);
    expect((await h.call('GET', '/workspaces/acme/destinations', { key: h.keys.admin })).json.items).toEqual(
      [],
    );
  });

  it.each([
    ['loopback', () => `http://127.0.0.1:${internal.port}/hook`],
    ['a loopback name', () => `http://localhost:${internal.port}/hook`],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['a private network', () => 'https://10.0.0.5/hook'],
    ['an IPv6 loopback', () => `http://[::1]:${internal.port}/hook`],
  ])('refuses a webhook to %s that the operator has not allowed', async (_label, url) => {
    const refused = await add('hook', 'webhook', { url: url(), secret: SECRET });
    expect([refused.status, refused.json.code]).toEqual([403, 'DESTINATION_URL_NOT_ALLOWED']);
    expect(refused.json.hint).toContain('TRIBUTARY_WEBHOOK_ALLOW_HOSTS');
    expect(refused.text).not.toContain(SECRET);
    expect(internal.requests).toEqual([]);
  });

  it('takes an allowed receiver and a directory under a root, and delivers to both end to end', async () => {
    const hook = await add('hook', 'webhook', {
      url: `http://127.0.0.2:${allowed.port}/hook`,
      secret: SECRET,
    });
    expect(hook.status).toBe(201);
    const drop = await add('drop', 'file', { directory: join(root, 'marketing'), format: 'jsonl' });
    expect(drop.status).toBe(201);

    const tested = await h.call('POST', '/workspaces/acme/destinations/hook/test', { key: h.keys.admin });
    expect(tested.status).toBe(200);
    const probe = allowed.requests[0]!;
    expect(JSON.parse(probe.body)).toMatchObject({ test: true, changes: [] });
    expect(
      verifySignature({
        secret: SECRET,
        header: probe.headers[SIGNATURE_HEADER] as string,
        body: probe.body,
        nowSeconds: Math.floor(Date.now() / 1000),
      }),
    ).toBe(true);

    for (const destination of ['hook', 'drop']) {
      const activated = await h.call('POST', '/workspaces/acme/profiles/everyone/destinations', {
        key: h.keys.admin,
        body: { destination },
      });
      expect(activated.status).toBe(201);
    }
    const run = await h.call('POST', '/workspaces/acme/profiles/everyone/run', { key: h.keys.marketer });
    expect(run.json.count).toBeGreaterThan(0);
    // A runner whose operator set no limits checks each delivery again and sends nothing to loopback.
    const strict = await deliverDue({ store: h.store, destinationFor });
    expect(strict).toEqual({ delivered: 1, retried: 1, dead: 0 });
    expect(allowed.requests).toHaveLength(1);
    const pending = await h.call('GET', '/workspaces/acme/deliveries?status=pending', { key: h.keys.admin });
    expect(pending.json.items).toEqual([
      expect.objectContaining({
        destination: 'hook',
        attempts: 1,
        lastError: expect.stringContaining('loopback address'),
      }),
    ]);

    // The runner with this server's limits, once the retry is due.
    const later = new Date(Date.now() + 24 * 3_600_000);
    const permitted = await deliverDue({ store: h.store, destinationFor, limits, now: () => later });
    expect(permitted).toEqual({ delivered: 1, retried: 0, dead: 0 });
    const batch = JSON.parse(allowed.requests[1]!.body) as { reason: string; changes: unknown[] };
    expect(batch.reason).toBe('evaluation');
    expect(batch.changes.length).toBeGreaterThan(0);
    expect(readdirSync(join(root, 'marketing'))).toContain('everyone-members.jsonl');
    expect(internal.requests).toEqual([]);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses every file destination and every loopback webhook on a server whose operator set no limits', async () => {
    const strict = await createApiServer({
      store: h.store,
      connectors: [],
      auth: h.auth,
      processMetrics: false,
    });
    const url = await strict.listen();
    try {
      const post = async (name: string, type: string, settings: Record<string, unknown>) => {
        const response = await fetch(`${url}/workspaces/acme/destinations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${h.keys.admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name, type, settings }),
        });
        return {
          status: response.status,
          json: (await response.json()) as { code: string; message: string },
        };
      };
      const file = await post('drop2', 'file', { directory: join(root, 'other') });
      expect([file.status, file.json.code]).toEqual([403, 'DESTINATION_DIRECTORY_NOT_ALLOWED']);
      expect(file.json.message).toContain('operator');
      const hook = await post('hook2', 'webhook', {
        url: `http://127.0.0.2:${allowed.port}/hook`,
        secret: SECRET,
      });
      expect([hook.status, hook.json.code]).toEqual([403, 'DESTINATION_URL_NOT_ALLOWED']);
      // Testing a destination is checked too: the one the other server took is refused here.
      const tested = await fetch(`${url}/workspaces/acme/destinations/drop/test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.keys.admin}` },
      });
      expect(((await tested.json()) as { code: string }).code).toBe('DESTINATION_DIRECTORY_NOT_ALLOWED');
    } finally {
      await strict.close();
    }
    expect(existsSync(join(root, 'other'))).toBe(false);
    expect(readdirSync(join(root, 'marketing'))).not.toContain('.tributary-write-test');
  });
});
