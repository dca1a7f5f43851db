import { afterEach, describe, expect, it } from 'vitest';
import { SourceApiError, silentLogger } from '@tributary/sdk';
import { startSandbox, type Sandbox, type SandboxOptions } from '@tributary/typeform-sandbox';
import { createTypeformConnector, createResponsesStream, typeformConfigSchema, type ResponsesCheckpoint, type TypeformConfigInput, type TypeformResponse } from './index.js';

// The responses stream over real HTTP against the Typeform sandbox: token-cursor paging, windows,
// and the edge cases of a cursor that lives between runs.

const FAST = { requestsPerSecond: 1000, backoffBaseMs: 1, backoffMaxMs: 5, rateLimitWaitMs: 5, maxAttempts: 4 };
const stream = createResponsesStream({ client: FAST });
let sandbox: Sandbox | undefined;

async function start(options: SandboxOptions): Promise<Sandbox> {
  sandbox = await startSandbox({ rateLimit: { capacity: 100_000, refillPerSecond: 100_000 }, ...options });
  return sandbox;
}

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

interface Run {
  records: TypeformResponse[];
  rejected: number;
  checkpoint: ResponsesCheckpoint | null;
}

async function read(box: Sandbox, settings: Partial<TypeformConfigInput>, checkpoint: ResponsesCheckpoint | null, now = new Date()): Promise<Run> {
  const config = typeformConfigSchema.parse({ token: box.token, baseUrl: box.url, backfillDays: 400, ...settings });
  const run: Run = { records: [], rejected: 0, checkpoint };
  for await (const page of stream.read({ config, checkpoint, now, logger: silentLogger() })) {
    run.records.push(...page.records);
    run.rejected += page.rejected.length;
    run.checkpoint = page.checkpoint;
  }
  return run;
}

const tokens = (records: readonly { response_id: string }[]) => records.map((r) => r.response_id).sort();

describe('typeform responses stream', () => {
  it('reads every response of every form once, across windows and token-cursor pages', async () => {
    const box = await start({ responses: 250, forms: 3, spanDays: 390, seed: 3 });
    const run = await read(box, { pageSize: 7 }, null);
    expect(run.rejected).toBe(0);
    expect(tokens(run.records)).toEqual(tokens(box.responses()));
    expect(Object.keys(run.checkpoint!.forms).sort()).toEqual(box.forms().map((f) => f.id).sort());
    // Each record knows its form, its e-mail (the hidden field) and its answers' roles.
    for (const record of run.records) {
      const served = box.responses(record.form.id).find((r) => r.token === record.response_id);
      expect(served).toBeDefined();
      expect(record.email).toBe(served!.hidden.email);
      for (const answer of record.answers) {
        expect(answer.score !== null).toBe(['nps', 'opinion_scale', 'rating'].includes(answer.field.type));
        expect(answer.comment !== null).toBe(['long_text', 'short_text'].includes(answer.field.type));
        expect(answer.field_title).toBe(box.forms().find((f) => f.id === record.form.id)!.fields.find((f) => f.id === answer.field.id)!.title);
      }
    }
  });

  it('takes the e-mail from the form\'s e-mail question when told to', async () => {
    const box = await start({ responses: 20, forms: 1, spanDays: 30, seed: 4 });
    const [added] = box.addResponses({ count: 1, email: 'Question.Only@Example.com' });
    const run = await read(box, { emailFrom: 'question', emailHiddenField: 'nothing_here' }, null);
    expect(run.records.find((r) => r.response_id === added!.token)!.email).toBe('Question.Only@Example.com');
    const hidden = await read(box, { emailHiddenField: 'nothing_here' }, null);
    expect(hidden.records.every((r) => r.email === null)).toBe(true);
  });

  it('catches a response submitted in the same second as the cursor, after the run that set it', async () => {
    const box = await start({ responses: 30, forms: 1, spanDays: 10, seed: 5 });
    const formId = box.forms()[0]!.id;
    const now = new Date();
    const first = await read(box, { lookbackMinutes: 0 }, null, now);
    const cursorMs = Date.parse(first.checkpoint!.forms[formId]!.cursor);
    expect(cursorMs).toBe(Math.floor(now.getTime() / 1000) * 1000);
    const [late] = box.addResponses({ count: 1, formId, submittedAt: new Date(cursorMs) });
    const second = await read(box, { lookbackMinutes: 0 }, first.checkpoint, new Date(now.getTime() + 5000));
    expect(tokens(second.records)).toContain(late!.token);
    // Only the boundary second is read again: nothing older comes back.
    expect(second.records.every((r) => Date.parse(r.submitted_at) >= cursorMs)).toBe(true);
    expect(new Set([...tokens(first.records), ...tokens(second.records)])).toEqual(new Set(tokens(box.responses())));
  });

  it('moves a form without responses past its window, and backfills a form added later on its own', async () => {
    const box = await start({ responses: 40, forms: 1, spanDays: 10, seed: 6 });
    const empty = box.addForm('Nobody answered');
    const now = new Date();
    const first = await read(box, {}, null, now);
    expect(first.checkpoint!.forms[empty.id]!.cursor).toBe(new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString());
    const later = box.addForm('Added later');
    const [old] = box.addResponses({ count: 1, formId: later.id, submittedAt: new Date(now.getTime() - 5 * 86_400_000) });
    const second = await read(box, {}, first.checkpoint, new Date(now.getTime() + 1000));
    expect(tokens(second.records)).toEqual([old!.token]);
  });

  it('skips a form deleted between runs, listed or not, and keeps reading the others', async () => {
    const box = await start({ responses: 60, forms: 2, spanDays: 10, seed: 8 });
    const [kept, deleted] = box.forms().map((f) => f.id) as [string, string];
    const first = await read(box, { forms: [kept, deleted] }, null);
    box.deleteForm(deleted);
    const [fresh] = box.addResponses({ count: 1, formId: kept });
    for (const forms of [[kept, deleted], undefined]) {
      const next = await read(box, forms ? { forms } : {}, first.checkpoint, new Date(Date.now() + 1000));
      expect(tokens(next.records)).toContain(fresh!.token);
      expect(next.records.every((r) => r.form.id === kept)).toBe(true);
      // The deleted form's position is kept, should it come back.
      if (forms) expect(next.checkpoint!.forms[deleted]).toEqual(first.checkpoint!.forms[deleted]);
    }
  });

  it('gives answers the new title of a renamed field, under the same field id', async () => {
    const box = await start({ responses: 10, forms: 1, spanDays: 5, seed: 9 });
    const form = box.forms()[0]!;
    const nps = form.fields.find((f) => f.type === 'nps')!;
    const first = await read(box, {}, null);
    box.renameField(form.id, nps.id, 'Would you recommend us?');
    const [fresh] = box.addResponses({ count: 1, formId: form.id });
    const second = await read(box, { lookbackMinutes: 0 }, first.checkpoint, new Date(Date.now() + 1000));
    const answer = second.records.find((r) => r.response_id === fresh!.token)!.answers.find((a) => a.field.id === nps.id)!;
    expect(answer.field_title).toBe('Would you recommend us?');
    expect(first.records[0]!.answers.find((a) => a.field.id === nps.id)!.field_title).toBe(nps.title);
  });

  it('stays within 2 requests per second at production pace, with no 429 from a 2-per-second bucket', async () => {
    const box = await startSandbox({ responses: 120, forms: 2, spanDays: 20, seed: 10 });
    sandbox = box;
    const config = typeformConfigSchema.parse({ token: box.token, baseUrl: box.url, pageSize: 10 });
    const startedMs = Date.now();
    let count = 0;
    for await (const page of createResponsesStream().read({ config, checkpoint: null, now: new Date(), logger: silentLogger() })) count += page.records.length;
    expect(count).toBe(120);
    const stats = box.stats();
    expect(stats.requests).toBeGreaterThanOrEqual(15);
    expect(stats.byStatus[429]).toBeUndefined();
    expect(box.busiestSecond(startedMs).requests).toBeLessThanOrEqual(2);
  });
});

