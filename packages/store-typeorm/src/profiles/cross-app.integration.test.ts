import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMappings,
  compileMappings,
  dataModelSchema,
  validateMappings,
  type DataModel,
  type Installation,
  type Mapping,
  type MappingInput,
  type ProfileCondition,
  type ProfileDefinitionInput,
  type ProfileMember,
  type StreamedProfileEvaluation,
} from '@tributary/core';
import { closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { createSecretCipher, createStore, type TypeOrmStore } from '../index.js';

// One workspace with two feedback apps of different shapes: CloseAlert (numeric form ids, question
// indexes) and a survey app keyed by text (form ids like "lT4Z3j", field ids as question keys, no
// mailings, no backfill flag). Profiles span both; expectations are computed by hand from the
// tables below.

const databases = await testDatabases('profiles_cross');

const NOW = new Date('2024-06-20T12:00:00.000Z');
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

const closeAlert = dataModelSchema.parse(closeAlertDataModel);
const closeAlertMappings = validateMappings(closeAlertDefaultMappings, closeAlert);

const surveys: DataModel = dataModelSchema.parse({
  primaryTable: 'responses',
  customerEmailColumn: 'email',
  feedback: {
    responses: { table: 'responses', id: 'token', time: 'submitted_at', email: 'email', form: 'survey_id' },
    answers: {
      table: 'answers',
      response: 'token',
      question: 'field',
      score: 'number',
      comment: 'text',
      time: 'submitted_at',
      form: 'survey_id',
    },
    forms: { table: 'surveys', id: 'survey_id', name: 'title' },
    questions: { table: 'fields', form: 'survey_id', question: 'field', text: 'title' },
  },
  tables: [
    {
      name: 'surveys',
      rowsFrom: { kind: 'record' },
      key: ['survey_id'],
      onConflict: 'update',
      columns: [
        { name: 'survey_id', type: 'text', nullable: false },
        { name: 'title', type: 'text' },
      ],
    },
    {
      name: 'responses',
      rowsFrom: { kind: 'record' },
      key: ['token'],
      onConflict: 'ignore',
      columns: [
        { name: 'token', type: 'text', nullable: false },
        { name: 'submitted_at', type: 'timestamp' },
        { name: 'email', type: 'text' },
        { name: 'survey_id', type: 'text' },
      ],
      indexes: [['survey_id', 'submitted_at', 'token', 'email'], ['email', 'submitted_at']],
    },
    {
      name: 'fields',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['survey_id', 'field'],
      onConflict: 'update',
      columns: [
        { name: 'survey_id', type: 'text', nullable: false },
        { name: 'field', type: 'text', nullable: false },
        { name: 'title', type: 'text' },
      ],
    },
    {
      name: 'answers',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['token', 'field'],
      onConflict: 'ignore',
      columns: [
        { name: 'token', type: 'text', nullable: false },
        { name: 'field', type: 'text', nullable: false },
        { name: 'survey_id', type: 'text' },
        { name: 'submitted_at', type: 'timestamp' },
        { name: 'number', type: 'numeric' },
        { name: 'text', type: 'text' },
      ],
      indexes: [['survey_id', 'field', 'submitted_at', 'number', 'token']],
    },
  ],
});
const map = (source: string, table: string, column: string, transform: MappingInput['transform']): MappingInput => ({
  source,
  target: { table, column },
  transform,
});
const surveyMappings: Mapping[] = validateMappings(
  [
    map('survey.id', 'surveys', 'survey_id', 'string'),
    map('survey.title', 'surveys', 'title', 'string'),
    map('token', 'responses', 'token', 'string'),
    map('submitted_at', 'responses', 'submitted_at', 'timestamp'),
    map('email', 'responses', 'email', 'email'),
    map('survey.id', 'responses', 'survey_id', 'string'),
    map('$record.survey.id', 'fields', 'survey_id', 'string'),
    map('field', 'fields', 'field', 'string'),
    map('title', 'fields', 'title', 'string'),
    map('$record.token', 'answers', 'token', 'string'),
    map('field', 'answers', 'field', 'string'),
    map('$record.survey.id', 'answers', 'survey_id', 'string'),
    map('$record.submitted_at', 'answers', 'submitted_at', 'timestamp'),
    map('number', 'answers', 'number', 'number'),
    map('text', 'answers', 'text', 'string'),
  ],
  surveys,
);

/** A CloseAlert response on form 34: a score (question 1) and a comment (question 2). */
function closeAlertRecord(id: number, email: string, at: string, score: number, comment: string) {
  return {
    id,
    created_at: at,
    email,
    form: { id: 34, form_type: 'email-satisfaction', name: 'Email satisfaction form' },
    mailing: { id: 100, name: 'May newsletter' },
    group: { id: 44, name: 'Newsletters' },
    answers: [
      { question: 'How would you rate this e-mail?', question_type: 'sentiment', answer_type: null, question_index: '1', response_value: score },
      { question: 'Why?', question_type: 'comment', answer_type: null, question_index: '2', response_value: comment },
    ],
  };
}

const SURVEY_TITLES: Record<string, string> = { lT4Z3j: 'Product NPS', xY9: 'Support survey' };

/** A survey response: an NPS field and, optionally, a comment field. */
function surveyRecord(token: string, email: string, at: string, survey: string, nps: number, why?: string) {
  return {
    token,
    submitted_at: at,
    email,
    survey: { id: survey, title: SURVEY_TITLES[survey] },
    answers: [
      { field: 'nps_q', title: 'How likely are you to recommend us?', number: nps },
      ...(why === undefined ? [] : [{ field: 'why', title: 'Why?', text: why }]),
    ],
  };
}

describe.each(databases)('profiles across apps on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;
  let ca: Installation;
  let sv: Installation;
  const workspace = `cross-${randomBytes(3).toString('hex')}`;
  let counter = 0;

  async function write(installation: Installation, model: DataModel, mappings: Mapping[], records: object[]): Promise<void> {
    const runId = await store.startRun(installation.id, NOW);
    const rows = applyMappings(records, compileMappings(mappings, model), { backfill: false, timeZone: 'UTC' });
    await store.writePage({ installationId: installation.id, runId, stream: 'records', rows, rejected: [], checkpoint: { cursor: NOW.toISOString() } });
  }

  async function evaluate(match: ProfileCondition, options: { over?: ProfileDefinitionInput['over']; app?: string } = {}) {
    const name = `p${++counter}`;
    await store.createProfile(workspace, { name, match, ...(options.over ? { over: options.over } : {}) });
    return store.evaluateProfile(workspace, name, { now: NOW, record: false, ...(options.app ? { app: options.app } : {}) });
  }

  const emails = (r: { members: { email: string }[] }) => r.members.map((m) => m.email);

  beforeAll(async () => {
    store = await createStore({
      url: database.url,
      cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }),
    });
    await store.migrate();
    ca = await store.install({
      workspace,
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'not-a-real-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings: closeAlertMappings,
      dataModel: closeAlert,
    });
    sv = await store.install({ workspace, app: 'surveys', config: {}, secretFields: [], mappings: surveyMappings, dataModel: surveys });
    await write(ca, closeAlert, closeAlertMappings, [
      closeAlertRecord(1, 'ann@example.com', daysAgo(2), 2, 'slow delivery'),
      closeAlertRecord(2, 'bob@example.com', daysAgo(5), 5, 'fine'),
      closeAlertRecord(3, 'cy@example.com', daysAgo(40), 1, 'bad'),
    ]);
    await write(sv, surveys, surveyMappings, [
      surveyRecord('tok-a', ' Ann@Example.com', daysAgo(1), 'lT4Z3j', 3, 'Too SLOW'),
      surveyRecord('tok-b', 'dee@example.com', daysAgo(3), 'lT4Z3j', 9),
      surveyRecord('tok-c', 'bob@example.com', daysAgo(20), 'xY9', 6, 'ok'),
    ]);
  });

  afterAll(async () => {
    await store?.close();
  });

  it('spans both apps: a customer who matched in both is one member, with the match of each app', async () => {
    const result = await evaluate({ all: [{ type: 'responded', withinDays: 30 }, { type: 'score', op: '<=', value: 6 }] });
    expect(result.apps).toEqual(['closealert', 'surveys']);
    expect(result.installationIds).toEqual([ca.id, sv.id]);
    expect(emails(result)).toEqual(['ann@example.com', 'bob@example.com']);
    const [ann, bob] = result.members;
    // ann answered in both: her own response is the newer one (the survey, a day ago).
    expect(ann).toMatchObject({ app: 'surveys', installationId: sv.id, responseId: 'tok-a', formId: 'lT4Z3j', score: 3 });
    expect(ann!.matches.map((m) => [m.app, m.responseId, m.formId, m.score])).toEqual([
      ['surveys', 'tok-a', 'lT4Z3j', 3],
      ['closealert', '1', 34, 2],
    ]);
    expect(bob).toMatchObject({ app: 'closealert', responseId: '2', formId: 34, score: 5 });
    expect(bob!.matches.map((m) => [m.app, m.responseId])).toEqual([
      ['closealert', '2'],
      ['surveys', 'tok-c'],
    ]);
    // Each app has its own contact ids.
    expect(ann!.contactId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('previews an unsaved definition over the same apps, writing nothing, and updates a profile in place', async () => {
    const match: ProfileCondition = { all: [{ type: 'responded', withinDays: 30 }, { type: 'score', op: '<=', value: 6 }] };
    const profilesBefore = (await store.listProfiles(workspace)).map((p) => p.name);
    const preview = await store.previewProfile(workspace, { name: 'draft', match }, { now: NOW });
    expect(preview.apps).toEqual(['closealert', 'surveys']);
    expect(emails(preview)).toEqual(['ann@example.com', 'bob@example.com']);
    expect(preview.count).toBe(2);
    // A limited preview: the first members by e-mail (bob's rows of both apps made one) and the count of all.
    for (const limit of [0, 1, 2, 5]) {
      const limited = await store.previewProfile(workspace, { name: 'draft', match }, { now: NOW, limit });
      expect(limited.count).toBe(2);
      expect(limited.members).toEqual(preview.members.slice(0, limit));
    }
    expect((await store.previewProfile(workspace, { name: 'draft', match }, { now: NOW, app: 'surveys' })).members.map((m) => m.responseId)).toEqual(['tok-a', 'tok-c']);
    expect((await store.listProfiles(workspace)).map((p) => p.name)).toEqual(profilesBefore);

    await store.createProfile(workspace, { name: 'edited', match });
    const first = await store.evaluateProfile(workspace, 'edited', { now: NOW });
    expect(first.entered).toEqual(['ann@example.com', 'bob@example.com']);
    const updated = await store.updateProfile(workspace, 'edited', { match: { type: 'comment', contains: 'slow' } });
    expect(updated.definition.match).toEqual({ type: 'comment', contains: 'slow' });
    // The history stays: the next evaluation compares with the members of the old definition.
    const second = await store.evaluateProfile(workspace, 'edited', { now: new Date(NOW.getTime() + 1000) });
    expect(second.left).toEqual(['bob@example.com']);
    expect(second.entered).toEqual([]);
    expect(await store.profileHistory(workspace, 'edited', { limit: 10 })).toHaveLength(2);
    await expect(store.updateProfile(workspace, 'no-such', { match })).rejects.toMatchObject({ code: 'PROFILE_NOT_FOUND' });
  });

  /** Every batch of a streamed evaluation, and its return value. */
  async function drain(stream: AsyncGenerator<ProfileMember[], StreamedProfileEvaluation>) {
    const batches: ProfileMember[][] = [];
    for (;;) {
      const next = await stream.next();
      if (next.done) return { batches, summary: next.value };
      batches.push(next.value);
    }
  }

  it('streams the same members in the same order as an evaluation, in batches that never split a member', async () => {
    const match: ProfileCondition = { any: [{ type: 'responded', withinDays: 60 }, { type: 'score', op: '>=', value: 0 }] };
    const whole = await evaluate(match);
    expect(whole.members.length).toBe(4);
    const name = `p${counter}`;
    // A batch of one row puts ann's two rows (one per app) in two batches.
    for (const batchSize of [1, 2, 3, 1000]) {
      const { batches, summary } = await drain(store.streamProfile(workspace, name, { now: NOW, record: false, batchSize }));
      expect(batches.flat()).toEqual(whole.members);
      expect(batches.every((b) => b.length > 0)).toBe(true);
      expect(summary).toMatchObject({ memberCount: 4, apps: ['closealert', 'surveys'], entered: whole.entered, left: whole.left });
    }
  });

  it('pages members by e-mail in the database, with a literal filter and the total over every page', async () => {
    const match: ProfileCondition = { any: [{ type: 'responded', withinDays: 60 }, { type: 'score', op: '>=', value: 0 }] };
    const whole = await evaluate(match);
    const name = `p${counter}`;
    const pages: ProfileMember[][] = [];
    let after: string | undefined;
    do {
      const page = await store.profileMembers(workspace, name, { now: NOW, limit: 1, ...(after === undefined ? {} : { after }) });
      expect(page.total).toBe(4);
      pages.push(page.members);
      after = page.after ?? undefined;
    } while (after !== undefined);
    // ann's page holds her match in each app, as the whole evaluation does.
    expect(pages).toEqual(whole.members.map((m) => [m]));
    const none = await store.profileMembers(workspace, name, { now: NOW, limit: 50, contains: 'nobody' });
    expect(none).toMatchObject({ total: 0, after: null, members: [] });
    // Case-insensitive, and the edges of what a user typed are not part of it.
    const bob = await store.profileMembers(workspace, name, { now: NOW, limit: 50, contains: ' BOB@ ' });
    expect(bob.members.map((m) => m.email)).toEqual(['bob@example.com']);
    expect(bob).toMatchObject({ total: 1, after: null });
    const literal = await store.profileMembers(workspace, name, { now: NOW, limit: 50, contains: '%' });
    expect(literal.total).toBe(0);
    const last = await store.profileMembers(workspace, name, { now: NOW, limit: 2, after: 'bob@example.com' });
    expect(last.members.map((m) => m.email)).toEqual(['cy@example.com', 'dee@example.com']);
    expect(last.after).toBeNull();
  });

  it('records a streamed evaluation once every member was read, and nothing when the reader stops early', async () => {
    const match: ProfileCondition = { all: [{ type: 'responded', withinDays: 30 }, { type: 'score', op: '<=', value: 6 }] };
    await store.createProfile(workspace, { name: 'streamed', match });
    const early = store.streamProfile(workspace, 'streamed', { now: NOW, batchSize: 1 });
    const first = await early.next();
    expect(first.done).toBe(false);
    expect((first.value as ProfileMember[]).map((m) => m.email)).toEqual(['ann@example.com']);
    // A reader that has not finished holds up no write (on SQLite it reads on a connection of its own).
    await store.createProfile(workspace, { name: 'written-meanwhile', match });
    // The reader goes away: the cursor closes and the store serves the next statement at once.
    expect(await early.return(undefined as never)).toMatchObject({ done: true });
    expect(await store.profileHistory(workspace, 'streamed', { limit: 10 })).toEqual([]);
    for await (const batch of store.streamProfile(workspace, 'streamed', { now: NOW, batchSize: 1 })) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }
    expect(await store.profileHistory(workspace, 'streamed', { limit: 10 })).toEqual([]);

    const { batches, summary } = await drain(store.streamProfile(workspace, 'streamed', { now: NOW, batchSize: 1 }));
    expect(batches.flat().map((m) => m.email)).toEqual(['ann@example.com', 'bob@example.com']);
    expect(summary.evaluationId).toEqual(expect.any(String));
    expect(summary.entered).toEqual(['ann@example.com', 'bob@example.com']);
    const history = await store.profileHistory(workspace, 'streamed', { limit: 10 });
    expect(history.map((h) => [h.evaluationId, h.memberCount, h.entered])).toEqual([[summary.evaluationId, 2, ['ann@example.com', 'bob@example.com']]]);
    // An export that asks for no changes keeps no e-mails, and still counts every member.
    const bare = await drain(store.streamProfile(workspace, 'streamed', { now: NOW, record: false, changes: false }));
    expect(bare.summary).toMatchObject({ memberCount: 2, entered: [], left: [] });
  });

  it('narrows to one app with app', async () => {
    const match: ProfileCondition = { all: [{ type: 'responded', withinDays: 30 }, { type: 'score', op: '<=', value: 6 }] };
    const narrowed = await evaluate(match, { app: 'surveys' });
    expect(narrowed.apps).toEqual(['surveys']);
    expect(narrowed.members.map((m) => [m.email, m.app, m.responseId])).toEqual([
      ['ann@example.com', 'surveys', 'tok-a'],
      ['bob@example.com', 'surveys', 'tok-c'],
    ]);
    const other = await evaluate(match, { app: 'closealert' });
    expect(other.members.map((m) => [m.email, m.app, m.responseId])).toEqual([
      ['ann@example.com', 'closealert', '1'],
      ['bob@example.com', 'closealert', '2'],
    ]);
  });

  it('names forms by string or number id, questions by key or text; a wrong-typed id matches nothing, without an error', async () => {
    expect(emails(await evaluate({ type: 'form', id: 'lT4Z3j' }))).toEqual(['ann@example.com', 'dee@example.com']);
    expect(emails(await evaluate({ type: 'form', id: 34 }))).toEqual(['ann@example.com', 'bob@example.com', 'cy@example.com']);
    // A name, and a text id given where a name goes (as `--form lT4Z3j` does).
    expect(emails(await evaluate({ type: 'form', name: 'support SURVEY' }))).toEqual(['bob@example.com']);
    expect(emails(await evaluate({ type: 'form', name: 'xY9' }))).toEqual(['bob@example.com']);
    expect(emails(await evaluate({ all: [{ type: 'question', key: 'nps_q' }, { type: 'score', op: '>=', value: 9 }] }))).toEqual(['dee@example.com']);
    expect(emails(await evaluate({ all: [{ type: 'question', formId: 'lT4Z3j', key: 'nps_q' }, { type: 'score', op: '<', value: 5 }] }))).toEqual(['ann@example.com']);
    // The question by its text, in either app: CloseAlert's as answered, the survey's from its fields.
    expect(emails(await evaluate({ all: [{ type: 'question', text: 'how likely are you to recommend us?' }, { type: 'score', op: '>', value: 5 }] }))).toEqual(['bob@example.com', 'dee@example.com']);
    expect(emails(await evaluate({ all: [{ type: 'question', text: 'How would you rate this e-mail?' }, { type: 'score', op: '<', value: 3 }] }))).toEqual(['ann@example.com', 'cy@example.com']);
    // Mailings exist only in CloseAlert: the survey app contributes nothing, and its "none" keeps everyone.
    expect(emails(await evaluate({ type: 'mailing', id: 100 }))).toEqual(['ann@example.com', 'bob@example.com', 'cy@example.com']);
    expect(emails(await evaluate({ none: [{ type: 'mailing', id: 100 }] }))).toEqual(['ann@example.com', 'bob@example.com', 'dee@example.com']);
    expect(emails(await evaluate({ type: 'backfilled', value: true }))).toEqual([]);
  });

  it('finds comments in both apps and keeps the customer once', async () => {
    const result = await evaluate({ type: 'comment', contains: 'slow' });
    expect(emails(result)).toEqual(['ann@example.com']);
    expect(result.members[0]!.matches.map((m) => m.app)).toEqual(['surveys', 'closealert']);
  });

  it("looks at each customer's latest response across all apps read", async () => {
    const match: ProfileCondition = { type: 'score', op: '<=', value: 2 };
    // ann's latest is the survey (3), so her CloseAlert 2 no longer counts; cy's only response does.
    expect(emails(await evaluate(match, { over: 'latest-response' }))).toEqual(['cy@example.com']);
    expect(emails(await evaluate(match, { over: 'latest-response', app: 'closealert' }))).toEqual(['ann@example.com', 'cy@example.com']);
  });

  it('records membership per profile across apps, refuses a narrowed recording, and keeps a pinned app', async () => {
    await store.createProfile(workspace, { name: 'Low anywhere', match: { all: [{ type: 'responded', withinDays: 30 }, { type: 'score', op: '<=', value: 6 }] } });
    const first = await store.evaluateProfile(workspace, 'Low anywhere', { now: NOW });
    expect(first.entered).toEqual(['ann@example.com', 'bob@example.com']);
    // Ten days on, ann's and bob's CloseAlert answers are still within 30 days; bob's survey is not.
    const later = await store.evaluateProfile(workspace, 'Low anywhere', { now: new Date(NOW.getTime() + 11 * DAY) });
    expect(later.entered).toEqual([]);
    expect(later.left).toEqual([]);
    const history = await store.profileHistory(workspace, 'Low anywhere', { limit: 5 });
    expect(history.map((h) => h.memberCount)).toEqual([2, 2]);

    await expect(store.evaluateProfile(workspace, 'Low anywhere', { now: NOW, app: 'surveys', record: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    // Narrowed without saying: a what-if, not recorded.
    const whatIf = await store.evaluateProfile(workspace, 'Low anywhere', { now: new Date(NOW.getTime() + 12 * DAY), app: 'surveys' });
    expect(whatIf.evaluationId).toBeUndefined();

    await store.createProfile(workspace, { name: 'Survey detractors', app: 'surveys', match: { type: 'score', op: '<=', value: 6 } });
    const pinned = await store.evaluateProfile(workspace, 'Survey detractors', { now: NOW });
    expect(pinned.apps).toEqual(['surveys']);
    expect(pinned.evaluationId).toBeDefined();
    expect(pinned.members.map((m) => [m.email, m.app])).toEqual([
      ['ann@example.com', 'surveys'],
      ['bob@example.com', 'surveys'],
    ]);
    expect((await store.getProfile(workspace, 'Survey detractors'))!.definition.app).toBe('surveys');
    await expect(store.evaluateProfile(workspace, 'Survey detractors', { now: NOW, app: 'closealert' })).rejects.toMatchObject({ code: 'PROFILE_APP_PINNED' });
    await expect(store.evaluateProfile(workspace, 'Low anywhere', { now: NOW, app: 'typeform' })).rejects.toMatchObject({ code: 'APP_NOT_INSTALLED' });
  });

  it('lists the forms of every feedback app, or of one', async () => {
    const forms = await store.listFeedbackForms(workspace);
    expect(forms.map((f) => [f.app, f.id, f.name])).toEqual([
      ['closealert', 34, 'Email satisfaction form'],
      ['surveys', 'lT4Z3j', 'Product NPS'],
      ['surveys', 'xY9', 'Support survey'],
    ]);
    expect(forms[1]!.questions.map((q) => q.index)).toEqual(['nps_q', 'why']);
    expect((await store.listFeedbackForms(workspace, { app: 'surveys' })).map((f) => f.id)).toEqual(['lT4Z3j', 'xY9']);
  });

  it("reads each app through that app's own indexes, in one statement", async () => {
    const name = 'plan';
    await store.createProfile(workspace, {
      name,
      match: { all: [{ type: 'responded', withinDays: 10 }, { type: 'score', op: '<', value: 3 }] },
    });
    const plan = (await store.explainProfile(workspace, name, { now: NOW })).join('\n');
    expect(plan).toMatch(/closealert_answers/);
    expect(plan).toMatch(/surveys_answers/);
  });
});
