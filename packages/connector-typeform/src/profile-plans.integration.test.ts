import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorDefinition, ProfileDefinitionInput } from '@tributary/sdk';
import { installConnector, runSync } from '@tributary/runner';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { startSandbox, type Sandbox } from '@tributary/typeform-sandbox';
import { createTypeformConnector } from './index.js';

// The profile shapes a workspace with Typeform runs, on both databases: their members against the
// responses below, and on SQLite (which plans without statistics, so the plan does not depend on
// the data) a plan that reaches answers through an index on the response they belong to, never by
// reading a range of answers per response.

const databases = await testDatabases('typeform_plans');
const FAST = { requestsPerSecond: 1000, backoffBaseMs: 1, backoffMaxMs: 5, rateLimitWaitMs: 5, maxAttempts: 4 };
const connector = createTypeformConnector({ client: FAST }) as unknown as ConnectorDefinition;
const DAY = 86_400_000;

const PROFILES: { definition: ProfileDefinitionInput; members: string[] }[] = [
  {
    definition: { name: 'Two or less in 10 days', match: { all: [{ type: 'responded', withinDays: 10 }, { type: 'score', op: '<=', value: 2 }] } },
    members: ['ann@example.com', 'cy@example.com'],
  },
  { definition: { name: 'Ever gave a 9', match: { type: 'score', op: '=', value: 9 } }, members: ['bob@example.com', 'dee@example.com'] },
  {
    definition: { name: 'Latest in 10 days is low', over: 'latest-response', match: { all: [{ type: 'responded', withinDays: 10 }, { type: 'score', op: '<=', value: 2 }] } },
    members: ['ann@example.com'],
  },
  {
    definition: { name: 'Nothing of 5 or more in 10 days', match: { all: [{ type: 'responded', withinDays: 10 }, { none: [{ type: 'score', op: '>=', value: 5 }] }] } },
    members: ['ann@example.com', 'cy@example.com'],
  },
];

describe.each(databases)('typeform profiles and their plans on $dialect', (db) => {
  let store: TypeOrmStore;
  let sandbox: Sandbox;
  const now = new Date();

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 0, forms: 1, seed: 31, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
    const formId = sandbox.forms()[0]!.id;
    const add = (email: string, score: number, days: number) => sandbox.addResponses({ count: 1, formId, email, score, submittedAt: new Date(now.getTime() - days * DAY) });
    add('ann@example.com', 1, 2);
    add('bob@example.com', 9, 3);
    add('cy@example.com', 2, 5);
    add('cy@example.com', 4, 1);
    add('dee@example.com', 9, 40);
    add('eve@example.com', 0, 30);
    store = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    await store.migrate();
    const { installation } = await installConnector({
      store,
      connector,
      workspace: 'plans',
      config: connector.configSchema.parse({ token: sandbox.token, baseUrl: sandbox.url, backfillDays: 60 }) as Record<string, unknown>,
      billing: { plan: 'monthly' },
    });
    expect((await runSync({ store, connector, installation, now: () => now })).status).toBe('succeeded');
    for (const { definition } of PROFILES) await store.createProfile('plans', definition);
  });
  afterAll(async () => {
    await store?.close();
    await sandbox?.close();
  });

  it.each(PROFILES.map((p) => ({ name: p.definition.name, members: p.members })))('$name: its members', async ({ name, members }) => {
    const evaluation = await store.evaluateProfile('plans', name, { now, record: false });
    expect(evaluation.members.map((m) => m.email).sort()).toEqual(members);
  });

  it.runIf(db.dialect === 'sqlite').each(PROFILES.map((p) => ({ name: p.definition.name })))('$name: answers and later responses are reached by index, one probe each', async ({ name }) => {
    const plan = await store.explainProfile('plans', name, { now });
    expect(plan.some((line) => /typeform_answers/.test(line))).toBe(true);
    const responsesAt = plan.findIndex((line) => /^SEARCH r /.test(line));
    plan.forEach((line, index) => {
      expect(line).not.toMatch(/^SCAN (r|ja|a|l)\b/);
      // An answer read inside a loop over responses is found by its response, not by a range of time or score.
      if (responsesAt >= 0 && index > responsesAt && /^SEARCH (ja|a) /.test(line)) expect(line).toMatch(/response_id=\?/);
      // A later response of the same customer is looked up by e-mail.
      if (/^SEARCH l /.test(line)) expect(line).toMatch(/email_normalized=\?/);
    });
  });
});
