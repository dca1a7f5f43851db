import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SourceApiError } from '@tributary/sdk';
import { startSandbox, type Fault, type Sandbox } from '@tributary/closealert-sandbox';
import { CloseAlertClient, type CloseAlertClientTuning, type FormResponsesQuery } from './client.js';

const NOW = new Date('2024-06-15T12:00:00Z');
const HOUR_MS = 3_600_000;

// Every token any test uses, and every log line, so that the last test can prove none leaked.
const tokensUsed = new Set<string>();
const logLines: string[] = [];
const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
const errorsSeen: unknown[] = [];

const started: Sandbox[] = [];
const clients: CloseAlertClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(started.splice(0).map((sandbox) => sandbox.close()));
});

async function sandboxWith(responses = 0): Promise<Sandbox> {
  const sandbox = await startSandbox({ now: () => NOW, responses, spanDays: 1 });
  started.push(sandbox);
  tokensUsed.add(sandbox.token);
  return sandbox;
}

interface Recorded {
  client: CloseAlertClient;
  waits: number[];
}

function clientFor(sandbox: Sandbox, tuning: CloseAlertClientTuning = {}, token = sandbox.token): Recorded {
  tokensUsed.add(token);
  const waits: number[] = [];
  const client = new CloseAlertClient({
    baseUrl: sandbox.url,
    projectKey: sandbox.projectKey,
    apiToken: token,
    logger,
    backoffBaseMs: 2,
    backoffMaxMs: 10,
    rateLimitWaitMs: 5,
    lowBudgetWaitMs: 5,
    requestTimeoutMs: 2_000,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...tuning,
  });
  clients.push(client);
  return { client, waits };
}

const lastDay: FormResponsesQuery = {
  since: new Date(NOW.getTime() - 24 * HOUR_MS),
  until: NOW,
  page: 0,
  perPage: 250,
};

async function failureOf(promise: Promise<unknown>): Promise<SourceApiError> {
  try {
    await promise;
  } catch (error) {
    errorsSeen.push(error);
    expect(error).toBeInstanceOf(SourceApiError);
    return error as SourceApiError;
  }
  throw new Error('expected the request to fail');
}

