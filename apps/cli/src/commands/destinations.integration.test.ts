import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { verifySignature } from '@tributary/runner';
import { tempDirectory, testDatabases, type TestDatabase } from '@tributary/testing';
import { openRaw, runCli, type RawConnection } from '../test-support/cli.js';

// The destination commands end to end on both databases: a webhook whose secret never shows,
// tested against a receiver started here, a profile activated to it and to a suppression view,
// the outbox as `deliveries` shows it, and a dead-lettered batch that `doctor` reports.

const databases = await testDatabases('cli-destinations');
const SECRET = 'cli-signing-secret-never-printed-42';
const DAY = 86_400_000;
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const sandboxTime = (date: Date) => date.toISOString().slice(0, 19);

function response(id: number, email: string, daysAgo: number, score: number) {
  return {
    id,
    created_at: sandboxTime(new Date(NOW.getTime() - daysAgo * DAY)),
    email,
    mail_url: `https://mail.example.com/${id}`,
    user_agent: 'Mozilla/5.0',
    device_type: 'desktop',
    operating_system: 'macos',
    followed_up: false,
    merge_tags: {},
    form: { id: 34, form_type: 'email-satisfaction', name: 'Satisfaction' },
    mailing: { id: 100, name: 'News' },
    group: { id: 44, name: 'Newsletters' },
    answers: [{ question: 'Rate us', question_type: 'sentiment', answer_type: null, question_index: '1', response_value: score }],
  };
}

