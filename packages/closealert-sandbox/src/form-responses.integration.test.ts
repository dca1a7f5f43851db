import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxFormResponse, type SandboxOptions } from './index.js';

const NOW = new Date('2024-06-15T12:00:00Z');
const NOW_MS = NOW.getTime();
const DAY_MS = 86_400_000;

interface Page {
  form_responses: SandboxFormResponse[];
  meta: {
    page: number;
    per_page: number;
    total_pages: number;
    total_results: number;
    filters: { form_id: number | null; since: string; until: string };
    requests_left: number;
  };
  links: { first: string; last: string; next: string | null; prev: string | null };
}

const started: Sandbox[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((sandbox) => sandbox.close()));
});

async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ now: () => NOW, ...options });
  started.push(sandbox);
  return sandbox;
}

async function get(
  sandbox: Sandbox,
  query: Record<string, string | number> = {},
): Promise<{ status: number; body: unknown }> {
  const params = new URLSearchParams(
    Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
  );
  return getUrl(
    sandbox,
    `${sandbox.url}/${encodeURIComponent(sandbox.projectKey)}/form_responses?${params.toString()}`,
  );
}

async function getUrl(sandbox: Sandbox, url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${sandbox.token}` } });
  return { status: response.status, body: await response.json() };
}

async function getPage(sandbox: Sandbox, query: Record<string, string | number> = {}): Promise<Page> {
  const { status, body } = await get(sandbox, query);
  expect(status).toBe(200);
  return body as Page;
}

async function readAll(
  sandbox: Sandbox,
  query: Record<string, string | number>,
): Promise<SandboxFormResponse[]> {
  const all: SandboxFormResponse[] = [];
  let page = await getPage(sandbox, query);
  all.push(...page.form_responses);
  while (page.links.next !== null) {
    const next = await getUrl(sandbox, page.links.next);
    expect(next.status).toBe(200);
    page = next.body as Page;
    all.push(...page.form_responses);
  }
  return all;
}

const epochOf = (response: SandboxFormResponse): number => Date.parse(`${response.created_at}Z`);
const byCreatedAtThenId = (a: SandboxFormResponse, b: SandboxFormResponse): number =>
  epochOf(a) - epochOf(b) || a.id - b.id;
const WINDOW = { since: '2024-06-01T00:00:00Z', until: '2024-06-15T12:00:00Z' };

describe('validation', () => {
  it.each([
    [{ per_page: 0 }, 'per_page'],
    [{ per_page: 251 }, 'per_page'],
    [{ per_page: 'many' }, 'per_page'],
    [{ page: -1 }, 'page'],
    [{ page: 'x' }, 'page'],
    [{ form_id: 'email' }, 'form_id'],
    [{ since: 'last tuesday' }, 'since'],
    [{ until: '2024-13-01T00:00:00' }, 'until'],
    [{ since: '2024-06-10T00:00:00Z', until: '2024-06-09T00:00:00Z' }, 'until'],
    [{ since: '2024-01-31T00:00:00Z', until: '2024-02-29T00:00:01Z' }, 'until'],
  ])('answers 422 to %j naming %s', async (query, attribute) => {
    const sandbox = await start();
    const { status, body } = await get(sandbox, query);
    expect(status).toBe(422);
    expect(body).toEqual({
      error: { description: 'Validation failed', code: 422, attributes: { [attribute]: expect.any(String) } },
    });
  });

  it('accepts a window of exactly one calendar month', async () => {
    const sandbox = await start();
    expect(
      (await get(sandbox, { since: '2024-01-31T00:00:00Z', until: '2024-02-29T00:00:00Z' })).status,
    ).toBe(200);
  });
});

describe('form_responses', () => {
  it('defaults to the last 7 days, 100 per page, page 0', async () => {
    const sandbox = await start({ responses: 600, spanDays: 30 });
    const expected = sandbox
      .responses()
      .filter((response) => epochOf(response) >= NOW_MS - 7 * DAY_MS && epochOf(response) <= NOW_MS);
    expect(expected.length).toBeGreaterThan(100);
    const page = await getPage(sandbox);
    expect(page.meta).toEqual({
      page: 0,
      per_page: 100,
      total_pages: Math.ceil(expected.length / 100),
      total_results: expected.length,
      filters: { form_id: null, since: '2024-06-08T12:00:00', until: '2024-06-15T12:00:00' },
      requests_left: expect.any(Number),
    });
    expect(page.form_responses).toEqual(expected.slice(0, 100));
  });

  it('serves every response of a window once, sorted by created_at then id, following links', async () => {
    const sandbox = await start({ responses: 900, spanDays: 20 });
    const all = await readAll(sandbox, { ...WINDOW, per_page: 37 });
    const expected = sandbox
      .responses()
      .filter(
        (response) =>
          epochOf(response) >= Date.parse(WINDOW.since) && epochOf(response) <= Date.parse(WINDOW.until),
      );
    expect(all).toEqual(expected);
    expect([...all].sort(byCreatedAtThenId)).toEqual(all);
    expect(new Set(all.map((response) => response.id)).size).toBe(all.length);
  });

  it('filters on form_id and keeps the filter in meta and links', async () => {
    const sandbox = await start({ responses: 900, spanDays: 20 });
    const all = await readAll(sandbox, { ...WINDOW, form_id: 35, per_page: 50 });
    expect(all.length).toBeGreaterThan(50);
    expect(all.every((response) => response.form.id === 35)).toBe(true);
    const expected = sandbox
      .responses()
      .filter((response) => response.form.id === 35 && epochOf(response) >= Date.parse(WINDOW.since));
    expect(all).toEqual(expected);
    const page = await getPage(sandbox, { ...WINDOW, form_id: 35, per_page: 50 });
    expect(page.meta.filters.form_id).toBe(35);
    expect(new URL(page.links.last).searchParams.get('form_id')).toBe('35');
  });

  it('treats since and until as inclusive', async () => {
    const sandbox = await start();
    sandbox.addResponses({ count: 1, createdAt: new Date('2024-06-10T10:00:00Z') });
    sandbox.addResponses({ count: 1, createdAt: new Date('2024-06-10T10:00:05Z') });
    const page = await getPage(sandbox, { since: '2024-06-10T10:00:00Z', until: '2024-06-10T10:00:05Z' });
    expect(page.meta.total_results).toBe(2);
    const narrower = await getPage(sandbox, { since: '2024-06-10T10:00:01Z', until: '2024-06-10T10:00:04Z' });
    expect(narrower.meta.total_results).toBe(0);
  });

  it('fits exactly 250 results in one page and 251 in two', async () => {
    const sandbox = await start();
    const at = (index: number) => new Date(Date.parse('2024-06-05T00:00:00Z') + index * 60_000);
    sandbox.addResponses({ count: 250, createdAt: at });
    const one = await getPage(sandbox, { ...WINDOW, per_page: 250 });
    expect(one.meta).toMatchObject({ total_results: 250, total_pages: 1 });
    expect(one.form_responses).toHaveLength(250);
    expect(one.links.next).toBeNull();
    sandbox.addResponses({ count: 1, createdAt: at(250) });
    const first = await getPage(sandbox, { ...WINDOW, per_page: 250 });
    expect(first.meta).toMatchObject({ total_results: 251, total_pages: 2 });
    expect(first.links.next).not.toBeNull();
    const second = await getPage(sandbox, { ...WINDOW, per_page: 250, page: 1 });
    expect(second.form_responses.map((response) => response.id)).toEqual([251]);
    expect(second.links).toMatchObject({ next: null });
  });

  it('answers an empty window with zero pages', async () => {
    const sandbox = await start({ responses: 50, spanDays: 5 });
    const page = await getPage(sandbox, { since: '2023-01-01T00:00:00Z', until: '2023-01-20T00:00:00Z' });
    expect(page.form_responses).toEqual([]);
    expect(page.meta).toMatchObject({ page: 0, total_pages: 0, total_results: 0 });
    expect(page.links.next).toBeNull();
    expect(page.links.prev).toBeNull();
    expect(new URL(page.links.last).searchParams.get('page')).toBe('0');
  });

  it('answers a page beyond the last with an empty list and correct meta', async () => {
    const sandbox = await start({ responses: 300, spanDays: 10 });
    const page = await getPage(sandbox, { ...WINDOW, per_page: 100, page: 7 });
    expect(page.form_responses).toEqual([]);
    expect(page.meta).toMatchObject({ page: 7, per_page: 100, total_pages: 3, total_results: 300 });
    expect(page.links.next).toBeNull();
    expect(new URL(page.links.prev ?? '').searchParams.get('page')).toBe('6');
  });

  it('splits one busy second across a page boundary without losing or doubling', async () => {
    const sandbox = await start();
    const second = new Date('2024-06-10T08:30:00Z');
    sandbox.addResponses({ count: 30, createdAt: second });
    const first = await getPage(sandbox, { ...WINDOW, per_page: 25 });
    const next = await getPage(sandbox, { ...WINDOW, per_page: 25, page: 1 });
    const ids = [...first.form_responses, ...next.form_responses].map((response) => response.id);
    expect(ids).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    expect(
      new Set([...first.form_responses, ...next.form_responses].map((response) => response.created_at)),
    ).toEqual(new Set(['2024-06-10T08:30:00']));
  });

  it('builds full links with the project key and the same filters', async () => {
    const sandbox = await start({ responses: 300, spanDays: 10 });
    const page = await getPage(sandbox, { ...WINDOW, per_page: 100, page: 1 });
    const prefix = `${sandbox.url}/company.com/form_responses?`;
    for (const link of [page.links.first, page.links.last, page.links.next, page.links.prev]) {
      expect(link?.startsWith(prefix)).toBe(true);
      const params = new URL(link ?? '').searchParams;
      expect(params.get('since')).toBe(WINDOW.since);
      expect(params.get('until')).toBe(WINDOW.until);
      expect(params.get('per_page')).toBe('100');
    }
    expect(
      [page.links.first, page.links.last, page.links.next, page.links.prev].map((link) =>
        new URL(link ?? '').searchParams.get('page'),
      ),
    ).toEqual(['0', '2', '2', '0']);
  });

  it('makes added responses visible to the next request, late arrivals included', async () => {
    const sandbox = await start({ responses: 200, spanDays: 10 });
    const before = await getPage(sandbox, { ...WINDOW, per_page: 250 });
    const maxId = Math.max(...sandbox.responses().map((response) => response.id));
    const [late] = sandbox.addResponses({ count: 1, createdAt: new Date('2024-06-07T00:00:00Z') });
    const [fresh] = sandbox.addResponses(1);
    expect(late?.id).toBe(maxId + 1);
    expect(fresh?.id).toBe(maxId + 2);
    expect(fresh?.created_at).toBe('2024-06-15T12:00:00');
    const after = await getPage(sandbox, { ...WINDOW, per_page: 250 });
    expect(after.meta.total_results).toBe(before.meta.total_results + 2);
    expect(after.form_responses).toEqual(
      sandbox.responses().filter((response) => epochOf(response) >= Date.parse(WINDOW.since)),
    );
    expect(after.form_responses.at(-1)?.id).toBe(fresh?.id);
  });

  it('serves responses given as records, and refuses a duplicate id', async () => {
    const sandbox = await start({ responses: 5, spanDays: 3 });
    const template = sandbox.responses()[0] as SandboxFormResponse;
    const custom: SandboxFormResponse = {
      ...template,
      id: 9001,
      created_at: '2024-06-14T09:00:00',
      email: 'Mixed@Case.COM ',
    };
    sandbox.addResponses([custom]);
    const page = await getPage(sandbox, { since: '2024-06-14T09:00:00Z', until: '2024-06-14T09:00:00Z' });
    expect(page.form_responses).toEqual([custom]);
    expect(() => sandbox.addResponses([custom])).toThrow(/already exists/);
  });

  it('renders created_at and reads offset-less filters in the sandbox time zone', async () => {
    const sandbox = await start({ timeZone: 'Europe/Amsterdam' });
    const [added] = sandbox.addResponses({ count: 1, createdAt: new Date('2024-06-10T10:00:00Z') });
    expect(added?.created_at).toBe('2024-06-10T12:00:00');
    const local = await getPage(sandbox, { since: '2024-06-10T12:00:00', until: '2024-06-10T13:00:00' });
    expect(local.form_responses.map((response) => response.id)).toEqual([added?.id]);
    expect(local.meta.filters).toEqual({
      form_id: null,
      since: '2024-06-10T12:00:00',
      until: '2024-06-10T13:00:00',
    });
    const later = await getPage(sandbox, { since: '2024-06-10T12:00:01', until: '2024-06-10T13:00:00' });
    expect(later.meta.total_results).toBe(0);
    const withOffset = await getPage(sandbox, {
      since: '2024-06-10T10:00:00Z',
      until: '2024-06-10T10:00:00Z',
    });
    expect(withOffset.meta.total_results).toBe(1);
  });

  it('serves the same data for the same seed and clock', async () => {
    const one = await start({ responses: 300, spanDays: 10, seed: 7 });
    const two = await start({ responses: 300, spanDays: 10, seed: 7 });
    const other = await start({ responses: 300, spanDays: 10, seed: 8 });
    const query = { ...WINDOW, per_page: 250 };
    const first = await getPage(one, query);
    expect((await getPage(two, query)).form_responses).toEqual(first.form_responses);
    expect((await getPage(other, query)).form_responses).not.toEqual(first.form_responses);
    expect(one.responses()).toEqual(two.responses());
  });
});
