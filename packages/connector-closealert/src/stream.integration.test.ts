import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, SourceApiError, parseTimestamp, silentLogger, type StreamPage } from '@tributary/sdk';
import { startSandbox, type Sandbox, type SandboxOptions } from '@tributary/closealert-sandbox';
import type { CloseAlertClientTuning } from './client.js';
import { closeAlertConfigSchema, type CloseAlertConfig, type CloseAlertConfigInput } from './config.js';
import { createCloseAlertConnector } from './connector.js';
import type { FormResponse } from './record.js';
import { createFormResponsesStream, type FormResponsesCheckpoint } from './stream.js';

const NOW = new Date('2024-06-15T12:00:00Z');
const NOW_MS = NOW.getTime();
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const fast: CloseAlertClientTuning = {
  backoffBaseMs: 1,
  backoffMaxMs: 4,
  rateLimitWaitMs: 1,
  lowBudgetWaitMs: 1,
  requestTimeoutMs: 2_000,
};
const stream = createFormResponsesStream({ client: fast });
const connector = createCloseAlertConnector({ client: fast });

type Page = StreamPage<FormResponse, FormResponsesCheckpoint>;

const started: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sandbox) => sandbox.close()));
});

async function sandboxWith(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ now: () => NOW, ...options });
  started.push(sandbox);
  return sandbox;
}

function configFor(sandbox: Sandbox, overrides: Partial<CloseAlertConfigInput> = {}): CloseAlertConfig {
  return closeAlertConfigSchema.parse({
    projectKey: sandbox.projectKey,
    apiToken: sandbox.token,
    baseUrl: sandbox.url,
    ...overrides,
  });
}

async function readAll(
  config: CloseAlertConfig,
  checkpoint: FormResponsesCheckpoint | null = null,
  now: Date = NOW,
): Promise<Page[]> {
  const pages: Page[] = [];
  for await (const page of stream.read({ config, checkpoint, now, logger: silentLogger() })) pages.push(page);
  return pages;
}

const idsOf = (pages: Page[]): number[] => pages.flatMap((page) => page.records.map((record) => record.id));
const lastCheckpoint = (pages: Page[]): FormResponsesCheckpoint => pages.at(-1)!.checkpoint;

/** Ids the sandbox holds with created_at in [sinceMs, untilMs]. */
function sandboxIds(sandbox: Sandbox, sinceMs: number, untilMs: number, timeZone = 'UTC'): number[] {
  return sandbox
    .responses()
    .filter((r) => {
      const ms = parseTimestamp(r.created_at, timeZone)!;
      return ms >= sinceMs && ms <= untilMs;
    })
    .map((r) => r.id);
}

const at = (ms: number) => new Date(ms);

