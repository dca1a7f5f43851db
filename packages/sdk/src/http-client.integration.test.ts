import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SourceApiError, type SourceWait } from '@tributary/core';
import { HttpSourceClient, type HttpClientOptions } from './http-client.js';
import { RateLimiter } from './rate-limiter.js';
import { json, startTestServer, type TestServer } from './test-server.js';

const TOKEN = 'tok-3f9a1c7e-secret-value';
const itemsSchema = z.object({ items: z.array(z.unknown()) });

const logLines: string[] = [];
const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
const errorsSeen: SourceApiError[] = [];

let server: TestServer;
const clients: HttpSourceClient[] = [];
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await server.close();
});

function clientFor(options: Partial<HttpClientOptions> = {}): { client: HttpSourceClient; waits: number[]; told: SourceWait[] } {
  const waits: number[] = [];
  const told: SourceWait[] = [];
  const client = new HttpSourceClient({
    baseUrl: `${server.url}/api/v2`,
    source: 'Acme',
    auth: { type: 'bearer', token: TOKEN },
    logger,
    backoffBaseMs: 2,
    backoffMaxMs: 10,
    rateLimitWaitMs: 5,
    requestTimeoutMs: 2_000,
    random: () => 0.5,
    sleep: async (ms) => void waits.push(ms),
    onWait: (wait) => void told.push(wait),
    ...options,
  });
  clients.push(client);
  return { client, waits, told };
}

async function failureOf(promise: Promise<unknown>): Promise<SourceApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SourceApiError);
    errorsSeen.push(error as SourceApiError);
    return error as SourceApiError;
  }
  throw new Error('expected the request to fail');
}

const ok = { items: [1, 2] };

