import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMappings,
  compileMappings,
  ConfigError,
  dataModelSchema,
  profileDefinitionSchema,
  validateMappings,
  type Installation,
  type ProfileCondition,
  type ProfileDefinitionInput,
  type ProfileMember,
} from '@tributary/core';
import { closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from '../index.js';
import { openRawDatabase, type RawDatabase } from '../test-support/raw-database.js';
import { feedbackSourceOf } from './schema.js';
import { compileProfile, explainStatement } from './compile.js';

// Profiles over hand-made CloseAlert responses, stored exactly as a sync stores them (the connector's
// data model and default mappings, written with writePage), evaluated on both databases against
// expectations computed by hand from the table below.

const databases = await testDatabases('profiles');

const NOW = new Date('2024-06-20T12:00:00.000Z');
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

const model = dataModelSchema.parse(closeAlertDataModel);
const mappings = validateMappings(closeAlertDefaultMappings, model);
const compiled = compileMappings(mappings, model);

const FORMS = {
  34: { id: 34, form_type: 'email-satisfaction', name: 'Email satisfaction form' },
  35: { id: 35, form_type: 'nps', name: 'Net promoter score' },
} as const;
const MAILINGS = {
  100: { mailing: { id: 100, name: 'May newsletter' }, group: { id: 44, name: 'Newsletters' } },
  101: { mailing: { id: 101, name: 'Order confirmation' }, group: { id: 45, name: 'Transactional' } },
  102: { mailing: { id: 102, name: 'June promo' }, group: { id: 44, name: 'Newsletters' } },
} as const;
const OLD_Q1 = 'What do you think of this email?';
const NEW_Q1 = 'How would you rate this e-mail?';

interface Spec {
  id: number;
  email: string | null;
  at: string;
  form: 34 | 35;
  mailing: 100 | 101 | 102;
  score: number;
  comment: string;
  q1?: string;
  /** A third answer: a form field whose value happens to be numeric text. */
  field?: string;
}

// id, who, when, where, and what they answered. Backfilled: 4, 7, 11 (the first sync's history).
const NEW: Spec[] = [
  {
    id: 1,
    email: 'ann@example.com',
    at: daysAgo(2),
    form: 34,
    mailing: 100,
    score: 1,
    comment: 'Too many mails',
  },
  { id: 2, email: 'bob@example.com', at: daysAgo(5), form: 34, mailing: 100, score: 2, comment: 'ok' },
  {
    id: 3,
    email: 'cy@example.com',
    at: daysAgo(8),
    form: 34,
    mailing: 101,
    score: 5,
    comment: 'Great, 100% happy',
  },
  { id: 5, email: 'ed@example.com', at: daysAgo(3), form: 35, mailing: 101, score: 2, comment: 'meh_' },
  {
    id: 6,
    email: ' Fay@Example.com',
    at: daysAgo(1),
    form: 34,
    mailing: 100,
    score: 4,
    comment: 'fine',
    field: '2',
  },
  { id: 8, email: null, at: daysAgo(1), form: 34, mailing: 100, score: 1, comment: 'anonymous' },
  {
    id: 9,
    email: 'gus@example.com',
    at: daysAgo(4),
    form: 34,
    mailing: 100,
    score: 3,
    comment: "'; DROP TABLE x; --",
  },
  {
    id: 10,
    email: 'hal@example.com',
    at: daysAgo(6),
    form: 34,
    mailing: 102,
    score: 5,
    comment: '50% off? 100_percent',
  },
  {
    id: 12,
    email: 'ivy@example.com',
    at: new Date(NOW.getTime() + 30 * DAY).toISOString(),
    form: 34,
    mailing: 100,
    score: 1,
    comment: 'from the future',
  },
];
const BACKFILLED: Spec[] = [
  {
    id: 4,
    email: 'dee@example.com',
    at: daysAgo(20),
    form: 34,
    mailing: 100,
    score: 1,
    comment: 'late delivery',
    q1: OLD_Q1,
  },
  {
    id: 7,
    email: 'ann@example.com',
    at: daysAgo(30),
    form: 34,
    mailing: 100,
    score: 5,
    comment: 'love it',
    q1: OLD_Q1,
  },
  { id: 11, email: 'bob@example.com', at: daysAgo(40), form: 35, mailing: 102, score: 9, comment: 'good' },
];

function record(spec: Spec) {
  const { mailing, group } = MAILINGS[spec.mailing];
  const q1 = spec.form === 34 ? (spec.q1 ?? NEW_Q1) : 'How likely are you to recommend us?';
  const answers: Record<string, unknown>[] = [
    {
      question: q1,
      question_type: 'sentiment',
      answer_type: null,
      question_index: '1',
      response_value: spec.score,
    },
    {
      question: 'Why?',
      question_type: 'comment',
      answer_type: null,
      question_index: '2',
      response_value: spec.comment,
    },
  ];
  if (spec.field)
    answers.push({
      question: 'Your order number',
      question_type: 'form',
      answer_type: 'text',
      question_index: '3',
      response_value: spec.field,
    });
  return {
    id: spec.id,
    created_at: spec.at,
    email: spec.email,
    mail_url: `https://mail.example.com/${spec.id}`,
    user_agent: 'Mozilla/5.0',
    device_type: 'desktop',
    operating_system: 'macos',
    followed_up: false,
    merge_tags: {},
    form: FORMS[spec.form],
    mailing,
    group,
    answers,
  };
}

const emails = (members: { email: string }[]) => members.map((m) => m.email);

/** "Everyone of the past ten days who answered the score question of form 34 with 1, or below 3." */
const MANUAL_EXAMPLE: ProfileCondition = {
  all: [
    { type: 'responded', withinDays: 10 },
    { type: 'form', id: 34 },
    { type: 'question', formId: 34, questionIndex: '1' },
    {
      any: [
        { type: 'score', op: '=', value: 1 },
        { type: 'score', op: '<', value: 3 },
      ],
    },
  ],
};

describe.each(databases)('profiles on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let raw: RawDatabase;
  let installation: Installation;
  const workspace = `profiles-${randomBytes(3).toString('hex')}`;
  const pg = database.dialect === 'postgres';
  let counter = 0;

  async function write(specs: Spec[], backfill: boolean): Promise<void> {
    const runId = await store.startRun(installation.id, NOW);
    const rows = applyMappings(specs.map(record), compiled, { backfill, timeZone: 'UTC' });
    await store.writePage({
      installationId: installation.id,
      runId,
      stream: 'form_responses',
      rows,
      rejected: [],
      checkpoint: { cursor: NOW.toISOString() },
    });
  }

  /** Creates a profile and returns the e-mails of its members at NOW. */
  async function members(
    match: ProfileCondition,
    over: ProfileDefinitionInput['over'] = 'any-response',
  ): Promise<string[]> {
    const name = `p${++counter}`;
    await store.createProfile(workspace, { name, match, over });
    return emails((await store.evaluateProfile(workspace, name, { now: NOW, record: false })).members);
  }

  beforeAll(async () => {
    store = await createStore({
      url: database.url,
      cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }),
    });
    await store.migrate();
    raw = await openRawDatabase(database);
    // The user's own customers table, linked read-only: ann is customer 501 there.
    await raw.query(
      pg
        ? 'CREATE TABLE public.customers (id integer PRIMARY KEY, email text)'
        : 'CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)',
    );
    await raw.query(
      `INSERT INTO customers (id, email) VALUES (501, ' ANN@example.com'), (502, 'zed@example.com')`,
    );
    installation = await store.install({
      workspace,
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'not-a-real-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings,
      dataModel: model,
      customerTable: { table: 'customers', emailColumn: 'email', idColumn: 'id' },
    });
    await write(BACKFILLED, true);
    await write(NEW, false);
  });

  afterAll(async () => {
    await raw?.close();
    await store?.close();
  });

  it("finds the manual's first example: past ten days, form 34, question 1 scored 1 or below 3", async () => {
    await store.createProfile(workspace, { name: 'Unhappy last 10 days', match: MANUAL_EXAMPLE });
    const result = await store.evaluateProfile(workspace, 'Unhappy last 10 days', {
      now: NOW,
      record: false,
    });
    expect(result.installationId).toBe(installation.id);
    expect(result.apps).toEqual(['closealert']);
    const match = (responseId: string, score: number, at: string) => ({
      app: 'closealert',
      installationId: installation.id,
      responseId,
      formId: 34,
      score,
      respondedAt: new Date(at),
    });
    expect(result.members).toEqual([
      {
        email: 'ann@example.com',
        contactId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        customerId: '501',
        ...match('1', 1, daysAgo(2)),
        matches: [match('1', 1, daysAgo(2))],
      },
      {
        email: 'bob@example.com',
        contactId: expect.any(String),
        customerId: null,
        ...match('2', 2, daysAgo(5)),
        matches: [match('2', 2, daysAgo(5))],
      },
    ]);
    // The contact ids are those of the contacts table, which the store wrote with each response.
    const contacts = await raw.query<{ email_normalized: string; contact_id: string }>(
      `SELECT email_normalized, contact_id FROM ${store.appTable('closealert', 'contacts')} WHERE installation_id = ? AND email_normalized IN ('ann@example.com', 'bob@example.com') ORDER BY email_normalized`,
      [installation.id],
    );
    expect(result.members.map((m) => [m.email, m.contactId])).toEqual(
      contacts.map((c) => [c.email_normalized, c.contact_id]),
    );

    // A response stored without its contact id (by a Tributary from before the column, during an
    // upgrade) still shows it: the profile looks it up.
    const responses = store.appTable('closealert', 'form_responses');
    await raw.query(
      `UPDATE ${responses} SET contact_id = NULL WHERE installation_id = ? AND email_normalized = 'ann@example.com'`,
      [installation.id],
    );
    try {
      const again = await store.evaluateProfile(workspace, 'Unhappy last 10 days', { now: NOW, record: false });
      expect(again.members.map((m) => [m.email, m.contactId])).toEqual(
        contacts.map((c) => [c.email_normalized, c.contact_id]),
      );
    } finally {
      await raw.query(
        `UPDATE ${responses} SET contact_id = ? WHERE installation_id = ? AND email_normalized = 'ann@example.com'`,
        [contacts[0]!.contact_id, installation.id],
      );
    }
  });

  it("finds the manual's second example: everyone who gave a 5, with the response that did", async () => {
    await store.createProfile(workspace, { name: 'Gave a 5', match: { type: 'score', op: '=', value: 5 } });
    const { members: found } = await store.evaluateProfile(workspace, 'Gave a 5', {
      now: NOW,
      record: false,
    });
    expect(found.map((m) => [m.email, m.responseId, m.score])).toEqual([
      ['ann@example.com', '7', 5],
      ['cy@example.com', '3', 5],
      ['hal@example.com', '10', 5],
    ]);
  });

  it('applies every score operator to the named question', async () => {
    const q1 = { type: 'question', questionIndex: '1' } as const;
    const scored = (score: ProfileCondition) => members({ all: [q1, score] });
    expect(await scored({ type: 'score', op: '=', value: 1 })).toEqual([
      'ann@example.com',
      'dee@example.com',
    ]);
    expect(await scored({ type: 'score', op: '!=', value: 5 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'dee@example.com',
      'ed@example.com',
      'fay@example.com',
      'gus@example.com',
    ]);
    expect(await scored({ type: 'score', op: '<', value: 3 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'dee@example.com',
      'ed@example.com',
    ]);
    expect(await scored({ type: 'score', op: '<=', value: 2 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'dee@example.com',
      'ed@example.com',
    ]);
    expect(await scored({ type: 'score', op: '>', value: 4 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'cy@example.com',
      'hal@example.com',
    ]);
    expect(await scored({ type: 'score', op: '>=', value: 4 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'cy@example.com',
      'fay@example.com',
      'hal@example.com',
    ]);
    expect(await scored({ type: 'score', op: 'between', min: 2, max: 3 })).toEqual([
      'bob@example.com',
      'ed@example.com',
      'gus@example.com',
    ]);
    expect(await scored({ type: 'score', op: 'in', values: [1, 4] })).toEqual([
      'ann@example.com',
      'dee@example.com',
      'fay@example.com',
    ]);
    // Several score conditions of which any may hold (compiled to the fewest ranges): the union of the above.
    const anyOf = (...any: ProfileCondition[]) => scored({ any });
    expect(await anyOf({ type: 'score', op: '=', value: 1 }, { type: 'score', op: '<', value: 3 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'dee@example.com',
      'ed@example.com',
    ]);
    expect(await anyOf({ type: 'score', op: '=', value: 1 }, { type: 'score', op: '>', value: 4 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'cy@example.com',
      'dee@example.com',
      'hal@example.com',
    ]);
    expect(
      await anyOf(
        { type: 'score', op: 'between', min: 2, max: 3 },
        { type: 'score', op: 'in', values: [1, 4] },
      ),
    ).toEqual([
      'ann@example.com',
      'bob@example.com',
      'dee@example.com',
      'ed@example.com',
      'fay@example.com',
      'gus@example.com',
    ]);
    expect(
      await anyOf({ type: 'score', op: '<', value: 3 }, { type: 'score', op: 'between', min: 3, max: 3 }),
    ).toEqual(['ann@example.com', 'bob@example.com', 'dee@example.com', 'ed@example.com', 'gus@example.com']);
  });

  it('holds question and score on one same answer', async () => {
    // fay scored question 1 with a 4; only her order-number field reads "2".
    expect(await members({ type: 'score', op: '<', value: 3 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'dee@example.com',
      'ed@example.com',
      'fay@example.com',
    ]);
    expect(
      await members({
        all: [
          { type: 'question', questionIndex: '1' },
          { type: 'score', op: '<', value: 3 },
        ],
      }),
    ).not.toContain('fay@example.com');
    expect(
      await members({
        all: [
          { type: 'question', questionIndex: '3' },
          {
            all: [
              { type: 'form', id: 34 },
              { type: 'score', op: '=', value: 2 },
            ],
          },
        ],
      }),
    ).toEqual(['fay@example.com']);
  });

  it('filters on response time, form, mailing, group and backfill', async () => {
    expect(await members({ type: 'responded', withinDays: 5 })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'ed@example.com',
      'fay@example.com',
      'gus@example.com',
    ]);
    expect(await members({ type: 'responded', from: '2024-06-12', to: '2024-06-15' })).toEqual([
      'bob@example.com',
      'cy@example.com',
      'hal@example.com',
    ]);
    expect(
      await members({ type: 'responded', from: '2024-06-12T00:00:00Z', to: '2024-06-15T00:00:00Z' }),
    ).toEqual(['cy@example.com', 'hal@example.com']);
    expect(await members({ type: 'form', name: 'net PROMOTER score' })).toEqual([
      'bob@example.com',
      'ed@example.com',
    ]);
    expect(await members({ type: 'mailing', id: 101 })).toEqual(['cy@example.com', 'ed@example.com']);
    expect(await members({ type: 'mailing', name: 'June promo' })).toEqual([
      'bob@example.com',
      'hal@example.com',
    ]);
    expect(await members({ type: 'group', id: 45 })).toEqual(['cy@example.com', 'ed@example.com']);
    expect(await members({ type: 'group', name: 'Newsletters' })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'dee@example.com',
      'fay@example.com',
      'gus@example.com',
      'hal@example.com',
    ]);
    expect(await members({ type: 'backfilled', value: true })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'dee@example.com',
    ]);
    expect(await members({ type: 'backfilled', value: false })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'cy@example.com',
      'ed@example.com',
      'fay@example.com',
      'gus@example.com',
      'hal@example.com',
    ]);
  });

  it('matches a question by the text it was answered with or by its current text', async () => {
    expect(await members({ type: 'question', text: OLD_Q1 })).toEqual(['ann@example.com', 'dee@example.com']);
    expect(await members({ type: 'question', text: '  how would you rate this E-MAIL? ' })).toEqual([
      'ann@example.com',
      'bob@example.com',
      'cy@example.com',
      'dee@example.com',
      'fay@example.com',
      'gus@example.com',
      'hal@example.com',
    ]);
  });

  it('combines with all, any and none', async () => {
    expect(
      await members({
        any: [
          { type: 'form', id: 35 },
          { type: 'comment', contains: 'delivery' },
        ],
      }),
    ).toEqual(['bob@example.com', 'dee@example.com', 'ed@example.com']);
    expect(
      await members({ all: [{ type: 'form', id: 34 }, { none: [{ type: 'score', op: '<', value: 3 }] }] }),
    ).toEqual(['ann@example.com', 'cy@example.com', 'gus@example.com', 'hal@example.com']);
    expect(await members({ none: [{ type: 'form', id: 34 }] })).toEqual([
      'bob@example.com',
      'ed@example.com',
    ]);
    expect(
      await members({
        all: [
          { type: 'responded', withinDays: 10 },
          {
            any: [
              { type: 'mailing', id: 101 },
              { type: 'score', op: '=', value: 5 },
            ],
          },
        ],
      }),
    ).toEqual(['cy@example.com', 'ed@example.com', 'hal@example.com']);
  });

  it("looks only at each customer's latest response when asked", async () => {
    const topScore = {
      all: [
        { type: 'question', questionIndex: '1' },
        { type: 'score', op: '>', value: 4 },
      ],
    } satisfies ProfileCondition;
    expect(await members(topScore)).toEqual([
      'ann@example.com',
      'bob@example.com',
      'cy@example.com',
      'hal@example.com',
    ]);
    expect(await members(topScore, 'latest-response')).toEqual(['cy@example.com', 'hal@example.com']);
    expect(await members({ type: 'score', op: '=', value: 5 }, 'latest-response')).toEqual([
      'cy@example.com',
      'hal@example.com',
    ]);
  });

  it('searches comments literally and case-insensitively: SQL and wildcards in values are plain text', async () => {
    expect(await members({ type: 'comment', contains: 'DELIVERY' })).toEqual(['dee@example.com']);
    expect(await members({ type: 'comment', contains: "'; DROP TABLE x; --" })).toEqual(['gus@example.com']);
    expect(await members({ type: 'comment', contains: '%' })).toEqual(['cy@example.com', 'hal@example.com']);
    expect(await members({ type: 'comment', contains: '_' })).toEqual(['ed@example.com', 'hal@example.com']);
    expect(await members({ type: 'form', name: "x' OR '1'='1" })).toEqual([]);
    expect(await members({ type: 'question', text: '") OR 1=1 --' })).toEqual([]);
    const counts = await store.countRows(installation.id);
    expect(Object.values(counts).every((n) => n > 0)).toBe(true);
  });

  it('refuses bad definitions and names with a ConfigError naming the field', async () => {
    await expect(
      store.createProfile(workspace, {
        name: "x'; DROP TABLE y; --",
        match: { type: 'score', op: '=', value: 5 },
      }),
    ).rejects.toThrow(/name must start with a letter or digit/);
    await expect(
      store.createProfile(workspace, { name: 'bad', match: { type: 'score', op: '<<', value: 3 } } as never),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(
      store.createProfile(workspace, { name: 'Gave a 5', match: { type: 'score', op: '=', value: 5 } }),
    ).rejects.toMatchObject({ code: 'PROFILE_EXISTS' });
    await expect(
      store.createProfile("nope'; --", { name: 'x', match: { type: 'score', op: '=', value: 5 } }),
    ).rejects.toMatchObject({ code: 'WORKSPACE_NOT_FOUND' });
    await expect(store.evaluateProfile(workspace, "missing' OR 1=1 --")).rejects.toMatchObject({
      code: 'PROFILE_NOT_FOUND',
    });
  });

  it('tells who entered and who left as time passes, and keeps the history', async () => {
    await store.createProfile(workspace, {
      name: 'Excluded for 10 days',
      match: {
        all: [
          { type: 'responded', withinDays: 10 },
          { type: 'question', questionIndex: '1' },
          { type: 'score', op: '<', value: 3 },
        ],
      },
    });
    const evaluate = (days: number, record = true) =>
      store.evaluateProfile(workspace, 'Excluded for 10 days', {
        now: new Date(NOW.getTime() + days * DAY),
        record,
      });
    const first = await evaluate(0);
    expect(emails(first.members)).toEqual(['ann@example.com', 'bob@example.com', 'ed@example.com']);
    expect([first.entered, first.left, first.previousEvaluatedAt]).toEqual([
      ['ann@example.com', 'bob@example.com', 'ed@example.com'],
      [],
      undefined,
    ]);
    const same = await evaluate(1);
    expect([same.entered, same.left]).toEqual([[], []]);
    // Six days on, bob's response (five days old at NOW) is eleven days old: he comes back by himself.
    const later = await evaluate(6);
    expect([emails(later.members), later.entered, later.left]).toEqual([
      ['ann@example.com', 'ed@example.com'],
      [],
      ['bob@example.com'],
    ]);
    expect(later.previousEvaluatedAt).toEqual(new Date(NOW.getTime() + DAY));
    const preview = await evaluate(9, false);
    expect([preview.entered, preview.left, preview.evaluationId]).toEqual([
      [],
      ['ann@example.com', 'ed@example.com'],
      undefined,
    ]);
    const history = await store.profileHistory(workspace, 'Excluded for 10 days', { limit: 10 });
    expect(
      history.map((h) => [h.evaluatedAt.getTime() - NOW.getTime(), h.memberCount, h.entered, h.left]),
    ).toEqual([
      [6 * DAY, 2, [], ['bob@example.com']],
      [1 * DAY, 3, [], []],
      [0, 3, ['ann@example.com', 'bob@example.com', 'ed@example.com'], []],
    ]);
    const [listed] = (await store.listProfiles(workspace)).filter((p) => p.name === 'Excluded for 10 days');
    expect(listed?.lastEvaluation).toEqual({
      evaluatedAt: new Date(NOW.getTime() + 6 * DAY),
      memberCount: 2,
    });
  });

  it('lists, shows and deletes profiles with their history', async () => {
    await store.createProfile(workspace, {
      name: 'To delete',
      description: 'temporary',
      match: { type: 'backfilled', value: true },
    });
    const shown = await store.getProfile(workspace, 'To delete');
    expect(shown?.definition).toEqual({
      name: 'To delete',
      description: 'temporary',
      over: 'any-response',
      match: { type: 'backfilled', value: true },
    });
    await store.evaluateProfile(workspace, 'To delete', { now: NOW });
    expect((await store.listProfiles(workspace)).map((p) => p.name)).toContain('To delete');
    expect(await store.deleteProfile(workspace, 'To delete')).toBe(true);
    expect(await store.deleteProfile(workspace, 'To delete')).toBe(false);
    expect(await store.getProfile(workspace, 'To delete')).toBeUndefined();
    const own = (bare: string) => (pg ? `"tributary"."${bare}"` : `"tributary_${bare}"`);
    const orphans = await raw.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${own('profile_evaluations')} e WHERE NOT EXISTS (SELECT 1 FROM ${own('profiles')} p WHERE p.id = e.profile_id)`,
    );
    expect(Number(orphans[0]!.n)).toBe(0);
  });

  it('plans the manual example on the indexes of the data model', async () => {
    const source = feedbackSourceOf(store.naming, installation)!;
    expect(source.answerCopies).toEqual({ createdAt: true, formId: true });
    const definition = profileDefinitionSchema.parse({ name: 'plan', match: MANUAL_EXAMPLE });
    const statement = compileProfile(definition, { dialect: database.dialect, sources: [source], now: NOW });
    // A dozen rows make any table scan cheap; PostgreSQL is told to prefer indexes, as it does on real
    // volumes (README.md shows its plan over a million responses). SQLite plans the same without statistics.
    if (pg) await raw.query('SET enable_seqscan = off');
    const rows = await raw.query<Record<string, unknown>>(
      explainStatement(database.dialect, statement).sql,
      statement.params,
    );
    const plan = rows.map((r) => String(r['QUERY PLAN'] ?? r['detail'])).join('\n');
    if (pg) {
      expect(plan).toMatch(
        /Index (Only )?Scan (Backward )?using closealert_form_responses_\w+ on closealert_form_responses r/,
      );
      expect(plan).toMatch(
        /Index (Only )?Scan (Backward )?using closealert_answers_\w+ on closealert_answers ja/,
      );
    } else {
      // The answers' range (form, question, time) from their covering index, then each response by its key.
      expect(plan).toMatch(
        /SEARCH ja USING COVERING INDEX tributary_closealert_answers_installation_id_for\w+_idx \(installation_id=\? AND form_id=\? AND question_index=\? AND created_at>\?\)/,
      );
      expect(plan).toMatch(
        /SEARCH r USING INDEX sqlite_autoindex_tributary_closealert_form_responses_1 \(installation_id=\? AND response_id=\?\)/,
      );
      expect(plan).not.toMatch(/SCAN (r|ja)\b/);
    }
    expect(plan).not.toMatch(/Seq Scan on closealert_(form_responses|answers)/);
  });
  it('streams the same members in the same order as an evaluation, whichever batch size', async () => {
    const cases: { match: ProfileCondition; over?: ProfileDefinitionInput['over'] }[] = [
      { match: MANUAL_EXAMPLE },
      { match: { type: 'score', op: '=', value: 5 } },
      { match: { all: [{ type: 'question', questionIndex: '1' }, { type: 'score', op: '>', value: 4 }] }, over: 'latest-response' },
      { match: { any: [{ type: 'score', op: '>=', value: 4 }, { type: 'form', id: 35 }] } },
      { match: { type: 'responded', withinDays: 400 } },
    ];
    const source = feedbackSourceOf(store.naming, installation)!;
    let midEmail = 0;
    for (const { match, over } of cases) {
      const name = `streamed ${++counter}`;
      await store.createProfile(workspace, { name, match, ...(over ? { over } : {}) });
      const evaluated = (await store.evaluateProfile(workspace, name, { now: NOW, record: false })).members;
      expect(evaluated.length).toBeGreaterThan(0);
      // A first batch that ends inside an e-mail's matches (the second read starts after that e-mail).
      const definition = profileDefinitionSchema.parse({ name, match, ...(over ? { over } : {}) });
      const inOrder = compileProfile(definition, { dialect: database.dialect, sources: [source], now: NOW, streamed: true });
      const rows = await raw.query<{ email: string }>(inOrder.sql, inOrder.params);
      const cut = rows.findIndex((row, i) => i > 0 && rows[i - 1]!.email === row.email && rows.slice(0, i).some((r) => r.email !== row.email));
      if (cut > 0) midEmail += 1;
      for (const batchSize of [1, 2, 1000, ...(cut > 0 ? [cut] : [])]) {
        const streamed = [];
        for await (const batch of store.streamProfile(workspace, name, { now: NOW, record: false, changes: false, batchSize })) streamed.push(...batch);
        expect(streamed).toEqual(evaluated);
      }
    }
    expect(midEmail).toBeGreaterThan(0);
  });

  it('plans a streamed profile as a scan of the member-order index that sorts nothing before its first row', async () => {
    // Without a linked customers table (whose join is hashed): the plan of a plain feedback app.
    const source = feedbackSourceOf(store.naming, { ...installation, customerTable: undefined })!;
    const definition = profileDefinitionSchema.parse({ name: 'plan', match: { all: [{ type: 'question', questionIndex: '1' }, { type: 'score', op: '=', value: 5 }] } });
    const statement = compileProfile(definition, { dialect: database.dialect, sources: [source], now: NOW, streamed: true });
    let plan: string;
    if (pg) {
      // Planned as Database.stream plans it: a cursor read for its first rows.
      await raw.query('BEGIN');
      try {
        await raw.query('SET LOCAL enable_seqscan = off');
        await raw.query('SET LOCAL cursor_tuple_fraction = 0.01');
        const rows = await raw.query<Record<string, unknown>>(`EXPLAIN (COSTS OFF) DECLARE "plan" NO SCROLL CURSOR FOR ${statement.sql}`, statement.params);
        plan = rows.map((r) => String(r['QUERY PLAN'])).join('\n');
      } finally {
        await raw.query('ROLLBACK');
      }
      expect(plan).toMatch(/Index (Only )?Scan using closealert_form_responses_\w*member_order_idx on closealert_form_responses r/);
      // Only the answers' order within one response is sorted, as the rows come (an incremental sort).
      expect(plan).not.toMatch(/^\s*(->\s*)?Sort\b/m);
      expect(plan).not.toMatch(/Hash Join|WindowAgg/);
    } else {
      const rows = await raw.query<Record<string, unknown>>(explainStatement(database.dialect, statement).sql, statement.params);
      plan = rows.map((r) => String(r['detail'])).join('\n');
      expect(plan).toMatch(/SEARCH r USING COVERING INDEX tributary_closealert_form_responses_\w*member_order_idx \(installation_id=\?/);
      expect(plan).toMatch(/SEARCH ja USING (COVERING )?INDEX \w+ \(installation_id=\? AND response_id=\?/);
      // The answers' order within one response only: a sorter fed and emptied as the rows come.
      expect(plan).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/);
    }
  });
  it('stops a streamed profile early without holding its connection', async () => {
    const name = `early ${++counter}`;
    await store.createProfile(workspace, { name, match: { type: 'responded', withinDays: 400 } });
    // More readers than the pool has connections: each left after its first batch must free its own.
    for (let i = 0; i < 12; i += 1) {
      const stream = store.streamProfile(workspace, name, { now: NOW, record: false, changes: false, batchSize: 3 });
      expect((await stream.next()).done).toBe(false);
      await stream.return(undefined as never);
    }
    expect((await store.evaluateProfile(workspace, name, { now: NOW, record: false })).members.length).toBeGreaterThan(0);
  });

  // Last: it writes responses the cases above do not expect.
  it('reads a streamed profile in one snapshot: what is written between its two reads is not seen', async () => {
    const name = `snapshot ${++counter}`;
    await store.createProfile(workspace, { name, match: { type: 'responded', withinDays: 400 } });
    const before = (await store.evaluateProfile(workspace, name, { now: NOW, record: false })).members;
    // Three rows: ann's two matches and bob's first, so ann is handed on before the second read begins.
    const stream = store.streamProfile(workspace, name, { now: NOW, record: false, changes: false, batchSize: 3 });
    const first = await stream.next();
    expect(first.done).toBe(false);
    const streamed = [...(first.value as ProfileMember[])];
    expect(emails(streamed)).toEqual(['ann@example.com']);
    // A new member after the first batch, and a newer response of one already matched.
    await write(
      [
        { id: 13, email: 'zoe@example.com', at: daysAgo(1), form: 34, mailing: 100, score: 3, comment: 'new' },
        { id: 14, email: 'hal@example.com', at: daysAgo(1), form: 35, mailing: 101, score: 7, comment: 'newer' },
      ],
      false,
    );
    for (;;) {
      const next = await stream.next();
      if (next.done) break;
      streamed.push(...next.value);
    }
    expect(streamed).toEqual(before);
    // The writes do match: a stream begun after them sees them.
    const later = (await store.evaluateProfile(workspace, name, { now: NOW, record: false })).members;
    expect(emails(later)).toEqual([...emails(before), 'zoe@example.com']);
    expect(later.find((m) => m.email === 'hal@example.com')?.responseId).toBe('14');
  });
  // After the snapshot test: it writes more responses than the cases above expect.
  it('reads a profile larger than the first batch in two reads, and explains both', async () => {
    const bulk: Spec[] = Array.from({ length: 120 }, (_, i) => ({
      id: 1000 + i,
      email: `bulk${String(i).padStart(3, '0')}@example.com`,
      at: daysAgo(3 + (i % 5)),
      form: 34,
      mailing: 100,
      score: 5,
      comment: 'bulk',
    }));
    await write(bulk, false);
    const name = `large ${++counter}`;
    await store.createProfile(workspace, { name, match: { all: [{ type: 'question', questionIndex: '1' }, { type: 'score', op: '=', value: 5 }] } });
    const evaluated = (await store.evaluateProfile(workspace, name, { now: NOW, record: false })).members;
    expect(evaluated.length).toBeGreaterThan(100);
    for (const batchSize of [1000, 150, 7]) {
      const streamed = [];
      for await (const batch of store.streamProfile(workspace, name, { now: NOW, record: false, changes: false, batchSize })) streamed.push(...batch);
      expect(streamed).toEqual(evaluated);
    }
    const plan = await store.explainProfile(workspace, name, { now: NOW, streamed: true });
    const split = plan.indexOf('-- then the rest, ranked:');
    expect(split).toBeGreaterThan(0);
    expect(plan.length).toBeGreaterThan(split + 1);
    if (pg) {
      expect(plan.slice(0, split).join('\n')).not.toMatch(/WindowAgg/);
      expect(plan.slice(split + 1).join('\n')).toMatch(/WindowAgg/);
    }
  });
});