describe('form_responses stream against the sandbox', () => {
  it('backfills across several windows, reading every response exactly once', async () => {
    const zone = 'Europe/Amsterdam';
    const sandbox = await sandboxWith({ responses: 500, spanDays: 120, timeZone: zone, seed: 7 });
    const pages = await readAll(configFor(sandbox, { backfillDays: 100, pageSize: 60, timeZone: zone }));

    const ids = idsOf(pages);
    const expected = sandboxIds(sandbox, NOW_MS - 100 * DAY_MS, NOW_MS, zone);
    expect(expected.length).toBeGreaterThan(300);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    expect(pages.every((page) => page.backfill && page.rejected.length === 0)).toBe(true);
    // 100 days in windows of 28: four windows.
    expect(pages.at(-1)!.progress).toEqual({ done: 4, total: 4 });
    expect(lastCheckpoint(pages)).toEqual({ cursor: NOW.toISOString(), backfillUntil: NOW.toISOString(), reconciledAt: NOW.toISOString() });
    const cursors = pages.map((page) => Date.parse(page.checkpoint.cursor));
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
  });

  it('reads exactly 250 responses as one page, and 251 as two', async () => {
    const sandbox = await sandboxWith();
    sandbox.addResponses({ count: 250, createdAt: (i) => at(NOW_MS - 3 * 3_600_000 + i * 1000) });
    const config = configFor(sandbox, { backfillDays: 1 });
    const one = await readAll(config);
    expect(one).toHaveLength(1);
    expect(one[0]!.records).toHaveLength(250);
    expect(sandbox.stats().requests).toBe(1);

    sandbox.addResponses({ count: 1, createdAt: at(NOW_MS - 60_000) });
    const two = await readAll(config);
    expect(two.map((page) => page.records.length)).toEqual([250, 1]);
    expect(new Set(idsOf(two)).size).toBe(251);
  });

  it('yields one empty page for an empty window, which still moves the checkpoint', async () => {
    const sandbox = await sandboxWith();
    const config = configFor(sandbox, { backfillDays: 2 });
    const pages = await readAll(config);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({
      records: [],
      rejected: [],
      backfill: true,
      progress: { done: 1, total: 1 },
    });
    expect(lastCheckpoint(pages).cursor).toBe(NOW.toISOString());

    const later = new Date(NOW_MS + 3_600_000);
    const next = await readAll(config, lastCheckpoint(pages), later);
    // The look-back reaches before the end of the backfill, so it gets a window of its own.
    expect(next.map((page) => [page.records.length, page.backfill])).toEqual([
      [0, true],
      [0, false],
    ]);
    expect(lastCheckpoint(next)).toEqual({ cursor: later.toISOString(), backfillUntil: NOW.toISOString(), reconciledAt: NOW.toISOString() });
  });

  it('reads many responses of one second across page boundaries, and at a window boundary, once each', async () => {
    const sandbox = await sandboxWith();
    const second = NOW_MS - 5 * 3_600_000;
    sandbox.addResponses({ count: 30, createdAt: at(second) });
    // 30 days back: windows [now-30d, now-2d] and [now-2d, now] share the instant now-2d.
    const boundary = NOW_MS - 2 * DAY_MS;
    sandbox.addResponses({ count: 9, createdAt: at(boundary) });
    const pages = await readAll(configFor(sandbox, { backfillDays: 30, pageSize: 7 }));
    const ids = idsOf(pages);
    expect(ids).toHaveLength(39);
    expect(new Set(ids).size).toBe(39);
    expect(pages.at(-1)!.progress).toEqual({ done: 2, total: 2 });
  });

  it('picks up new responses on the next run, the look-back overlap only repeating ids already read', async () => {
    const sandbox = await sandboxWith({ responses: 120, spanDays: 10, seed: 3 });
    const config = configFor(sandbox, { backfillDays: 10, pageSize: 50, lookbackMinutes: 60 });
    const first = await readAll(config);
    const firstIds = new Set(idsOf(first));
    expect([...firstIds].sort((a, b) => a - b)).toEqual(sandboxIds(sandbox, NOW_MS - 10 * DAY_MS, NOW_MS));

    // Late arrivals inside the look-back, and genuinely new responses after the first run.
    const late = sandbox.addResponses({ count: 3, createdAt: at(NOW_MS - 10 * MINUTE_MS) }).map((r) => r.id);
    const fresh = sandbox
      .addResponses({ count: 20, createdAt: (i) => at(NOW_MS + (i + 1) * MINUTE_MS) })
      .map((r) => r.id);
    const now2 = new Date(NOW_MS + 45 * MINUTE_MS);
    const second = await readAll(config, lastCheckpoint(first), now2);

    const secondIds = idsOf(second);
    expect(new Set(secondIds).size).toBe(secondIds.length);
    // Only what was created after the first run's end is news; the look-back window is old news.
    const news = idsOf(second.filter((page) => !page.backfill));
    expect(news).toEqual(fresh);
    expect(secondIds).toEqual(expect.arrayContaining([...late, ...fresh]));
    const repeated = secondIds.filter((id) => firstIds.has(id));
    expect(repeated.sort((a, b) => a - b)).toEqual(
      sandboxIds(sandbox, NOW_MS - 60 * MINUTE_MS, NOW_MS).filter((id) => firstIds.has(id)),
    );
    expect(secondIds.every((id) => firstIds.has(id) || late.includes(id) || fresh.includes(id))).toBe(true);
    const union = new Set([...firstIds, ...secondIds]);
    expect(union.size).toBe(sandboxIds(sandbox, NOW_MS - 10 * DAY_MS, now2.getTime()).length);
    expect(lastCheckpoint(second)).toEqual({ cursor: now2.toISOString(), backfillUntil: NOW.toISOString(), reconciledAt: NOW.toISOString() });
  });

  it('resumes an interrupted backfill from its checkpoint, still marking the rest as backfill', async () => {
    const sandbox = await sandboxWith({ responses: 200, spanDays: 60, seed: 11 });
    const config = configFor(sandbox, { backfillDays: 60, pageSize: 40, lookbackMinutes: 0 });
    const seen: Page[] = [];
    for await (const page of stream.read({ config, checkpoint: null, now: NOW, logger: silentLogger() })) {
      seen.push(page);
      if (seen.length === 3) break;
    }
    const later = new Date(NOW_MS + 30 * MINUTE_MS);
    const rest = await readAll(config, lastCheckpoint(seen), later);
    const newsPages = rest.filter((page) => !page.backfill);
    expect(rest.filter((page) => page.backfill).length).toBeGreaterThan(0);
    expect(newsPages.flatMap((page) => page.records)).toEqual([]);
    const all = new Set([...idsOf(seen), ...idsOf(rest)]);
    expect([...all].sort((a, b) => a - b)).toEqual(sandboxIds(sandbox, NOW_MS - 60 * DAY_MS, NOW_MS));
  });

  it('reads only the configured form', async () => {
    const sandbox = await sandboxWith({ responses: 150, spanDays: 5, seed: 5 });
    const formId = sandbox.responses()[0]!.form.id;
    const pages = await readAll(configFor(sandbox, { backfillDays: 5, formId }));
    const expected = sandbox
      .responses()
      .filter((r) => r.form.id === formId)
      .map((r) => r.id);
    expect(idsOf(pages).sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
  });

  it('sets a bad record aside with its reason while the rest of the page passes', async () => {
    const sandbox = await sandboxWith();
    const added = sandbox.addResponses({ count: 5, createdAt: (i) => at(NOW_MS - 3_600_000 + i * 1000) });
    sandbox.injectFault({ kind: 'bad-record', index: 2 });
    const pages = await readAll(configFor(sandbox, { backfillDays: 1 }));
    expect(pages).toHaveLength(1);
    const page = pages[0]!;
    expect(page.records.map((r) => r.id)).toEqual([added[0]!.id, added[1]!.id, added[3]!.id, added[4]!.id]);
    expect(page.rejected).toHaveLength(1);
    expect(page.rejected[0]!.sourceId).toBe('x');
    expect(page.rejected[0]!.reason).toMatch(/id: .*created_at: /);
    expect(page.checkpoint.cursor).toBe(NOW.toISOString());
  });

  it('survives faults in the middle of a backfill', async () => {
    const sandbox = await sandboxWith({ responses: 100, spanDays: 30, seed: 9 });
    const config = configFor(sandbox, { backfillDays: 30, pageSize: 25 });
    sandbox.injectFault({ kind: 'status', status: 503 });
    sandbox.injectFault({ kind: 'reset' });
    sandbox.injectFault({ kind: 'truncated-json' });
    sandbox.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 0 });
    const pages = await readAll(config);
    expect(idsOf(pages).sort((a, b) => a - b)).toEqual(sandboxIds(sandbox, NOW_MS - 30 * DAY_MS, NOW_MS));
  });

  it('ends the run with a SourceApiError once retries run out, keeping the checkpoint of the pages before', async () => {
    const sandbox = await sandboxWith({ responses: 60, spanDays: 2, seed: 2 });
    const failing = createFormResponsesStream({ client: { ...fast, maxAttempts: 2 } });
    const config = configFor(sandbox, { backfillDays: 2, pageSize: 20 });
    const pages: Page[] = [];
    let thrown: unknown;
    try {
      for await (const page of failing.read({ config, checkpoint: null, now: NOW, logger: silentLogger() })) {
        pages.push(page);
        if (pages.length === 1) sandbox.injectFault({ kind: 'status', status: 503 }, { times: 10 });
      }
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SourceApiError);
    expect(thrown).toMatchObject({ code: 'SOURCE_UNAVAILABLE', retryable: true });
    // The prefetched second page failed; only the first page was handed out.
    expect(pages).toHaveLength(1);
  });

  it('prefetches the next page while the current one is handled, one page ahead at most', async () => {
    const sandbox = await sandboxWith({ responses: 40, spanDays: 1, seed: 4 });
    const pages = stream.read({
      config: configFor(sandbox, { backfillDays: 1, pageSize: 10 }),
      checkpoint: null,
      now: NOW,
      logger: silentLogger(),
    });
    const iterator = pages[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    await vi.waitFor(() => expect(sandbox.stats().requests).toBe(2));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sandbox.stats().requests).toBe(2);
    await iterator.return?.();
  });

  it('stops when its signal aborts', async () => {
    const sandbox = await sandboxWith({ responses: 40, spanDays: 1, seed: 4 });
    const controller = new AbortController();
    const config = configFor(sandbox, { backfillDays: 1, pageSize: 10 });
    const pages: Page[] = [];
    const run = async () => {
      for await (const page of stream.read({
        config,
        checkpoint: null,
        now: NOW,
        logger: silentLogger(),
        signal: controller.signal,
      })) {
        pages.push(page);
        controller.abort(new Error('shutting down'));
      }
    };
    await expect(run()).rejects.toThrow('shutting down');
    expect(pages).toHaveLength(1);
  });

  it('fails a sync with an expired token before any request, saying how to replace it', async () => {
    const sandbox = await sandboxWith();
    const expired = sandbox.issueToken({ expiresAt: new Date(NOW_MS - DAY_MS) });
    const error = await readAll(configFor(sandbox, { apiToken: expired })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect((error as Error).message).toContain(
      'tributary app token --workspace <ws> closealert --token-file <file>',
    );
    expect((error as Error).message).not.toContain(expired);
    expect(sandbox.stats().requests).toBe(0);
  });
});