describe('HttpSourceClient over real HTTP', () => {
  it('joins the base path, path and query, and validates the body', async () => {
    server.handle((_request, response) => json(response, 200, ok));
    const { client } = clientFor();
    const answer = await client.get('/things', { schema: itemsSchema, query: { page: 0, since: 'a b', skip: undefined } });
    expect(answer.data).toEqual(ok);
    expect(server.seen[0]!.url).toBe('/api/v2/things?page=0&since=a+b');
  });

  it.each<[string, HttpClientOptions['auth'], string, string]>([
    ['bearer', { type: 'bearer', token: TOKEN }, 'authorization', `Bearer ${TOKEN}`],
    ['basic', { type: 'basic', username: 'me', password: TOKEN }, 'authorization', `Basic ${Buffer.from(`me:${TOKEN}`).toString('base64')}`],
    ['API-key header', { type: 'apiKey', header: 'X-Api-Key', value: TOKEN }, 'x-api-key', TOKEN],
  ])('sends %s credentials', async (_label, auth, header, value) => {
    server.handle((_request, response) => json(response, 200, ok));
    const { client } = clientFor({ auth });
    await client.get('/things', { schema: itemsSchema });
    expect(server.seen[0]!.headers[header]).toBe(value);
  });

  it('retries a 5xx with jittered, doubling backoff, then succeeds', async () => {
    server.handle((_request, response, index) => (index < 2 ? json(response, 503, {}) : json(response, 200, ok)));
    const { client, waits, told } = clientFor();
    await client.get('/things', { schema: itemsSchema });
    expect(server.seen).toHaveLength(3);
    // Half (random 0.5) of 2 ms, then of 4 ms.
    expect(waits).toEqual([1, 2]);
    expect(told.map((wait) => wait.code)).toEqual(['SOURCE_UNAVAILABLE', 'SOURCE_UNAVAILABLE']);
  });

  it('gives up after maxAttempts with a retryable error saying so', async () => {
    server.handle((_request, response) => json(response, 502, {}));
    const { client } = clientFor({ maxAttempts: 3 });
    const error = await failureOf(client.get('/things', { schema: itemsSchema }));
    expect(error).toMatchObject({ code: 'SOURCE_UNAVAILABLE', status: 502, retryable: true });
    expect(error.message).toContain('Gave up after 3 attempts; the next run will try again.');
    expect(server.seen).toHaveLength(3);
  });

  it('says what happens after giving up when there is no next run', async () => {
    server.handle((_request, response) => json(response, 500, {}));
    const { client } = clientFor({ maxAttempts: 1, afterGivingUp: 'nothing was saved.' });
    expect((await failureOf(client.get('/things', { schema: itemsSchema }))).message).toMatch(/Gave up after 1 attempts; nothing was saved\.$/);
  });

  it('honours Retry-After (seconds and HTTP date) within the wait budget', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    server.handle((_request, response, index) => {
      if (index === 0) return json(response, 429, {}, { 'retry-after': '3' });
      if (index === 1) return json(response, 503, {}, { 'retry-after': new Date(now + 7_000).toUTCString() });
      json(response, 200, ok);
    });
    const { client, waits, told } = clientFor({ now: () => now, maxTotalWaitMs: 10_000 });
    await client.get('/things', { schema: itemsSchema });
    expect(waits).toEqual([3_000, 7_000]);
    expect(client.totalWaitedMs).toBe(10_000);
    expect(told[0]).toMatchObject({ ms: 3_000, code: 'SOURCE_RATE_LIMITED' });
  });

  it('waits rateLimitWaitMs after a 429 without Retry-After', async () => {
    server.handle((_request, response, index) => (index === 0 ? json(response, 429, {}) : json(response, 200, ok)));
    const { client, waits } = clientFor({ rateLimitWaitMs: 120_000 });
    await client.get('/things', { schema: itemsSchema });
    expect(waits).toEqual([120_000]);
  });

  it('stops at once when a Retry-After exceeds what is left of the budget', async () => {
    server.handle((_request, response) => json(response, 429, {}, { 'retry-after': '600' }));
    const { client, waits } = clientFor({ maxTotalWaitMs: 60_000, maxAttempts: 10 });
    const error = await failureOf(client.get('/things', { schema: itemsSchema }));
    expect(error).toMatchObject({ code: 'SOURCE_RATE_LIMITED', retryable: true, retryAfterMs: 600_000, status: 429 });
    expect(error.message).toMatch(/Stopped waiting: this run already waited 0 s of the 60 s allowed; the next run resumes from the checkpoint\./);
    expect(waits).toEqual([]);
    expect(server.seen).toHaveLength(1);
  });

  it.each<[number, string, boolean]>([
    [401, 'SOURCE_AUTH_FAILED', false],
    [403, 'SOURCE_AUTH_FAILED', false],
    [404, 'SOURCE_NOT_FOUND', false],
    [422, 'SOURCE_VALIDATION_FAILED', false],
    [418, 'SOURCE_REQUEST_FAILED', false],
    [504, 'SOURCE_TIMEOUT', true],
    [500, 'SOURCE_UNAVAILABLE', true],
  ])('maps %i to %s', async (status, code, retryable) => {
    server.handle((request, response) => json(response, status, { echoed: request.headers.authorization }));
    const { client } = clientFor({ maxAttempts: 2 });
    const error = await failureOf(client.get('/things', { schema: itemsSchema }));
    expect(error).toMatchObject({ code, status, retryable });
    expect(server.seen).toHaveLength(retryable ? 2 : 1);
  });

  it('lets the connector explain a status in its own words', async () => {
    server.handle((_request, response) => json(response, 403, {}));
    const { client } = clientFor({
      explainStatus: (failure) =>
        failure.status === 403
          ? new SourceApiError('SOURCE_AUTH_FAILED', 'Acme refused: check the project key.', { status: 403, retryable: false, hint: 'project' })
          : undefined,
    });
    const error = await failureOf(client.get('/things', { schema: itemsSchema }));
    expect(error.message).toBe('Acme refused: check the project key.');
    expect(error.hint).toBe('project');
  });

  it('retries a body that fails its schema or is broken JSON, naming the unexpected fields', async () => {
    server.handle((_request, response, index) =>
      index === 0 ? response.writeHead(200).end('{"items": [1,') : json(response, 200, { items: 'none' }),
    );
    const { client } = clientFor({ maxAttempts: 2 });
    const error = await failureOf(client.get('/things', { schema: itemsSchema, expected: 'a page of things' }));
    expect(error).toMatchObject({ code: 'SOURCE_BAD_RESPONSE', retryable: true });
    expect(error.message).toMatch(/is not a page of things \(unexpected items\)/);
    expect(server.seen).toHaveLength(2);
  });

  it('times out a slow answer and retries it', async () => {
    server.handle((_request, response, index) => {
      if (index === 0) setTimeout(() => json(response, 200, ok), 1_000);
      else json(response, 200, ok);
    });
    const { client } = clientFor({ requestTimeoutMs: 100 });
    await client.get('/things', { schema: itemsSchema });
    expect(server.seen).toHaveLength(2);
  });

  it('ends with SOURCE_TIMEOUT and SOURCE_CONNECTION_FAILED when the attempts run out', async () => {
    server.handle(() => undefined);
    const slow = clientFor({ requestTimeoutMs: 80, maxAttempts: 2 }).client;
    expect((await failureOf(slow.get('/things', { schema: itemsSchema }))).code).toBe('SOURCE_TIMEOUT');
    server.handle((request) => request.socket.destroy());
    const reset = clientFor({ maxAttempts: 2 }).client;
    expect((await failureOf(reset.get('/things', { schema: itemsSchema }))).code).toBe('SOURCE_CONNECTION_FAILED');
  });

  it('never sends credentials to another host a next link names', async () => {
    const { client } = clientFor();
    const error = await failureOf(client.get('https://elsewhere.example/api/v2/things?page=2', { schema: itemsSchema }));
    expect(error).toMatchObject({ code: 'SOURCE_BAD_RESPONSE', retryable: false });
    expect(server.seen).toHaveLength(0);
    server.handle((_request, response) => json(response, 200, ok));
    await client.get(`${server.url}/api/v2/things?page=2`, { schema: itemsSchema, query: { size: 5 } });
    expect(server.seen[0]!.url).toBe('/api/v2/things?page=2&size=5');
  });

  it('refuses an empty or blank-containing token before any request', () => {
    expect(() => clientFor({ auth: { type: 'bearer', token: 'a b' } })).toThrow(/Acme API token is empty or contains whitespace/);
  });

  it('spaces requests under the client-side rate limit', async () => {
    server.handle((_request, response) => json(response, 200, ok));
    const { client } = clientFor({ requestsPerSecond: 20, sleep: undefined });
    await Promise.all(Array.from({ length: 6 }, () => client.get('/things', { schema: itemsSchema })));
    expect(server.seen).toHaveLength(6);
    // Six slots 50 ms apart span 250 ms, give or take the timer's granularity; unlimited, they arrive at once.
    expect(server.seen.at(-1)!.atMs - server.seen[0]!.atMs).toBeGreaterThanOrEqual(220);
  });

  it('shares one limiter between clients of the same installation', async () => {
    server.handle((_request, response) => json(response, 200, ok));
    const limiter = new RateLimiter(10);
    const a = clientFor({ rateLimiter: limiter }).client;
    const b = clientFor({ rateLimiter: limiter }).client;
    await Promise.all([a.get('/a', { schema: itemsSchema }), b.get('/b', { schema: itemsSchema }), a.get('/a', { schema: itemsSchema })]);
    expect(server.seen.at(-1)!.atMs - server.seen[0]!.atMs).toBeGreaterThanOrEqual(180);
  });

  it('never lets a secret reach an error message, a cause or a log line', async () => {
    // A source that echoes the credentials back in an error body and a connection failure message.
    server.handle((request, response) => json(response, 400, { error: `bad token ${request.headers.authorization}` }));
    const { client } = clientFor({ auth: { type: 'basic', username: 'me', password: TOKEN } });
    const error = await failureOf(client.get('/things', { schema: itemsSchema }));
    expect(error.message).toContain('***');
    expect(errorsSeen.length).toBeGreaterThan(10);
    expect(logLines.some((line) => line.includes('"acme request"'))).toBe(true);
    const encoded = Buffer.from(`me:${TOKEN}`).toString('base64');
    for (const seen of errorsSeen) {
      const cause = seen.cause instanceof Error ? `${seen.cause.message} ${seen.cause.stack ?? ''}` : JSON.stringify(seen.cause ?? null);
      const text = `${seen.message} ${seen.hint ?? ''} ${seen.stack ?? ''} ${cause}`;
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(encoded);
    }
    for (const line of logLines) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(encoded);
    }
  });
});
