import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from './index.js';

const NOW = new Date('2024-06-15T12:00:00Z');
const QUERY = 'since=2024-06-10T00:00:00Z&until=2024-06-15T12:00:00Z&per_page=20';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ now: () => NOW, responses: 100, spanDays: 5 });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.clearFaults();
  sandbox.setRateLimit({ capacity: 1000, refillPerSecond: 500 });
});

function request(init: RequestInit = {}): Promise<Response> {
  return fetch(`${sandbox.url}/company.com/form_responses?${QUERY}`, {
    ...init,
    headers: { authorization: `Bearer ${sandbox.token}` },
  });
}

async function expectHealthy(): Promise<void> {
  const response = await request();
  expect(response.status).toBe(200);
  expect((await response.json()) as object).toHaveProperty('form_responses');
}

describe('rate limiting', () => {
  it('counts requests_left down to 429, without Retry-After', async () => {
    sandbox.setRateLimit({ capacity: 3, refillPerSecond: 0 });
    const left: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await request();
      expect(response.status).toBe(200);
      left.push(((await response.json()) as { meta: { requests_left: number } }).meta.requests_left);
    }
    expect(left).toEqual([2, 1, 0]);
    const limited = await request();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(await limited.json()).toEqual({ error: { description: 'Too many requests', code: 429 } });
  });
});

describe('faults', () => {
  it('answers an injected 429 with and without Retry-After', async () => {
    sandbox.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 7 });
    sandbox.injectFault({ kind: 'status', status: 429 });
    const withHeader = await request();
    expect(withHeader.status).toBe(429);
    expect(withHeader.headers.get('retry-after')).toBe('7');
    expect(await withHeader.json()).toEqual({ error: { description: 'Too many requests', code: 429 } });
    const without = await request();
    expect(without.status).toBe(429);
    expect(without.headers.get('retry-after')).toBeNull();
    await without.arrayBuffer();
    await expectHealthy();
  });

  it.each([500, 502, 503, 504] as const)('answers an injected %i', async (status) => {
    sandbox.injectFault({ kind: 'status', status });
    const response = await request();
    expect(response.status).toBe(status);
    const text = await response.text();
    if (status === 500 || status === 504) expect(JSON.parse(text)).toMatchObject({ error: { code: status } });
    else expect(response.headers.get('content-type')).toMatch(/text\/html/);
    await expectHealthy();
  });

  it('applies a fault the given number of times, in FIFO order', async () => {
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
    sandbox.injectFault({ kind: 'status', status: 500 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await request();
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([503, 503, 500, 200]);
  });

  it('forgets faults on clearFaults', async () => {
    sandbox.injectFault({ kind: 'status', status: 500 }, { times: 3 });
    sandbox.clearFaults();
    await expectHealthy();
  });

  it('answers correctly but late on a slow fault, so a client time-out fires', async () => {
    sandbox.injectFault({ kind: 'slow', delayMs: 2000 });
    await expect(request({ signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    sandbox.injectFault({ kind: 'slow', delayMs: 20 });
    await expectHealthy();
  });

  it('cuts the body of a 200 in the middle on truncated-json', async () => {
    sandbox.injectFault({ kind: 'truncated-json' });
    const response = await request();
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.startsWith('{"form_responses":[')).toBe(true);
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    await expectHealthy();
  });

  it('replaces one record of the page with one of the wrong shape', async () => {
    const healthy = (await (await request()).json()) as { form_responses: { id: unknown }[] };
    sandbox.injectFault({ kind: 'bad-record', index: 3 });
    const response = await request();
    expect(response.status).toBe(200);
    const body = (await response.json()) as { form_responses: Record<string, unknown>[] };
    expect(body.form_responses).toHaveLength(healthy.form_responses.length);
    expect(body.form_responses[3]).toMatchObject({
      id: 'x',
      created_at: 'not-a-date',
      answers: 'not-an-array',
    });
    expect(body.form_responses.filter((_, index) => index !== 3)).toEqual(
      healthy.form_responses.filter((_, index) => index !== 3),
    );
  });

  it('keeps a bad record for the next page that has records, when a page comes back empty', async () => {
    sandbox.injectFault({ kind: 'bad-record' });
    const empty = await fetch(`${sandbox.url}/company.com/form_responses?since=2024-06-15T11:59:00Z&until=2024-06-15T12:00:00Z`, {
      headers: { authorization: `Bearer ${sandbox.token}` },
    });
    expect(((await empty.json()) as { form_responses: unknown[] }).form_responses).toEqual([]);
    const body = (await (await request()).json()) as { form_responses: Record<string, unknown>[] };
    expect(body.form_responses[0]).toMatchObject({ id: 'x', created_at: 'not-a-date' });
    await expectHealthy();
  });

  it('keeps a bad record for the next page when a request is refused before its page', async () => {
    sandbox.injectFault({ kind: 'bad-record' });
    const refused = await fetch(`${sandbox.url}/company.com/form_responses`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(refused.status).toBe(403);
    const body = (await (await request()).json()) as { form_responses: Record<string, unknown>[] };
    expect(body.form_responses[0]).toMatchObject({ id: 'x', created_at: 'not-a-date' });
    await expectHealthy();
  });

  it('destroys the socket without an answer on reset', async () => {
    sandbox.injectFault({ kind: 'reset' });
    await expect(request()).rejects.toMatchObject({ name: 'TypeError', cause: { code: 'ECONNRESET' } });
    await expectHealthy();
  });

  it('refuses a fault it does not know', () => {
    expect(() => sandbox.injectFault({ kind: 'status', status: 418 } as never)).toThrow();
    expect(() => sandbox.injectFault({ kind: 'reset' }, { times: 0 })).toThrow();
  });

  it('counts requests by status', async () => {
    const before = sandbox.stats();
    sandbox.injectFault({ kind: 'status', status: 502 });
    await (await request()).arrayBuffer();
    await (await request()).arrayBuffer();
    const after = sandbox.stats();
    expect(after.requests).toBe(before.requests + 2);
    expect(after.byStatus[502]).toBe((before.byStatus[502] ?? 0) + 1);
    expect(after.byStatus[200]).toBe((before.byStatus[200] ?? 0) + 1);
  });
});