describe('closeAlertConnector.check against the sandbox', () => {
  it('confirms the connection with notes on the token', async () => {
    const sandbox = await sandboxWith({ responses: 30, spanDays: 2 });
    const result = await connector.check({ config: configFor(sandbox), now: NOW, logger: silentLogger() });
    expect(result.notes[0]).toMatch(
      /^Connected to CloseAlert project company\.com: \d+ responses in the last 24 hours\.$/,
    );
    expect(result.notes).toContain('The API token has no expiry date.');
    expect(sandbox.stats().requests).toBe(1);

    const soon = sandbox.issueToken({ expiresInDays: 10 });
    const warned = await connector.check({
      config: configFor(sandbox, { apiToken: soon }),
      now: NOW,
      logger: silentLogger(),
    });
    expect(warned.notes.join(' ')).toMatch(/10 days left.*tributary app token/);
  });

  it('refuses an expired token locally, and a 403 with the allow-list hint', async () => {
    const sandbox = await sandboxWith();
    const expired = sandbox.issueToken({ expiresAt: new Date(NOW_MS - DAY_MS) });
    await expect(
      connector.check({
        config: configFor(sandbox, { apiToken: expired }),
        now: NOW,
        logger: silentLogger(),
      }),
    ).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect(sandbox.stats().requests).toBe(0);

    sandbox.setAllowList([]);
    const error = await connector
      .check({ config: configFor(sandbox), now: NOW, logger: silentLogger() })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SOURCE_AUTH_FAILED', retryable: false });
    expect((error as Error).message).toContain("Whitelisted IP's");
    expect((error as Error).message).not.toContain(sandbox.token);
  });
});

