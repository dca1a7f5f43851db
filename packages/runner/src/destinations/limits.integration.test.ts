import { existsSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTributaryError, silentLogger, type DeliveryBatch, type DestinationLimits } from '@tributary/core';
import { tempDirectory } from '@tributary/testing';
import { fileDestination } from './file.js';
import { checkFileDirectory, checkWebhookUrl, pinnedDispatcher } from './limits.js';
import { webhookDestination } from './webhook.js';

// The operator's limits against real directories (links, `..`) and real receivers started here:
// names are resolved, connections pinned to the addresses checked, and every delivery checks again.

const SECRET = 'limits-receiver-secret-0123456789';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isTributaryError(error)) return error.code;
    throw error;
  }
  return 'none';
}

interface Receiver {
  server: Server;
  bodies: string[];
  port: number;
}

async function startReceiver(host: string): Promise<Receiver> {
  const bodies: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, bodies, port: (server.address() as AddressInfo).port };
}

function batch(id: string): DeliveryBatch {
  return { id, workspace: 'acme', profile: 'unhappy', reason: 'evaluation', evaluatedAt: '2026-11-30T12:00:00.000Z', changes: [{ email: 'ann@example.com', change: 'entered' }], members: ['ann@example.com'] };
}

describe('file destinations under the operator’s roots', () => {
  const base = tempDirectory('limits-files');
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  let limits: DestinationLimits;
  beforeAll(() => {
    mkdirSync(join(root, 'drops'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    // A link inside the root that leads out of it, and a root reached through a link.
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync(root, join(base, 'root-link'));
    mkdirSync(`${root}-evil`, { recursive: true });
    limits = { fileRoots: [root], webhookAllowHosts: [] };
  });

  it('admits a directory under a root, existing or still to be created, as its real path', async () => {
    expect(await checkFileDirectory(join(root, 'drops'), limits, 'workspace-admin')).toBe(join(root, 'drops'));
    expect(await checkFileDirectory(join(root, 'new', 'deeper'), limits, 'workspace-admin')).toBe(join(root, 'new', 'deeper'));
    expect(await checkFileDirectory(join(base, 'root-link', 'drops'), limits, 'workspace-admin')).toBe(join(root, 'drops'));
    expect(await checkFileDirectory(join(root, 'drops', '..', 'drops'), limits, 'workspace-admin')).toBe(join(root, 'drops'));
    // A root given through a link holds what its real path holds.
    expect(await checkFileDirectory(join(root, 'drops'), { fileRoots: [join(base, 'root-link')], webhookAllowHosts: [] }, 'workspace-admin')).toBe(join(root, 'drops'));
  });

  it.each([
    ['a path outside', () => outside],
    ['.. out of the root', () => `${root}/drops/../../outside`],
    ['a link out of the root', () => join(root, 'escape')],
    ['a new directory behind a link out of the root', () => join(root, 'escape', 'new')],
    ['.. in a part still to be created', () => `${root}/new/../../outside`],
    ['a sibling whose name starts like the root', () => `${root}-evil`],
  ])('refuses %s, for the operator too once roots are set', async (_label, path) => {
    expect(await codeOf(checkFileDirectory(path(), limits, 'workspace-admin'))).toBe('DESTINATION_DIRECTORY_NOT_ALLOWED');
    expect(await codeOf(checkFileDirectory(path(), limits, 'operator'))).toBe('DESTINATION_DIRECTORY_NOT_ALLOWED');
  });

  it('checks again at each delivery: a directory swapped for a link out of the root gets nothing', async () => {
    const directory = join(root, 'swapped');
    const context = { config: fileDestination.configSchema.parse({ directory }), name: 'drop', logger: silentLogger(), limits };
    await fileDestination.admit!(context.config, { limits, addedBy: 'workspace-admin' });
    expect(await fileDestination.deliver!(batch('3b0d1f4e-4c1e-4b7e-9a53-0c6a1f0e0001'), context)).toMatchObject({ status: 'delivered' });
    expect(readdirSync(directory)).toContain('unhappy-members.jsonl');

    renameSync(directory, join(base, 'swapped-away'));
    symlinkSync(outside, directory);
    const outcome = await fileDestination.deliver!(batch('3b0d1f4e-4c1e-4b7e-9a53-0c6a1f0e0002'), context);
    expect(outcome).toMatchObject({ status: 'retry', error: expect.stringContaining('is not under a directory') });
    expect(await codeOf(fileDestination.test!(context))).toBe('DESTINATION_DIRECTORY_NOT_ALLOWED');
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(outside, '.tributary-write-test'))).toBe(false);
  });
});