describe('typeform errors', () => {
  const check = (box: Sandbox, settings: Partial<TypeformConfigInput>) =>
    createTypeformConnector({ client: FAST }).check({
      config: typeformConfigSchema.parse({ token: box.token, baseUrl: box.url, ...settings }),
      now: new Date(),
      logger: silentLogger(),
    });

  it('tells a wrong token (401) from a token without the scope (403) and an unknown form (404)', async () => {
    const box = await start({ responses: 5, forms: 1 });
    await expect(check(box, { token: 'tfp_wrong' })).rejects.toMatchObject({ code: 'SOURCE_AUTH_FAILED', status: 401 });
    await expect(check(box, { token: box.issueToken(['responses:read']) })).rejects.toMatchObject({ code: 'SOURCE_FORBIDDEN', status: 403 });
    const missing = check(box, { forms: ['noSuchForm'] });
    await expect(missing).rejects.toBeInstanceOf(SourceApiError);
    await expect(missing).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND', status: 404 });
    await expect(check(box, {})).resolves.toMatchObject({ notes: expect.arrayContaining([expect.stringContaining('1 form(s)')]) });
  });

  it('the sandbox refuses a page over 1000, and sort with after, as Typeform does', async () => {
    const box = await start({ responses: 5, forms: 1 });
    const formId = box.forms()[0]!.id;
    const get = (query: string) => fetch(`${box.url}/forms/${formId}/responses?${query}`, { headers: { authorization: `Bearer ${box.token}` } });
    expect((await get('page_size=1001')).status).toBe(400);
    const token = box.responses(formId)[0]!.token;
    expect((await get(`sort=submitted_at,asc&after=${token}`)).status).toBe(400);
    const after = (await (await get(`after=${token}&page_size=1000`)).json()) as { total_items: number; items: { token: string }[] };
    expect(after.items.map((i) => i.token)).toEqual(box.responses(formId).slice(1).map((r) => r.token));
    expect((await fetch(`${box.url}/forms/nope/responses`, { headers: { authorization: `Bearer ${box.token}` } })).status).toBe(404);
  });
});