describe.each(databases)('tributary destinations on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  let receiver: Server;
  let url = '';
  let raw: RawConnection;
  const received: { valid: boolean; body: Record<string, unknown> }[] = [];
  const workspace = `cli-dest-${randomBytes(3).toString('hex')}`;
  // The receiver listens on loopback: the operator's allow-list lets the webhook reach it.
  const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'info', TRIBUTARY_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' };
  const outputs: string[] = [];

  async function cli(args: string[], stdin?: string) {
    const result = await runCli(args, env, stdin);
    outputs.push(result.stdout, result.stderr);
    return result;
  }

  async function ok(...args: string[]): Promise<string> {
    const result = await cli(args);
    expect(result, `tributary ${args.join(' ')}`).toMatchObject({ code: 0 });
    return result.stdout;
  }

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = req.headers['tributary-signature'] as string | undefined;
        received.push({ valid: verifySignature({ secret: SECRET, header, body, nowSeconds: Math.floor(Date.now() / 1000) }), body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    sandbox = await startSandbox({ responses: 0 });
    sandbox.addResponses([response(1, 'ann@example.com', 2, 1), response(2, 'bob@example.com', 4, 2), response(3, 'cy@example.com', 1, 5)]);
    await ok('install', 'closealert', '--workspace', workspace, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '30');
    await ok('sync', '--workspace', workspace);
    await ok('profiles', 'create', 'Unhappy', '--workspace', workspace, '--score', '<3', '--within', '10d');
    raw = await openRaw(database);
  });

  afterAll(async () => {
    await raw?.close();
    await sandbox?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('adds a webhook with its secret from standard input, and never shows the secret', async () => {
    const refused = await cli(['destinations', 'add', 'webhook', 'bad', '--workspace', workspace, '--set', 'url=ftp://nowhere', '--set', 'secret=short']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('DESTINATION_INVALID');
    expect(refused.stderr).not.toContain('short');

    // Without the operator's allow-list, loopback is out of reach for the CLI as for the API.
    const unlisted = await runCli(['destinations', 'add', 'webhook', 'crm', '--workspace', workspace, '--set', `url=${url}`, '--set', 'secret=-'], { ...env, TRIBUTARY_WEBHOOK_ALLOW_HOSTS: undefined }, `${SECRET}\n`);
    outputs.push(unlisted.stdout, unlisted.stderr);
    expect(unlisted.code).toBe(2);
    expect(unlisted.stderr).toContain('DESTINATION_URL_NOT_ALLOWED');
    expect(unlisted.stderr).toContain('TRIBUTARY_WEBHOOK_ALLOW_HOSTS');

    const added = await cli(['destinations', 'add', 'webhook', 'crm', '--workspace', workspace, '--set', `url=${url}`, '--set', 'secret=-', '--set', 'timeoutMs=2000'], `${SECRET}\n`);
    expect(added.code).toBe(0);
    const listed = JSON.parse(await ok('destinations', 'list', '--workspace', workspace, '--json')) as { name: string; secrets: string[]; settings: Record<string, unknown> }[];
    expect(listed).toMatchObject([{ name: 'crm', secrets: ['secret'], settings: { url, timeoutMs: 2000 } }]);
    expect(await ok('destinations', 'list', '--workspace', workspace)).toContain('secret=***');

    await ok('destinations', 'test', 'crm', '--workspace', workspace);
    expect(received).toMatchObject([{ valid: true, body: { test: true, changes: [] } }]);
  });

  it('activates a profile: a recorded evaluation queues a batch that deliveries lists', async () => {
    expect(await ok('profiles', 'activate', 'Unhappy', '--destination', 'crm', '--workspace', workspace)).toContain('Activated "Unhappy" to "crm"');
    await ok('profiles', 'run', 'Unhappy', '--workspace', workspace, '--record');
    const deliveries = JSON.parse(await ok('deliveries', '--workspace', workspace, '--json')) as Record<string, unknown>[];
    expect(deliveries).toMatchObject([{ profile: 'Unhappy', destination: 'crm', reason: 'evaluation', count: 2, status: 'pending', attempts: 0 }]);
    expect(await ok('profiles', 'show', 'Unhappy', '--workspace', workspace)).toMatch(/last evaluated: \S+ \(2 members\)/);

    // A batch the runner gave up on: doctor says so, and which destination.
    await raw.query(`UPDATE ${raw.own('deliveries')} SET status = 'dead', attempts = 8, last_error = 'HTTP 500 (gave up after 8 attempts)'`);
    const doctor = await cli(['doctor', '--workspace', workspace]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(new RegExp(`ATTENTION\\s+${workspace}/crm: 1 batch\\(es\\) dead-lettered`));
    expect((await cli(['deliveries', '--workspace', workspace, '--status', 'dead'])).stdout).toContain('DEAD');
    expect(await ok('logs', '--workspace', workspace)).toMatch(/DEAD-LETTERED delivery \S+: 2 change\(s\) of profile "Unhappy" for destination "crm" after 8 attempt\(s\)/);
  });

  it('keeps a suppression view of a profile until it is deactivated', async () => {
    await ok('destinations', 'add', 'view', 'suppression', '--workspace', workspace);
    const activated = await ok('profiles', 'activate', 'Unhappy', '--destination', 'suppression', '--workspace', workspace);
    expect(activated).toContain('suppress_unhappy');
    const view = raw.own('suppress_unhappy');
    const rows = await raw.query<{ email: string; customer_id: string | null }>(`SELECT email, customer_id FROM ${view} ORDER BY email`);
    expect(rows.map((r) => r.email)).toEqual(['ann@example.com', 'bob@example.com']);
    expect(rows.every((r) => typeof r.customer_id === 'string')).toBe(true);
    await ok('profiles', 'deactivate', 'Unhappy', '--destination', 'suppression', '--workspace', workspace);
    await expect(raw.query(`SELECT * FROM ${view}`)).rejects.toThrow();
    const again = await cli(['profiles', 'deactivate', 'Unhappy', '--destination', 'suppression', '--workspace', workspace]);
    expect(again.code).toBe(2);
  });

  it('drops the view of a deleted profile with its activations', async () => {
    await ok('profiles', 'create', 'Short lived', '--workspace', workspace, '--score', '<3', '--within', '10d');
    await ok('profiles', 'run', 'Short lived', '--workspace', workspace, '--record');
    await ok('profiles', 'activate', 'Short lived', '--destination', 'suppression', '--workspace', workspace);
    const view = raw.own('suppress_short_lived');
    expect((await raw.query<{ email: string }>(`SELECT email FROM ${view} ORDER BY email`)).map((r) => r.email)).toEqual(['ann@example.com', 'bob@example.com']);
    await ok('profiles', 'delete', 'Short lived', '--workspace', workspace);
    await expect(raw.query(`SELECT * FROM ${view}`)).rejects.toThrow();
    const listed = JSON.parse(await ok('destinations', 'list', '--workspace', workspace, '--json')) as { name: string; profiles: { profile: string }[] }[];
    expect(listed.find((d) => d.name === 'suppression')?.profiles).toEqual([]);
  });

  it('removes a destination, and no output ever held the secret', async () => {
    await ok('destinations', 'remove', 'crm', '--workspace', workspace);
    expect((await cli(['destinations', 'remove', 'crm', '--workspace', workspace])).stderr).toContain('DESTINATION_NOT_FOUND');
    expect(JSON.parse(await ok('deliveries', '--workspace', workspace, '--json'))).toEqual([]);
    for (const output of outputs) {
      expect(output).not.toContain(SECRET);
    }
  });

  it('lets the operator drop files anywhere until roots are set, then only under them', async () => {
    const base = tempDirectory(`cli-roots-${database.dialect}`);
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    symlinkSync(outside, join(root, 'escape'));
    await ok('destinations', 'add', 'file', 'anywhere', '--workspace', workspace, '--set', `directory=${outside}`);
    const rooted = (args: string[]) => runCli(args, { ...env, TRIBUTARY_FILE_DESTINATION_ROOTS: root });
    for (const directory of [outside, join(root, 'escape'), `${root}/../outside`]) {
      const refused = await rooted(['destinations', 'add', 'file', 'out', '--workspace', workspace, '--set', `directory=${directory}`]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('DESTINATION_DIRECTORY_NOT_ALLOWED');
    }
    // Roots bind the runner and tests too: the destination added before them is not written to.
    const tested = await rooted(['destinations', 'test', 'anywhere', '--workspace', workspace]);
    expect(tested.stderr).toContain('DESTINATION_DIRECTORY_NOT_ALLOWED');
    expect(readdirSync(outside)).toEqual([]);
    expect(await rooted(['destinations', 'add', 'file', 'in', '--workspace', workspace, '--set', `directory=${join(root, 'drops')}`])).toMatchObject({ code: 0 });
    expect((await rooted(['destinations', 'test', 'in', '--workspace', workspace])).stdout).toContain('is writable');
    const relative = await runCli(['destinations', 'list', '--workspace', workspace], { ...env, TRIBUTARY_FILE_DESTINATION_ROOTS: 'drops' });
    expect(relative.stderr).toContain('ENV_INVALID');
  });
});