describe('webhooks to loopback and private receivers', () => {
  let allowed: Receiver;
  let other: Receiver;
  beforeAll(async () => {
    // Two loopback addresses: the operator allows one, the other stands for any internal service.
    allowed = await startReceiver('127.0.0.2');
    other = await startReceiver('127.0.0.1');
  });
  afterAll(async () => {
    for (const r of [allowed, other]) await new Promise((resolve) => r?.server.close(resolve));
  });

  it('refuses a name that resolves to loopback unless that name or its address is allowed', async () => {
    const url = `http://localhost:${other.port}/hook`;
    const strict = { fileRoots: [], webhookAllowHosts: [] };
    expect(await codeOf(checkWebhookUrl(url, strict))).toBe('DESTINATION_URL_NOT_ALLOWED');
    const byName = await checkWebhookUrl(url, { fileRoots: [], webhookAllowHosts: ['localhost'] });
    expect(byName.host).toBe('localhost');
    expect(byName.addresses.length).toBeGreaterThan(0);
    // A name never unlocks link-local or unspecified addresses; only the address itself would.
    expect(await codeOf(checkWebhookUrl('https://169.254.169.254/', { fileRoots: [], webhookAllowHosts: ['localhost'] }))).toBe('DESTINATION_URL_NOT_ALLOWED');
  });

  it('delivers to the allowed receiver and sends nothing to the one not allowed', async () => {
    const limits = { fileRoots: [], webhookAllowHosts: ['127.0.0.2'] };
    const to = (r: Receiver) => ({ config: webhookDestination.configSchema.parse({ url: `http://127.0.0.${r === allowed ? 2 : 1}:${r.port}/hook`, secret: SECRET }), name: 'crm', logger: silentLogger(), limits });
    expect(await webhookDestination.deliver!(batch('3b0d1f4e-4c1e-4b7e-9a53-0c6a1f0e0003'), to(allowed))).toEqual({ status: 'delivered' });
    expect(allowed.bodies.map((b) => (JSON.parse(b) as { id: string }).id)).toEqual(['3b0d1f4e-4c1e-4b7e-9a53-0c6a1f0e0003']);

    const refused = await webhookDestination.deliver!(batch('3b0d1f4e-4c1e-4b7e-9a53-0c6a1f0e0004'), to(other));
    expect(refused).toMatchObject({ status: 'retry', error: expect.stringContaining('loopback address') });
    expect(await codeOf(webhookDestination.test!(to(other)))).toBe('DESTINATION_URL_NOT_ALLOWED');
    // Without limits at all, the defaults hold: not even the receiver allowed above.
    const { limits: _dropped, ...unlimited } = to(allowed);
    expect(await webhookDestination.deliver!(batch('3b0d1f4e-4c1e-4b7e-9a53-0c6a1f0e0005'), unlimited)).toMatchObject({ status: 'retry' });
    expect(other.bodies).toEqual([]);
    expect(allowed.bodies).toHaveLength(1);
  });

  it('connects only to the addresses checked, whatever the name resolves to by then', async () => {
    // `.invalid` never resolves: reaching the receiver proves the connection used the pinned address.
    const dispatcher = pinnedDispatcher({ host: 'receiver.invalid', addresses: [{ address: '127.0.0.2', family: 4 }] });
    try {
      const response = await request(`http://receiver.invalid:${allowed.port}/pinned`, { method: 'POST', body: 'pinned', dispatcher });
      expect(response.statusCode).toBe(200);
      await response.body.text();
      expect(allowed.bodies.at(-1)).toBe('pinned');
      // Another name through the same dispatcher is not looked up at all.
      await expect(request(`http://elsewhere.invalid:${other.port}/`, { dispatcher })).rejects.toThrow(/not the checked webhook host/);
    } finally {
      await dispatcher.destroy();
    }
    expect(other.bodies).toEqual([]);
  });
});
