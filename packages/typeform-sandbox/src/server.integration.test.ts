import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from './index.js';

// The Typeform sandbox over real HTTP: Typeform's own behaviours and the injected faults.

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
  sandbox = await startSandbox({ rateLimit: { capacity: 10_000, refillPerSecond: 10_000 }, ...options });
  return sandbox;
}

function get(box: Sandbox, path: string, token = box.token): Promise<Response> {
  return fetch(`${box.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

type Page = { total_items: number; page_count: number; items: { token: string; submitted_at: string }[] };

describe('typeform sandbox', () => {
  it('answers 401 without a known token, 403 without the scope, 404 for an unknown form', async () => {
    const box = await start({ responses: 3, forms: 1 });
    const formId = box.forms()[0]!.id;
    expect((await get(box, '/forms', 'tfp_unknown')).status).toBe(401);
    expect((await fetch(`${box.url}/forms`)).status).toBe(401);
    expect((await get(box, '/forms', box.issueToken(['responses:read']))).status).toBe(403);
    const noResponses = box.issueToken(['forms:read']);
    expect((await get(box, `/forms/${formId}`, noResponses)).status).toBe(200);
    expect((await get(box, `/forms/${formId}/responses`, noResponses)).status).toBe(403);
    const missing = await get(box, '/forms/nothere/responses');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'FORM_NOT_FOUND' });
  });

  it('serves newest first by default, oldest first with sort asc or after, and older ones with before', async () => {
    const box = await start({ responses: 30, forms: 1, spanDays: 3 });
    const formId = box.forms()[0]!.id;
    const all = box.responses(formId).map((r) => r.token);
    const page = async (query: string) => ((await (await get(box, `/forms/${formId}/responses?${query}`)).json()) as Page).items.map((i) => i.token);
    expect(await page('page_size=5')).toEqual(all.slice(-5).reverse());
    expect(await page('page_size=5&sort=submitted_at,asc')).toEqual(all.slice(0, 5));
    expect(await page(`page_size=5&after=${all[4]}`)).toEqual(all.slice(5, 10));
    expect(await page(`page_size=5&before=${all[10]}`)).toEqual(all.slice(5, 10).reverse());
    expect((await get(box, `/forms/${formId}/responses?sort=submitted_at,asc&before=${all[3]}`)).status).toBe(400);
    expect((await get(box, `/forms/${formId}/responses?page_size=1001`)).status).toBe(400);
    expect((await get(box, `/forms/${formId}/responses?since=yesterday`)).status).toBe(400);
  });

  it('puts a late arrival in its place by submission time, inside since/until (inclusive, Unix seconds too)', async () => {
    const box = await start({ responses: 10, forms: 1, spanDays: 1, now: () => new Date('2026-05-01T12:00:00Z') });
    const formId = box.forms()[0]!.id;
    const [late] = box.addResponses({ count: 1, formId, submittedAt: new Date('2026-04-30T23:00:00Z') });
    const at = Date.parse('2026-04-30T23:00:00Z') / 1000;
    const body = (await (await get(box, `/forms/${formId}/responses?since=${at}&until=2026-04-30T23:00:00`)).json()) as Page;
    expect(body.items.map((i) => i.token)).toContain(late!.token);
    expect(body.items.every((i) => i.submitted_at === '2026-04-30T23:00:00Z')).toBe(true);
  });

  it('refuses beyond 2 requests per second with 429 and Retry-After, per token', async () => {
    sandbox = await startSandbox({ responses: 1, forms: 1 });
    const statuses = await Promise.all([1, 2, 3, 4].map(() => get(sandbox!, '/forms')));
    expect(statuses.map((r) => r.status).sort()).toEqual([200, 200, 429, 429]);
    expect(statuses.find((r) => r.status === 429)!.headers.get('retry-after')).toBe('1');
    expect((await get(sandbox, '/forms', sandbox.issueToken(['forms:read']))).status).toBe(200);
  });

  it('plays injected faults on responses requests: status with Retry-After, a malformed record, a cut body, a reset', async () => {
    const box = await start({ responses: 5, forms: 1 });
    const path = `/forms/${box.forms()[0]!.id}/responses?page_size=10`;
    box.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 3 });
    const limited = await get(box, path);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '3']);
    box.injectFault({ kind: 'bad-record', index: 1 });
    const bad = (await (await get(box, path)).json()) as { items: unknown[] };
    expect(bad.items).toHaveLength(5);
    expect((bad.items[1] as { token: unknown }).token).toBe(17);
    box.injectFault({ kind: 'truncated-json' });
    await expect((await get(box, path)).json()).rejects.toThrow();
    box.injectFault({ kind: 'reset' });
    await expect(get(box, path)).rejects.toThrow();
    box.injectFault({ kind: 'status', status: 503 });
    expect((await get(box, '/forms')).status).toBe(200);
    expect((await get(box, path)).status).toBe(503);
    expect(box.stats().byStatus[503]).toBe(1);
  });

  it('lists forms as Typeform does: pages from 1, page_size 10 by default and at most 200, sort and search', async () => {
    let clock = Date.parse('2026-05-01T00:00:00Z');
    const box = await start({ responses: 0, forms: 12, now: () => new Date(clock) });
    const ids = box.forms().map((f) => f.id);
    type FormsPage = { total_items: number; page_count: number; items: { id: string; title: string; created_at: string; last_updated_at: string; _links: { responses: string }; self: { href: string } }[] };
    const list = async (query: string) => (await (await get(box, `/forms${query}`)).json()) as FormsPage;
    const first = await list('');
    expect([first.total_items, first.page_count, first.items.length]).toEqual([12, 2, 10]);
    expect(first.items[0]).toMatchObject({ id: ids[0], created_at: '2026-05-01T00:00:00Z', self: { href: `${box.url}/forms/${ids[0]}` } });
    expect(first.items[0]!._links.responses).toBe(`${box.url}/forms/${ids[0]}/responses`);
    expect((await list('?page=2')).items.map((i) => i.id)).toEqual(ids.slice(10));
    expect(await list('?page=3')).toEqual({ total_items: 12, page_count: 2, items: [] });
    expect((await list('?page_size=200')).items).toHaveLength(12);
    for (const bad of ['?page_size=201', '?page_size=0', '?page=0', '?sort_by=title', '?order_by=up']) expect((await get(box, `/forms${bad}`)).status).toBe(400);
    // A renamed field makes its form the most recently updated.
    clock += 60_000;
    const form = box.forms()[4]!;
    box.renameField(form.id, form.fields[0]!.id, 'Renamed');
    expect((await list('?sort_by=last_updated_at&order_by=desc&page_size=1')).items[0]).toMatchObject({ id: form.id, last_updated_at: '2026-05-01T00:01:00Z' });
    expect((await list(`?search=${encodeURIComponent(form.title.slice(0, 8).toUpperCase())}`)).items.map((i) => i.id)).toContain(form.id);
    expect((await list('?workspace_id=elsewhere')).total_items).toBe(0);
  });

  it('describes a form with its fields (id, ref, title, type, properties) and hidden fields', async () => {
    const box = await start({ responses: 0, forms: 1 });
    const form = box.forms()[0]!;
    const body = (await (await get(box, `/forms/${form.id}`)).json()) as { id: string; title: string; hidden: string[]; fields: { id: string; ref: string; title: string; type: string; properties: Record<string, unknown> }[] };
    expect(body).toMatchObject({ id: form.id, title: form.title, hidden: ['email'] });
    expect(body.fields.map(({ id, ref, title, type }) => ({ id, ref, title, type }))).toEqual(form.fields);
    expect(body.fields.find((f) => f.type === 'nps')!.properties).toMatchObject({ steps: 11 });
    box.deleteForm(form.id);
    expect((await get(box, `/forms/${form.id}`)).status).toBe(404);
    expect(((await (await get(box, '/forms')).json()) as { total_items: number }).total_items).toBe(0);
  });

  it('generates the same data for the same seed and clock', async () => {
    const now = () => new Date('2026-05-01T00:00:00Z');
    const a = await startSandbox({ responses: 20, seed: 11, now });
    const b = await startSandbox({ responses: 20, seed: 11, now });
    try {
      expect(a.responses()).toEqual(b.responses());
      expect(a.forms()).toEqual(b.forms());
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('typeform sandbox malformed records', () => {
  it('keeps a malformed-record fault for the first page that has a record to replace', async () => {
    const box = await start({ responses: 0, forms: 1 });
    const path = `/forms/${box.forms()[0]!.id}/responses`;
    box.injectFault({ kind: 'bad-record' });
    expect(((await (await get(box, path)).json()) as Page).items).toEqual([]);
    box.addResponses(2);
    const items = ((await (await get(box, path)).json()) as Page).items;
    expect(items.map((i) => i.token)).toContain(17);
  });

  it('keeps a malformed-record fault past a request it refused (credentials, rate limit)', async () => {
    const box = await start({ responses: 3, forms: 1 });
    const path = `/forms/${box.forms()[0]!.id}/responses`;
    const tokens = async () => ((await (await get(box, path)).json()) as Page).items.map((i) => i.token);
    box.injectFault({ kind: 'bad-record' });
    expect((await get(box, path, 'not-a-token')).status).toBe(401);
    expect(await tokens()).toContain(17);
    // One request a bucket that never refills: the second is refused, as a process that starts right
    // after another used the limit up is; the fault waits for the page it was set for.
    box.setRateLimit({ capacity: 1, refillPerSecond: 0 });
    expect(await tokens()).not.toContain(17);
    box.injectFault({ kind: 'bad-record' });
    expect((await get(box, path)).status).toBe(429);
    box.setRateLimit({ capacity: 2, refillPerSecond: 2 });
    expect(await tokens()).toContain(17);
  });
});