describe('form_responses stream against a server whose pages disagree with its meta', () => {
  it('stops with a retryable error instead of skipping the rest of a window', async () => {
    const { createServer } = await import('node:http');
    const record = (id: number) => ({ id, created_at: '2024-06-15T11:00:00', email: `c${id}@example.com`, form: { id: 1 }, answers: [] });
    // Page 0 holds one response and claims three pages; page 1 comes back empty.
    const server = createServer((request, response) => {
      const page = Number(new URL(request.url!, 'http://x').searchParams.get('page'));
      const form_responses = page === 0 ? [record(1)] : [];
      const meta = { page, per_page: 1, total_pages: 3, total_results: 3, requests_left: 100 };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ form_responses, meta }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address() as { port: number };
      const config = closeAlertConfigSchema.parse({
        projectKey: 'company.com',
        apiToken: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
        baseUrl: `http://127.0.0.1:${address.port}/v1`,
        backfillDays: 1,
        pageSize: 1,
      });
      const pages: Page[] = [];
      const reading = (async () => {
        for await (const page of stream.read({ config, checkpoint: null, now: NOW, logger: silentLogger() })) pages.push(page);
      })();
      await expect(reading).rejects.toMatchObject({ code: 'SOURCE_BAD_RESPONSE', retryable: true });
      expect(idsOf(pages)).toEqual([1]);
      // The checkpoint stays inside the window: the next run reads the unread pages again.
      expect(Date.parse(lastCheckpoint(pages).cursor)).toBeLessThan(NOW_MS);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
