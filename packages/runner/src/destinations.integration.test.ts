import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMappings, compileMappings, dataModelSchema, validateMappings, type DeliveryBatch, type Installation } from '@tributary/core';
import { closeAlertConnector, closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { startSandbox } from '@tributary/closealert-sandbox';
import { tempDirectory, testDatabases, type TestDatabase } from '@tributary/testing';
import { fileDestination } from './destinations/file.js';
import { createRunner, type RunnerEvent } from './runner.js';
import { deliverDue } from './deliveries.js';
import { webhookDestination } from './destinations/webhook.js';
import { verifySignature } from './destinations/signature.js';

// Profiles that act, end to end on both databases: the runner evaluates a workspace's profiles as
// time passes, the recorded changes go to a real webhook receiver started here, which checks every
// signature and answers 500s and time-outs on purpose; each change arrives exactly once per key.

const databases = await testDatabases('webhook');

const START = new Date('2024-06-20T12:00:00.000Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const SECRET = 'receiver-shared-secret-0123456789';
// The receiver listens on loopback, which webhooks reach only when the operator allows it.
const LIMITS = { fileRoots: [], webhookAllowHosts: ['127.0.0.1'] };

const model = dataModelSchema.parse(closeAlertDataModel);
const mappings = validateMappings(closeAlertDefaultMappings, model);
const compiled = compileMappings(mappings, model);

function response(id: number, email: string, at: Date, score: number) {
  return {
    id,
    created_at: at.toISOString(),
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

/** A receiver that verifies signatures and fails on demand: each request takes the next planned answer. */
class Receiver {
  readonly server: Server;
  /** Planned answers for the next requests: a status, or 'hang' (answer after the sender gave up). */
  plan: (number | 'hang')[] = [];
  /** Requests in arrival order, with whether the signature held. */
  readonly requests: { key: string | undefined; valid: boolean; batch: DeliveryBatch; answered: number | 'hang' }[] = [];
  /** Batches accepted (2xx), by idempotency key: what a receiver acting exactly once keeps. */
  readonly accepted = new Map<string, DeliveryBatch>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const header = req.headers['tributary-signature'];
    const valid = verifySignature({ secret: SECRET, header: Array.isArray(header) ? header[0] : header, body, nowSeconds: Math.floor(Date.now() / 1000) });
    const key = req.headers['idempotency-key'] as string | undefined;
    const answer = this.plan.shift() ?? 200;
    const batch = JSON.parse(body) as DeliveryBatch;
    this.requests.push({ key, valid, batch, answered: answer });
    if (answer === 'hang') {
      setTimeout(() => res.writeHead(200).end('late'), 1500).unref();
      return;
    }
    if (answer < 300 && valid && key) this.accepted.set(key, batch);
    res.writeHead(valid ? answer : 401).end();
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/tributary`;
  }

  /** Every change accepted, as `email:change` per key. */
  changes(): string[] {
    return [...this.accepted.values()].flatMap((b) => b.changes.map((c) => `${c.email}:${c.change}`));
  }
}

describe.each(databases)('webhook deliveries on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let installation: Installation;
  const receiver = new Receiver();
  let url = '';
  const workspace = `hook-${randomBytes(3).toString('hex')}`;
  let now = START;
  const clock = () => now;

  beforeAll(async () => {
    url = await receiver.start();
    store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    await store.migrate();
    installation = await store.install({
      workspace,
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'not-a-real-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings,
      dataModel: model,
    });
    const runId = await store.startRun(installation.id, START);
    await store.writePage({
      installationId: installation.id,
      runId,
      stream: 'form_responses',
      rows: applyMappings(
        [response(1, 'ann@example.com', new Date(START.getTime() - 2 * DAY), 1), response(2, "bob@example.com", new Date(START.getTime() - 9 * DAY - 12 * HOUR), 2)],
        compiled,
        { backfill: false, timeZone: 'UTC' },
      ),
      rejected: [],
      checkpoint: { cursor: START.toISOString() },
    });
    await store.createProfile(workspace, { name: 'unhappy', match: { all: [{ type: 'responded', withinDays: 10 }, { type: 'score', op: '<', value: 3 }] } });
    const config = webhookDestination.configSchema.parse({ url, secret: SECRET, timeoutMs: '300' });
    await store.addDestination({ workspace, name: 'crm', type: 'webhook', kind: 'push', snapshot: false, config, secretFields: ['secret'] }, START);
    await store.activateProfile(workspace, 'unhappy', 'crm', START);
  });

  afterAll(async () => {
    await store?.close();
    await new Promise((resolve) => receiver.server.close(resolve));
  });

  it('evaluates hourly, and time passing moves a customer out; the receiver hears each change once through 500s and time-outs', async () => {
    const events: RunnerEvent[] = [];
    const runner = createRunner({
      store,
      connectorFor: (app) => (app === 'closealert' ? (closeAlertConnector as never) : undefined),
      now: clock,
      timers: { repeat: () => () => undefined },
      // No sync is due during the test: only the profiles' evaluation and the deliveries run.
      policy: { everyMs: 366 * 24 * HOUR },
      activation: {
        store,
        destinationFor: (type) => (type === 'webhook' ? webhookDestination : undefined),
        deliveryPolicy: { backoffBaseMs: 1000, backoffMaxMs: 4000, maxAttempts: 6 },
        destinationLimits: LIMITS,
      },
      onEvent: (event) => events.push(event),
    });
    await store.saveSchedule({ installationId: installation.id, nextRunAt: new Date(START.getTime() + 365 * DAY), attempts: 0, lastStartedAt: null, lastFinishedAt: null, lastStatus: null, lastErrorCode: null }, 0);

    // First hour: ann and bob enter. The receiver fails twice (500, then a time-out), then accepts.
    receiver.plan = [500, 'hang'];
    await runner.tick();
    expect(events.filter((e) => e.type === 'profiles-evaluated')).toMatchObject([{ workspace, evaluated: 1, entered: 2, left: 0 }]);
    for (let i = 0; i < 3; i += 1) {
      now = new Date(now.getTime() + 5000);
      await runner.tick();
    }
    expect(receiver.changes()).toEqual(['ann@example.com:entered', 'bob@example.com:entered']);
    const firstKeys = receiver.requests.map((r) => r.key);
    expect(new Set(firstKeys).size).toBe(1);
    expect(receiver.requests.map((r) => r.answered)).toEqual([500, 'hang', 200]);
    expect(receiver.requests.every((r) => r.valid)).toBe(true);

    // The same hour again (a second tick, or a second runner): the moment is claimed, nothing is recorded twice.
    await runner.tick();
    expect(events.filter((e) => e.type === 'profiles-evaluated')).toHaveLength(1);

    // A day later bob's feedback is more than ten days old: he leaves by himself.
    now = new Date(START.getTime() + DAY);
    receiver.plan = [503];
    await runner.tick();
    now = new Date(now.getTime() + 5000);
    await runner.tick();
    expect(receiver.changes()).toEqual(['ann@example.com:entered', 'bob@example.com:entered', 'bob@example.com:left']);
    // At least once on the wire, exactly once per key for the receiver.
    const byKey = new Map<string, number>();
    for (const r of receiver.requests) byKey.set(r.key!, (byKey.get(r.key!) ?? 0) + 1);
    expect([...byKey.values()]).toEqual([3, 2]);
    const deliveries = await store.listDeliveries({ workspace, limit: 10 });
    expect(deliveries.map((d) => [d.status, d.attempts, d.count])).toEqual([
      ['delivered', 2, 1],
      ['delivered', 3, 2],
    ]);
    // profiles show reads this: when it was last evaluated.
    expect((await store.getProfile(workspace, 'unhappy'))!.lastEvaluation).toEqual({ evaluatedAt: new Date(START.getTime() + DAY), memberCount: 1 });
    await runner.stop();
  });

  it('records one evaluation per moment when several runner processes tick at once', async () => {
    const moment = new Date(START.getTime() + 3 * DAY);
    const seen: RunnerEvent[] = [];
    const stores = await Promise.all([1, 2, 3].map(() => createStore({ url: database.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) })));
    try {
      const runners = stores.map((s) =>
        createRunner({
          store: s,
          connectorFor: () => undefined,
          now: () => moment,
          timers: { repeat: () => () => undefined },
          policy: { everyMs: 366 * 24 * HOUR },
          activation: { store: s, destinationFor: () => undefined },
          onEvent: (event) => seen.push(event),
        }),
      );
      const before = (await store.profileHistory(workspace, 'unhappy', { limit: 100 })).length;
      // SQLite: one after another. Three better-sqlite3 connections in one process would block each
      // other's busy waits on the single thread (separate runner processes do not); the claim is the same.
      if (database.dialect === 'postgres') await Promise.all(runners.map((r) => r.tick()));
      else for (const r of runners) await r.tick();
      expect(seen.filter((e) => e.type === 'profiles-evaluated')).toHaveLength(1);
      const history = await store.profileHistory(workspace, 'unhappy', { limit: 100 });
      expect(history).toHaveLength(before + 1);
      expect(history[0]!.evaluatedAt).toEqual(moment);
      await Promise.all(runners.map((r) => r.stop()));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('dead-letters a batch after the attempts run out, and a restart does not send it again', async () => {
    const before = receiver.requests.length;
    const at = new Date(START.getTime() + 2 * DAY);
    expect(await store.enqueueForgetLeft(workspace, 'ann@example.com', at)).toBe(1);
    receiver.plan = [500, 500, 500];
    let t = at;
    const events: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      await deliverDue({
        store,
        destinationFor: () => webhookDestination,
        limits: LIMITS,
        now: () => t,
        policy: { maxAttempts: 3, backoffBaseMs: 1000, backoffMaxMs: 1000 },
        random: () => 0.5,
        onEvent: (e) => events.push(`${e.status}:${e.attempts}`),
      });
      t = new Date(t.getTime() + 2000);
    }
    expect(events).toEqual(['retry:1', 'retry:2', 'dead:3']);
    expect(receiver.requests.length - before).toBe(3);
    const [dead] = await store.listDeliveries({ workspace, status: 'dead', limit: 5 });
    expect(dead).toMatchObject({ reason: 'forget', status: 'dead', attempts: 3, lastError: expect.stringContaining('HTTP 500') });
    expect(dead!.lastError).not.toContain(SECRET);
  });
});

describe.each(databases)('after a sync on $dialect', (database: TestDatabase) => {
  it('evaluates the profiles of the synced workspace and drops the change into a file', async () => {
    const sandbox = await startSandbox({ responses: 0 });
    const store = await createStore(
      database.dialect === 'postgres'
        ? { url: database.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }), schema: 'after_sync' }
        : { url: database.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }), tablePrefix: 'after_sync_' },
    );
    const drop = tempDirectory(`after-sync-${database.dialect}`);
    try {
      await store.migrate();
      const yesterday = new Date(Math.floor(Date.now() / 1000) * 1000 - DAY);
      sandbox.addResponses([{ ...response(7, 'dee@example.com', yesterday, 1), created_at: yesterday.toISOString().slice(0, 19), mail_url: 'https://m.example.com/7', user_agent: 'x', device_type: 'desktop', operating_system: 'linux' }]);
      const installation = await store.install({
        workspace: 'after-sync',
        app: 'closealert',
        config: closeAlertConnector.configSchema.parse({ projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url, backfillDays: 2 }) as Record<string, unknown>,
        secretFields: closeAlertConnector.secrets,
        mappings: [...closeAlertConnector.defaultMappings],
        dataModel: closeAlertConnector.dataModel,
      });
      await store.createProfile('after-sync', { name: 'unhappy', match: { all: [{ type: 'responded', withinDays: 10 }, { type: 'score', op: '<', value: 3 }] } });
      await store.addDestination({ workspace: 'after-sync', name: 'drop', type: 'file', kind: 'push', snapshot: true, config: fileDestination.configSchema.parse({ directory: drop }), secretFields: [] }, new Date());
      await store.activateProfile('after-sync', 'unhappy', 'drop', new Date());
      const events: RunnerEvent['type'][] = [];
      const runner = createRunner({
        store,
        connectorFor: () => closeAlertConnector as never,
        timers: { repeat: () => () => undefined },
        activation: { store, destinationFor: (type) => (type === 'file' ? fileDestination : undefined) },
        onEvent: (event) => events.push(event.type),
      });
      expect(await runner.handle({ installationId: installation.id, version: 0 })).toBe('ran');
      expect(events).toEqual(['sync-started', 'job-done', 'profiles-evaluated', 'delivery']);
      const files = readdirSync(drop).sort();
      expect(files).toEqual([expect.stringMatching(/^unhappy-changes-\d{8}T\d{6}Z-[0-9a-f-]{36}\.jsonl$/), 'unhappy-members.jsonl']);
      expect(readFileSync(join(drop, files[0]!), 'utf8')).toContain('"email":"dee@example.com","change":"entered"');
      expect(readFileSync(join(drop, 'unhappy-members.jsonl'), 'utf8')).toBe('{"email":"dee@example.com"}\n');
      await runner.stop();
    } finally {
      await store.close();
      await sandbox.close();
    }
  });
});
