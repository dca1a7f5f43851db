import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@tributary/sdk';
import { startSandbox, type Sandbox, type SandboxForm } from '@tributary/typeform-sandbox';
import { createFormsStream, typeformConfigSchema, type FormsCheckpoint, type TypeformConfigInput, type TypeformFormRecord } from './index.js';

// The forms stream over real HTTP against the Typeform sandbox: `GET /forms` page by page, each
// form's definition, and forms that disappear between runs.

const FAST = { requestsPerSecond: 1000, backoffBaseMs: 1, backoffMaxMs: 5, rateLimitWaitMs: 5, maxAttempts: 4 };
const stream = createFormsStream({ client: FAST });
let sandbox: Sandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

interface Run {
  pages: TypeformFormRecord[][];
  checkpoint: FormsCheckpoint | null;
}

async function read(box: Sandbox, settings: Partial<TypeformConfigInput>, checkpoint: FormsCheckpoint | null, now: Date): Promise<Run> {
  const config = typeformConfigSchema.parse({ token: box.token, baseUrl: box.url, ...settings });
  const run: Run = { pages: [], checkpoint };
  for await (const page of stream.read({ config, checkpoint, now, logger: silentLogger() })) {
    expect(page.rejected).toEqual([]);
    run.pages.push(page.records);
    run.checkpoint = page.checkpoint;
  }
  return run;
}

describe('typeform forms stream', () => {
  it('reads every form across pages of GET /forms, with each field of its definition, 20 forms to a committed page', async () => {
    const box = (sandbox = await startSandbox({ responses: 0, forms: 3, seed: 21, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } }));
    for (let index = 0; index < 210; index++) box.addForm(`Form ${index}`);
    const run = await read(box, {}, null, new Date());
    const records = run.pages.flat();
    expect(records.map((r) => r.form_id)).toEqual(box.forms().map((f) => f.id));
    expect(run.pages.map((p) => p.length)).toEqual([...Array.from({ length: 10 }, () => 20), 13]);
    for (const record of records) {
      const form = box.forms().find((f) => f.id === record.form_id)!;
      expect(record).toEqual({ form_id: form.id, title: form.title, deleted_at: null, fields: form.fields });
    }
    expect(Object.keys(run.checkpoint!.forms)).toHaveLength(213);
    // Two pages of the list (200 a page), then one definition per form.
    expect(box.stats().requests).toBe(2 + 213);
  });

  it('marks a form once when it is gone: a listed one that answers 404, or one the list no longer names', async () => {
    const box = (sandbox = await startSandbox({ responses: 10, forms: 3, seed: 22, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } }));
    const [a, b, c] = box.forms() as [SandboxForm, SandboxForm, SandboxForm];
    const t0 = new Date('2026-06-01T10:00:00Z');
    const t1 = new Date('2026-06-01T11:00:00Z');
    const t2 = new Date('2026-06-01T12:00:00Z');

    const listed = await read(box, { forms: [a.id, b.id] }, null, t0);
    expect(listed.pages.flat().map((r) => r.form_id)).toEqual([a.id, b.id]);
    const everyForm = await read(box, {}, null, t0);
    box.deleteForm(b.id);
    box.deleteForm(c.id);

    const listedAgain = await read(box, { forms: [a.id, b.id] }, listed.checkpoint, t1);
    expect(listedAgain.pages.flat()).toEqual([
      { form_id: a.id, title: a.title, deleted_at: null, fields: a.fields },
      { form_id: b.id, title: b.title, deleted_at: t1.toISOString(), fields: [] },
    ]);
    expect(listedAgain.checkpoint!.forms[b.id]).toEqual({ title: b.title, deletedAt: t1.toISOString() });
    const everyFormAgain = await read(box, {}, everyForm.checkpoint, t1);
    expect(everyFormAgain.pages.flat().filter((r) => r.deleted_at !== null).map((r) => r.form_id).sort()).toEqual([b.id, c.id].sort());

    // Found gone once: later runs write nothing more about it.
    const third = await read(box, {}, everyFormAgain.checkpoint, t2);
    expect(third.pages.flat().map((r) => r.form_id)).toEqual([a.id]);
    expect(third.checkpoint!.forms[c.id]!.deletedAt).toBe(t1.toISOString());
  });
});
