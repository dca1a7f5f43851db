import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from './index.js';

const NOW = new Date('2024-06-15T12:00:00Z');
const AUTH_FAILED = { error: { description: 'Authentication failed', code: 403 } };

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ now: () => NOW, responses: 20, spanDays: 7 });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.setAllowList(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
});

async function call(
  authorization: string | undefined,
  projectPath = 'company.com',
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const response = await fetch(`${sandbox.url}/${projectPath}/form_responses`, { headers });
  return { status: response.status, body: await response.json() };
}

const bearer = (token: string): string => `Bearer ${token}`;

describe('authentication', () => {
  it('answers 200 to the sandbox token', async () => {
    const { status, body } = await call(bearer(sandbox.token));
    expect(status).toBe(200);
    expect(body).toHaveProperty('form_responses');
  });

  it.each([
    ['no header', undefined],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['an empty bearer', 'Bearer '],
    ['a malformed token', 'Bearer not-a-jwt'],
  ])('refuses %s with 403', async (_, authorization) => {
    expect(await call(authorization)).toEqual({ status: 403, body: AUTH_FAILED });
  });

  it('refuses a token signed with another secret', async () => {
    expect(await call(bearer(sandbox.issueToken({ signingSecret: 'not-the-server-secret' })))).toEqual({
      status: 403,
      body: AUTH_FAILED,
    });
  });

  it('refuses an unsigned (alg none) token', async () => {
    const [, claims] = sandbox.token.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect((await call(bearer(`${header}.${claims}.`))).status).toBe(403);
  });

  it('refuses an expired token and accepts one that expires later', async () => {
    expect(await call(bearer(sandbox.issueToken({ expiresAt: new Date(NOW.getTime() - 1000) })))).toEqual({
      status: 403,
      body: AUTH_FAILED,
    });
    expect((await call(bearer(sandbox.issueToken({ expiresAt: NOW })))).status).toBe(403);
    expect((await call(bearer(sandbox.issueToken({ expiresInDays: 30 })))).status).toBe(200);
  });

  it('puts the expiry in the exp claim', () => {
    const token = sandbox.issueToken({ expiresInDays: 30 });
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({
      project: 'company.com',
      iat: NOW.getTime() / 1000,
      exp: NOW.getTime() / 1000 + 30 * 86_400,
    });
    const forever = JSON.parse(
      Buffer.from(sandbox.token.split('.')[1] ?? '', 'base64url').toString(),
    ) as object;
    expect(forever).not.toHaveProperty('exp');
  });

  it('refuses a token issued for another project', async () => {
    expect(await call(bearer(sandbox.issueToken({ projectKey: 'other.com' })))).toEqual({
      status: 403,
      body: AUTH_FAILED,
    });
  });

  it('refuses a valid token on another project path', async () => {
    expect(await call(bearer(sandbox.token), 'other.com')).toEqual({ status: 403, body: AUTH_FAILED });
  });

  it('refuses everyone when the allow-list is empty', async () => {
    sandbox.setAllowList([]);
    expect(await call(bearer(sandbox.token))).toEqual({ status: 403, body: AUTH_FAILED });
  });

  it('refuses a caller whose IP is not on the allow-list', async () => {
    sandbox.setAllowList(['203.0.113.7', '2001:db8::1']);
    expect(await call(bearer(sandbox.token))).toEqual({ status: 403, body: AUTH_FAILED });
    sandbox.setAllowList(['203.0.113.7', '127.0.0.1']);
    expect((await call(bearer(sandbox.token))).status).toBe(200);
  });

  it('does not spend the rate limit on refused calls', async () => {
    sandbox.setRateLimit({ capacity: 1, refillPerSecond: 0 });
    try {
      expect((await call(undefined)).status).toBe(403);
      expect((await call(bearer('bad.token.here'))).status).toBe(403);
      expect((await call(bearer(sandbox.token))).status).toBe(200);
      expect((await call(bearer(sandbox.token))).status).toBe(429);
    } finally {
      sandbox.setRateLimit({ capacity: 1000, refillPerSecond: 500 });
    }
  });
});

describe('routing', () => {
  it('answers 404 JSON on other paths', async () => {
    for (const path of [
      '/v1/company.com/forms',
      '/v2/company.com/form_responses',
      '/',
      '/v1/form_responses',
    ]) {
      const response = await fetch(`${sandbox.url.replace(/\/v1$/, '')}${path}`, {
        headers: { authorization: bearer(sandbox.token) },
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { description: 'Not found', code: 404 } });
    }
  });

  it('answers 405 to anything but GET', async () => {
    const response = await fetch(`${sandbox.url}/company.com/form_responses`, {
      method: 'POST',
      headers: { authorization: bearer(sandbox.token) },
      body: '{}',
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('percent-decodes the project key from the path', async () => {
    const odd = await startSandbox({ projectKey: 'shop/nl acme.com', now: () => NOW });
    try {
      const ok = await fetch(`${odd.url}/${encodeURIComponent('shop/nl acme.com')}/form_responses`, {
        headers: { authorization: bearer(odd.token) },
      });
      expect(ok.status).toBe(200);
      const raw = await fetch(`${odd.url}/shop%2Fnl%20acme.com%ZZ/form_responses`, {
        headers: { authorization: bearer(odd.token) },
      });
      expect(raw.status).toBe(403);
    } finally {
      await odd.close();
    }
  });
});
