/** One fetched page and the request that fetched it. */
export interface Fetched<TRequest, TPage> {
  request: TRequest;
  page: TPage;
}

/** How to walk pages: the first request, how to fetch one, and the request after a page (undefined: done). */
export interface PaginateOptions<TRequest, TPage> {
  first: TRequest;
  fetch: (request: TRequest) => Promise<TPage>;
  next: (page: TPage, request: TRequest) => TRequest | undefined;
  /**
   * Start the next request before yielding the current page, so that it travels while the consumer
   * stores this one. Default true.
   */
  prefetch?: boolean;
}

/**
 * The one loop under every paginator. A prefetched request the consumer no longer wants (it stopped
 * or failed) is never reported as unhandled; abort it through the signal your `fetch` uses.
 */
export async function* paginate<TRequest, TPage>(
  options: PaginateOptions<TRequest, TPage>,
): AsyncGenerator<Fetched<TRequest, TPage>> {
  const prefetch = options.prefetch ?? true;
  const start = (request: TRequest): Promise<TPage> => {
    const pending = options.fetch(request);
    pending.catch(() => undefined);
    return pending;
  };
  let request: TRequest = options.first;
  let pending = start(request);
  for (;;) {
    const page: TPage = await pending;
    const next: TRequest | undefined = options.next(page, request);
    if (next !== undefined && prefetch) pending = start(next);
    yield { request, page };
    if (next === undefined) return;
    if (!prefetch) pending = start(next);
    request = next;
  }
}

/** Page-number paging, 0- or 1-based: `hasMore` reads the page (a `total_pages`, a full page). */
export function pageNumberPaginator<TPage>(options: {
  start?: 0 | 1;
  fetch: (page: number) => Promise<TPage>;
  hasMore: (page: TPage, pageNumber: number) => boolean;
  prefetch?: boolean;
}): AsyncGenerator<Fetched<number, TPage>> {
  return paginate<number, TPage>({
    first: options.start ?? 0,
    fetch: options.fetch,
    next: (page, number) => (options.hasMore(page, number) ? number + 1 : undefined),
    prefetch: options.prefetch,
  });
}

/**
 * Offset/limit paging: stops on a short page, or once `total` (when the page says) is reached.
 * The request is the offset of the page.
 */
export function offsetPaginator<TPage>(options: {
  limit: number;
  fetch: (offset: number, limit: number) => Promise<TPage>;
  count: (page: TPage) => number;
  total?: (page: TPage) => number | undefined;
  prefetch?: boolean;
}): AsyncGenerator<Fetched<number, TPage>> {
  return paginate<number, TPage>({
    first: 0,
    fetch: (offset) => options.fetch(offset, options.limit),
    next: (page, offset) => {
      const count = options.count(page);
      const total = options.total?.(page);
      const nextOffset = offset + count;
      if (count < options.limit || count === 0) return undefined;
      if (total !== undefined && nextOffset >= total) return undefined;
      return nextOffset;
    },
    prefetch: options.prefetch,
  });
}

/**
 * Cursor (token) paging: each page names the cursor of the next one; none, or the same one again,
 * ends it (a source repeating its cursor would otherwise loop forever).
 */
export function cursorPaginator<TPage>(options: {
  fetch: (cursor: string | undefined) => Promise<TPage>;
  nextCursor: (page: TPage) => string | null | undefined;
}): AsyncGenerator<Fetched<string | undefined, TPage>> {
  return paginate<string | undefined, TPage>({
    first: undefined,
    fetch: options.fetch,
    next: (page, cursor) => {
      const next = options.nextCursor(page);
      return next === null || next === undefined || next === '' || next === cursor ? undefined : next;
    },
  });
}

/**
 * Next-link paging: each page carries the URL of the next (a `links.next`, a `Link` header); a link
 * seen before ends it. Fetch links with {@link HttpSourceClient.get}, which refuses another host.
 */
export function nextLinkPaginator<TPage>(options: {
  first: string;
  fetch: (url: string) => Promise<TPage>;
  nextLink: (page: TPage) => string | null | undefined;
}): AsyncGenerator<Fetched<string, TPage>> {
  const seen = new Set<string>([options.first]);
  return paginate<string, TPage>({
    first: options.first,
    fetch: options.fetch,
    next: (page) => {
      const link = options.nextLink(page);
      if (link === null || link === undefined || link === '' || seen.has(link)) return undefined;
      seen.add(link);
      return link;
    },
  });
}

/** The `rel="next"` target of an HTTP `Link` header, if any. */
export function nextFromLinkHeader(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return undefined;
  for (const part of value.split(',')) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (match && /rel="?next"?/i.test(match[2]!)) return match[1];
  }
  return undefined;
}
