import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpSourceClient } from './http-client.js';
import {
  cursorPaginator,
  nextFromLinkHeader,
  nextLinkPaginator,
  offsetPaginator,
  pageNumberPaginator,
  paginate,
} from './paginators.js';
import { json, startTestServer, type TestServer } from './test-server.js';

const ITEMS = Array.from({ length: 23 }, (_, index) => index + 1);
const SIZE = 5;
const pageSchema = z.object({
  items: z.array(z.number()),
  total_pages: z.number().optional(),
  total: z.number().optional(),
  next_cursor: z.string().nullable().optional(),
  next: z.string().nullable().optional(),
});

let server: TestServer;
let client: HttpSourceClient;

beforeEach(async () => {
  server = await startTestServer();
  // One server speaks every paging style, so that each paginator is checked against the same 23 items.
  server.handle((request, response) => {
    const url = new URL(request.url!, server.url);
    const q = (name: string) => url.searchParams.get(name);
    if (url.pathname === '/pages') {
      const base = Number(q('base'));
      const page = Number(q('page')) - base;
      return json(response, 200, { items: ITEMS.slice(page * SIZE, (page + 1) * SIZE), total_pages: Math.ceil(ITEMS.length / SIZE) });
    }
    if (url.pathname === '/offset') {
      const offset = Number(q('offset'));
      return json(response, 200, { items: ITEMS.slice(offset, offset + Number(q('limit'))), total: ITEMS.length });
    }
    if (url.pathname === '/cursor') {
      const after = Number(q('after') ?? '0');
      const items = ITEMS.filter((item) => item > after).slice(0, SIZE);
      const last = items.at(-1);
      return json(response, 200, { items, next_cursor: last === undefined || last === ITEMS.at(-1) ? null : String(last) });
    }
    if (url.pathname === '/linked') {
      const page = Number(q('p') ?? '0');
      const items = ITEMS.slice(page * SIZE, (page + 1) * SIZE);
      const more = (page + 1) * SIZE < ITEMS.length;
      const headers: Record<string, string> = more ? { link: `<${server.url}/linked?p=${page + 1}>; rel="next", <${server.url}/linked?p=0>; rel="first"` } : {};
      return json(response, 200, { items }, headers);
    }
    json(response, 404, {});
  });
  client = new HttpSourceClient({ baseUrl: server.url, source: 'Acme', auth: { type: 'bearer', token: 'secret-token' } });
});
afterEach(async () => {
  await client.close();
  await server.close();
});

async function collect<T>(pages: AsyncIterable<{ page: { items: number[] } } & T>): Promise<number[]> {
  const items: number[] = [];
  for await (const { page } of pages) items.push(...page.items);
  return items;
}

describe('paginators over real HTTP', () => {
  it.each([0, 1] as const)('page number, %i-based, stops at total_pages', async (start) => {
    const items = await collect(
      pageNumberPaginator({
        start,
        fetch: async (page) => (await client.get('/pages', { schema: pageSchema, query: { page, base: start } })).data,
        hasMore: (page, number) => number - start + 1 < (page.total_pages ?? 0),
      }),
    );
    expect(items).toEqual(ITEMS);
    expect(server.seen.map((request) => new URL(request.url, server.url).searchParams.get('page'))).toEqual(
      [0, 1, 2, 3, 4].map((page) => String(page + start)),
    );
  });

  it('offset, stops once the total is reached', async () => {
    const items = await collect(
      offsetPaginator({
        limit: SIZE,
        fetch: async (offset, limit) => (await client.get('/offset', { schema: pageSchema, query: { offset, limit } })).data,
        count: (page) => page.items.length,
        total: (page) => page.total,
      }),
    );
    expect(items).toEqual(ITEMS);
    expect(server.seen).toHaveLength(5);
  });

  it('offset, without a total, stops on a short page', async () => {
    const items = await collect(
      offsetPaginator({
        limit: 6,
        fetch: async (offset, limit) => (await client.get('/offset', { schema: pageSchema, query: { offset, limit } })).data,
        count: (page) => page.items.length,
      }),
    );
    expect(items).toEqual(ITEMS);
    expect(server.seen).toHaveLength(4);
  });

  it('cursor, follows next_cursor until there is none', async () => {
    const items = await collect(
      cursorPaginator({
        fetch: async (after) => (await client.get('/cursor', { schema: pageSchema, query: { after } })).data,
        nextCursor: (page) => page.next_cursor,
      }),
    );
    expect(items).toEqual(ITEMS);
    expect(server.seen.map((request) => request.url)).toEqual(['/cursor', '/cursor?after=5', '/cursor?after=10', '/cursor?after=15', '/cursor?after=20']);
  });

  it('cursor, ends when the source repeats a cursor instead of looping', async () => {
    const pages = cursorPaginator({
      fetch: async () => (await client.get('/cursor', { schema: pageSchema, query: { after: 5 } })).data,
      nextCursor: () => '5',
    });
    expect(await collect(pages)).toEqual([6, 7, 8, 9, 10, 6, 7, 8, 9, 10]);
  });

  it('next link, from the Link header, on the same host only', async () => {
    const items = await collect(
      nextLinkPaginator({
        first: '/linked',
        fetch: async (url) => {
          const answer = await client.get(url, { schema: pageSchema });
          return { items: answer.data.items, next: nextFromLinkHeader(answer.headers.link) };
        },
        nextLink: (page) => page.next,
      }),
    );
    expect(items).toEqual(ITEMS);
    expect(server.seen.map((request) => request.url)).toEqual(['/linked', '/linked?p=1', '/linked?p=2', '/linked?p=3', '/linked?p=4']);
  });

  it('prefetches the next page while the consumer holds this one, and can stop early', async () => {
    const pages = paginate<number, { items: number[] }>({
      first: 0,
      fetch: async (page) => (await client.get('/pages', { schema: pageSchema, query: { page, base: 0 } })).data,
      next: (_page, page) => (page < 4 ? page + 1 : undefined),
    });
    for await (const { request } of pages) {
      // The request for page 1 left before page 0 reached the consumer.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(server.seen).toHaveLength(request + 2);
      break;
    }
    expect(server.seen).toHaveLength(2);
  });
});

describe('nextFromLinkHeader', () => {
  it('reads rel="next" among other relations', () => {
    expect(nextFromLinkHeader('<https://a/x?p=0>; rel="first", <https://a/x?p=2>; rel="next"')).toBe('https://a/x?p=2');
    expect(nextFromLinkHeader('<https://a/x?p=0>; rel="prev"')).toBeUndefined();
    expect(nextFromLinkHeader(undefined)).toBeUndefined();
  });
});