describe('CloseAlertClient against the sandbox', () => {
  it('reads a page with its meta, computing the URL with the encoded project key', async () => {
    const sandbox = await sandboxWith(40);
    const { client } = clientFor(sandbox);
    const page = await client.getFormResponses({ ...lastDay, perPage: 15, page: 1 });
    expect(page.meta).toMatchObject({ page: 1, per_page: 15, total_pages: 3, total_results: 40 });
    expect(page.meta.requests_left).toBeTypeOf('number');
    expect(page.records.map((r) => (r as { id: number }).id)).toEqual(
      sandbox
        .responses()
        .slice(15, 30)
        .map((r) => r.id),
    );
    expect(client.pathFor({ ...lastDay, formId: 7 })).toBe(
      '/v1/company.com/form_responses?since=2024-06-14T12%3A00%3A00Z&until=2024-06-15T12%3A00%3A00Z&per_page=250&page=0&form_id=7',
    );
  });

  it.each<[string, Fault]>([
    ['500', { kind: 'status', status: 500 }],
    ['502 (an HTML proxy page)', { kind: 'status', status: 502 }],
    ['503', { kind: 'status', status: 503 }],
    ['504', { kind: 'status', status: 504 }],
    ['truncated JSON', { kind: 'truncated-json' }],
    ['a connection reset', { kind: 'reset' }],
  ])('recovers from %s with a backoff', async (_label, fault) => {
    const sandbox = await sandboxWith(5);
    const { client, waits } = clientFor(sandbox);
    sandbox.injectFault(fault, { times: 2 });
    const page = await client.getFormResponses(lastDay);
    expect(page.records).toHaveLength(5);
    expect(sandbox.stats().requests).toBe(3);
    // Full jitter: half (random 0.5) of 2 ms, then of 4 ms.
    expect(waits).toEqual([1, 2]);
  });

  it('recovers from a response slower than its time-out', async () => {
    const sandbox = await sandboxWith(3);
    const { client } = clientFor(sandbox, { requestTimeoutMs: 100 });
    sandbox.injectFault({ kind: 'slow', delayMs: 1_500 });
    const page = await client.getFormResponses(lastDay);
    expect(page.records).toHaveLength(3);
    expect(sandbox.stats().requests).toBe(2);
  });

  it.each([0, 1])('honours Retry-After: %i on a 429', async (seconds) => {
    const sandbox = await sandboxWith(2);
    const { client, waits } = clientFor(sandbox);
    sandbox.injectFault({ kind: 'status', status: 429, retryAfterSeconds: seconds });
    const page = await client.getFormResponses(lastDay);
    expect(page.records).toHaveLength(2);
    expect(waits).toEqual(seconds === 0 ? [] : [1000]);
    expect(client.totalWaitedMs).toBe(seconds * 1000);
  });

  it('waits a few minutes (rateLimitWaitMs) on a 429 without Retry-After', async () => {
    const sandbox = await sandboxWith(2);
    const { client, waits } = clientFor(sandbox, { rateLimitWaitMs: 120_000 });
    sandbox.injectFault({ kind: 'status', status: 429 });
    await client.getFormResponses(lastDay);
    expect(waits).toEqual([120_000]);
  });

  it('stops waiting past maxTotalWaitMs with a retryable SOURCE_RATE_LIMITED carrying retryAfterMs', async () => {
    const sandbox = await sandboxWith(2);
    const { client, waits } = clientFor(sandbox, {
      rateLimitWaitMs: 400,
      maxTotalWaitMs: 1_000,
      maxAttempts: 10,
    });
    sandbox.injectFault({ kind: 'status', status: 429 }, { times: 10 });
    const error = await failureOf(client.getFormResponses(lastDay));
    expect(error).toMatchObject({
      code: 'SOURCE_RATE_LIMITED',
      retryable: true,
      retryAfterMs: 400,
      status: 429,
    });
    expect(error.message).toMatch(/rate-limited.*next run/);
    expect(waits).toEqual([400, 400]);
    expect(sandbox.stats().requests).toBe(3);
  });

  it('pauses by itself when requests_left runs low, before CloseAlert refuses', async () => {
    const sandbox = await sandboxWith(20);
    const limit = { capacity: 8, refillPerSecond: 0 };
    sandbox.setRateLimit(limit);
    const { client, waits } = clientFor(sandbox, {
      requestsLeftThreshold: 5,
      lowBudgetWaitMs: 30_000,
      // The pause is where the bucket refills in real life; here the test refills it.
      sleep: async (ms) => {
        waits.push(ms);
        sandbox.setRateLimit(limit);
      },
    });
    for (let page = 0; page < 12; page++)
      await client.getFormResponses({ ...lastDay, perPage: 2, page: page % 10 });
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((ms) => ms === 30_000)).toBe(true);
    expect(sandbox.stats().byStatus[429]).toBeUndefined();
  });

  it.each<[string, Fault, string]>([
    ['a 5xx', { kind: 'status', status: 503 }, 'SOURCE_UNAVAILABLE'],
    ['a 504', { kind: 'status', status: 504 }, 'SOURCE_TIMEOUT'],
    ['broken JSON', { kind: 'truncated-json' }, 'SOURCE_BAD_RESPONSE'],
    ['connection resets', { kind: 'reset' }, 'SOURCE_CONNECTION_FAILED'],
    ['time-outs', { kind: 'slow', delayMs: 1_500 }, 'SOURCE_TIMEOUT'],
  ])('ends with a retryable %s error when the attempts run out', async (_label, fault, code) => {
    const sandbox = await sandboxWith(2);
    const { client } = clientFor(sandbox, { maxAttempts: 3, requestTimeoutMs: 100 });
    sandbox.injectFault(fault, { times: 5 });
    const error = await failureOf(client.getFormResponses(lastDay));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('Gave up after 3 attempts');
    expect(sandbox.stats().requests).toBe(3);
  });

  describe('403', () => {
    const expectAllowListHint = (error: SourceApiError) => {
      expect(error).toMatchObject({ code: 'SOURCE_AUTH_FAILED', status: 403, retryable: false });
      expect(error.message).toMatch(/token is wrong or expired/);
      expect(error.message).toContain("Settings → API access → Whitelisted IP's");
      expect(error.message).toMatch(/without any listed IP the API refuses everyone/);
    };

    it('explains a token CloseAlert does not know, without retrying', async () => {
      const sandbox = await sandboxWith();
      const { client } = clientFor(sandbox, {}, sandbox.issueToken({ signingSecret: 'another-secret' }));
      expectAllowListHint(await failureOf(client.getFormResponses(lastDay)));
      expect(sandbox.stats().requests).toBe(1);
    });

    it('explains an expired token', async () => {
      const sandbox = await sandboxWith();
      const expired = sandbox.issueToken({ expiresAt: new Date(NOW.getTime() - HOUR_MS) });
      const { client } = clientFor(sandbox, {}, expired);
      expectAllowListHint(await failureOf(client.getFormResponses(lastDay)));
    });

    it('names the project key first when the token was issued for another project', async () => {
      const sandbox = await sandboxWith();
      const { client } = clientFor(sandbox, {}, sandbox.issueToken({ projectKey: 'other-company.com' }));
      const error = await failureOf(client.getFormResponses(lastDay));
      expect(error).toMatchObject({ code: 'SOURCE_AUTH_FAILED', status: 403, retryable: false });
      expect(error.message).toContain(
        `The API token was issued for project "other-company.com", not for the project key "${sandbox.projectKey}"`,
      );
      expect(error.message.indexOf('project key')).toBeLessThan(error.message.indexOf('wrong or expired'));
      expect(error.message.indexOf('wrong or expired')).toBeLessThan(error.message.indexOf('Whitelisted IP'));
      expect(error.hint).toContain('other-company.com');
      expect(sandbox.stats().requests).toBe(1);
    });

    it('names all three causes when the token names no project', async () => {
      const sandbox = await sandboxWith();
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const withoutProject = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'someone', iat: 1 })}.c2lnbmF0dXJl`;
      const { client } = clientFor(sandbox, {}, withoutProject);
      const error = await failureOf(client.getFormResponses(lastDay));
      expectAllowListHint(error);
      expect(error.message).toContain(`Check as well that the project key "${sandbox.projectKey}" is the one in your CloseAlert URL`);
    });

    it('explains an IP that is not on the allow-list', async () => {
      const sandbox = await sandboxWith();
      sandbox.setAllowList(['203.0.113.7']);
      const { client } = clientFor(sandbox);
      expectAllowListHint(await failureOf(client.getFormResponses(lastDay)));
      sandbox.setAllowList([]);
      expectAllowListHint(await failureOf(client.getFormResponses(lastDay)));
    });
  });

  it('turns a 422 into SOURCE_VALIDATION_FAILED naming the attributes', async () => {
    const sandbox = await sandboxWith();
    const { client } = clientFor(sandbox);
    const error = await failureOf(client.getFormResponses({ ...lastDay, since: NOW, until: lastDay.since }));
    expect(error).toMatchObject({ code: 'SOURCE_VALIDATION_FAILED', status: 422, retryable: false });
    expect(error.message).toMatch(/until: must not be before since/);
  });

  it('turns a 404 into SOURCE_NOT_FOUND pointing at the base URL and project key', async () => {
    const sandbox = await sandboxWith();
    const waits: number[] = [];
    const client = new CloseAlertClient({
      baseUrl: `${sandbox.url}/nowhere`,
      projectKey: sandbox.projectKey,
      apiToken: sandbox.token,
      sleep: async (ms) => void waits.push(ms),
    });
    clients.push(client);
    const error = await failureOf(client.getFormResponses(lastDay));
    expect(error).toMatchObject({ code: 'SOURCE_NOT_FOUND', status: 404, retryable: false });
    expect(error.message).toMatch(/base URL and the project key/);
    expect(waits).toEqual([]);
  });

  describe('against a server that answers something else than a page', () => {
    let server: Server;
    let baseUrl: string;
    let body = '';
    let requests = 0;

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('retries an envelope that does not match, then gives up with SOURCE_BAD_RESPONSE', async () => {
      server = createServer((_request, response) => {
        requests += 1;
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
      tokensUsed.add(token);
      const client = new CloseAlertClient({
        baseUrl,
        projectKey: 'company.com',
        apiToken: token,
        logger,
        maxAttempts: 2,
        sleep: async () => undefined,
      });
      clients.push(client);

      body = JSON.stringify({ form_responses: 'none', meta: { page: 0 } });
      const error = await failureOf(client.getFormResponses(lastDay));
      expect(error).toMatchObject({ code: 'SOURCE_BAD_RESPONSE', retryable: true });
      expect(error.message).toMatch(/not a page of form responses.*form_responses/);
      expect(requests).toBe(2);

      body = JSON.stringify({
        form_responses: [{ id: 1 }],
        meta: { page: 0, per_page: 1, total_pages: 1, total_results: 1 },
      });
      const page = await client.getFormResponses(lastDay);
      expect(page.meta.requests_left).toBeUndefined();
      expect(page.records).toEqual([{ id: 1 }]);
    });
  });

  it('never lets a token reach an error message, a cause or a log line', () => {
    expect(errorsSeen.length).toBeGreaterThan(10);
    expect(logLines.some((line) => line.includes('"level":40'))).toBe(true);
    expect(logLines.some((line) => line.includes('requestsLeft'))).toBe(true);
    const texts = errorsSeen.map((error) => {
      const e = error as SourceApiError;
      const cause =
        e.cause instanceof Error
          ? `${e.cause.message} ${e.cause.stack ?? ''}`
          : JSON.stringify(e.cause ?? null);
      return `${e.message} ${e.hint ?? ''} ${e.stack ?? ''} ${cause}`;
    });
    for (const token of tokensUsed) {
      for (const text of [...texts, ...logLines]) expect(text.includes(token)).toBe(false);
    }
  });
});
