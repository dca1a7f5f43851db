import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '@tributary/testing';
import { CSRF_HEADER, SESSION_COOKIE } from './constants.js';
import { sandboxConfig, startHarness, type Harness } from './test-support/harness.js';

// Sessions and CSRF, API key scope and revocation, the one error shape, and logs without secrets.

const databases = await testDatabases('api-access');
const PASSWORD = 'correct horse battery staple';

describe.each(databases)('access to the HTTP API on $dialect', (db) => {
  let h: Harness;
  let cookie: string;
  let csrf: string;
  let apiKey: string;
  beforeAll(async () => {
    h = await startHarness(db, { responses: 10 });
    await h.auth.createUser({
      email: 'Ada@Example.com',
      workspace: 'acme',
      role: 'marketer',
      password: PASSWORD,
      actor: 'test',
    });
    expect(
      (
        await h.call('POST', '/workspaces/acme/apps/closealert', {
          key: h.keys.admin,
          body: { config: sandboxConfig(h.sandbox) },
        })
      ).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('signs in with an HttpOnly SameSite cookie and answers the CSRF token', async () => {
    const login = await h.call('POST', '/auth/login', {
      body: { email: 'ada@example.com', password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    cookie = setCookie.split(';')[0]!;
    csrf = login.json.csrfToken;
    expect(csrf.length).toBeGreaterThan(16);
    const me = await h.call('GET', '/auth/me', { headers: { cookie } });
    expect(me.json).toMatchObject({
      kind: 'user',
      email: 'ada@example.com',
      memberships: [{ workspace: 'acme', role: 'marketer' }],
      csrfToken: csrf,
    });
  });

  it('refuses a change made with the cookie but without the CSRF header, and takes it with the header', async () => {
    const body = { name: 'detractors', match: { type: 'score', op: '<', value: 3 } };
    const without = await h.call('POST', '/workspaces/acme/profiles', { headers: { cookie }, body });
    expect(without.status).toBe(403);
    expect(without.json.code).toBe('API_CSRF_INVALID');
    const wrong = await h.call('POST', '/workspaces/acme/profiles', {
      headers: { cookie, [CSRF_HEADER]: `${csrf}x` },
      body,
    });
    expect(wrong.json.code).toBe('API_CSRF_INVALID');
    // Reading needs no token: a cross-site page cannot read the answer anyway.
    expect((await h.call('GET', '/workspaces/acme/profiles', { headers: { cookie } })).status).toBe(200);
    // Installing an app gets the workspace through the app route's role (marketer < admin): refused after CSRF.
    const install = await h.call('POST', '/workspaces/acme/apps/closealert', {
      headers: { cookie, [CSRF_HEADER]: csrf },
      body: { config: {} },
    });
    expect(install.json.code).toBe('API_ROLE_REQUIRED');
    const created = await h.call('POST', '/workspaces/acme/profiles', {
      headers: { cookie, [CSRF_HEADER]: csrf },
      body,
    });
    expect(created.status).toBe(201);
  });

  it('signs out: the cookie no longer works', async () => {
    expect((await h.call('POST', '/auth/logout', { headers: { cookie, [CSRF_HEADER]: csrf } })).status).toBe(
      204,
    );
    const after = await h.call('GET', '/auth/me', { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(after.json.code).toBe('API_AUTH_REQUIRED');
  });

  it('makes a user signed in with a one-time password choose their own, and keeps them signed in', async () => {
    const created = await h.call('POST', '/workspaces/acme/users', {
      key: h.keys.admin,
      body: { email: 'new@example.com', role: 'viewer' },
    });
    const oneTime = created.json.oneTimePassword as string;
    const login = await h.call('POST', '/auth/login', { body: { email: 'new@example.com', password: oneTime } });
    expect(login.json.mustChangePassword).toBe(true);
    const first = login.headers.get('set-cookie')!.split(';')[0]!;
    const headers = { cookie: first, [CSRF_HEADER]: login.json.csrfToken as string };
    expect((await h.call('GET', '/auth/me', { headers: { cookie: first } })).json.mustChangePassword).toBe(true);

    const wrong = await h.call('POST', '/auth/password', {
      headers,
      body: { currentPassword: 'not it', newPassword: 'a brand new passphrase' },
    });
    expect(wrong.json.code).toBe('PASSWORD_INVALID');
    const short = await h.call('POST', '/auth/password', {
      headers,
      body: { currentPassword: oneTime, newPassword: 'short' },
    });
    expect(short.status).toBe(422);
    expect(short.json.message).toMatch(/characters/);
    const noCsrf = await h.call('POST', '/auth/password', {
      headers: { cookie: first },
      body: { currentPassword: oneTime, newPassword: 'a brand new passphrase' },
    });
    expect(noCsrf.json.code).toBe('API_CSRF_INVALID');

    const changed = await h.call('POST', '/auth/password', {
      headers,
      body: { currentPassword: oneTime, newPassword: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ email: 'new@example.com', mustChangePassword: false });
    expect(changed.text).not.toContain('a brand new passphrase');
    // Every older session ended; the answer's cookie is a new one.
    expect((await h.call('GET', '/auth/me', { headers: { cookie: first } })).status).toBe(401);
    const second = changed.headers.get('set-cookie')!.split(';')[0]!;
    expect((await h.call('GET', '/auth/me', { headers: { cookie: second } })).json.mustChangePassword).toBe(false);
    expect(
      (await h.call('POST', '/auth/login', { body: { email: 'new@example.com', password: oneTime } })).status,
    ).toBe(401);
    const audit = await h.auth.listAudit({ limit: 20 });
    expect(audit.filter((e) => e.action === 'user.change-password').map((e) => e.outcome)).toEqual(
      expect.arrayContaining(['ok', 'denied']),
    );

    const byKey = await h.call('POST', '/auth/password', {
      key: h.keys.viewer,
      body: { currentPassword: 'x', newPassword: 'a brand new passphrase' },
    });
    expect(byKey.json.code).toBe('API_REQUEST_INVALID');
  });

  it('scopes an API key to its workspace and role, and a revoked key stops working', async () => {
    const created = await h.call('POST', '/workspaces/acme/api-keys', {
      key: h.keys.admin,
      body: { name: 'ci', role: 'viewer', expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    apiKey = created.json.secret;
    expect(apiKey).toMatch(/^trb_/);
    expect(created.json.key.prefix).toBe(apiKey.slice(0, created.json.key.prefix.length));
    const listed = await h.call('GET', '/workspaces/acme/api-keys', { key: h.keys.admin });
    expect(listed.text).not.toContain(apiKey);
    expect((await h.call('GET', '/workspaces/acme/runs', { key: apiKey })).status).toBe(200);
    expect(
      (
        await h.call('POST', '/workspaces/acme/profiles', {
          key: apiKey,
          body: { name: 'x', match: { type: 'score', op: '<', value: 3 } },
        })
      ).status,
    ).toBe(403);
    expect((await h.call('GET', '/workspaces/other/runs', { key: apiKey })).status).toBe(404);
    // A key needs no CSRF token: it is not sent by browsers on their own.
    expect(
      (await h.call('DELETE', `/workspaces/acme/api-keys/${created.json.key.id}`, { key: h.keys.admin }))
        .status,
    ).toBe(204);
    const revoked = await h.call('GET', '/workspaces/acme/runs', { key: apiKey });
    expect(revoked.status).toBe(401);
    expect(revoked.json.code).toBe('API_AUTH_REQUIRED');
    expect(
      (await h.call('GET', '/workspaces/acme/runs', { headers: { authorization: 'Bearer trb_unknown' } }))
        .status,
    ).toBe(401);
  });

  it('answers every failure as { code, message, hint } with its status', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['GET', '/no/such/route', undefined, 404, 'API_ROUTE_NOT_FOUND'],
      ['GET', '/workspaces/acme/runs?limit=0', undefined, 400, 'API_REQUEST_INVALID'],
      ['GET', '/workspaces/acme/runs?cursor=garbage', undefined, 400, 'API_REQUEST_INVALID'],
      [
        'POST',
        '/workspaces/acme/profiles',
        { name: 'x', match: { type: 'score', op: '~', value: 1 } },
        400,
        'API_REQUEST_INVALID',
      ],
      ['GET', '/workspaces/acme/apps/typeform', undefined, 404, 'APP_NOT_INSTALLED'],
      [
        'POST',
        '/workspaces/acme/apps/closealert',
        { config: sandboxConfig(h.sandbox) },
        409,
        'APP_ALREADY_INSTALLED',
      ],
      ['GET', '/workspaces/acme/profiles/none', undefined, 404, 'PROFILE_NOT_FOUND'],
      [
        'POST',
        '/workspaces/acme/profiles',
        { name: 'detractors', match: { type: 'score', op: '<', value: 3 } },
        409,
        'PROFILE_EXISTS',
      ],
      ['POST', '/workspaces/acme/apps/nope', { config: {} }, 404, 'APP_UNKNOWN'],
      ['POST', '/workspaces/acme/apps/closealert', { config: { projectKey: '../x' } }, 400, 'CONFIG_INVALID'],
      ['GET', '/connectors/nope', undefined, 404, 'APP_UNKNOWN'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const answer = await h.call(method, path, {
        key: h.keys.admin,
        ...(body !== undefined ? { body } : {}),
      });
      expect({ path, status: answer.status, code: answer.json.code }).toEqual({ path, status, code });
      expect(Object.keys(answer.json).sort()).toEqual(['code', 'hint', 'message']);
      expect(answer.headers.get('x-request-id')).toBeTruthy();
    }
    const big = await h.call('POST', '/workspaces/acme/profiles', {
      key: h.keys.admin,
      body: { name: 'x', description: 'y'.repeat(2_000_000), match: { type: 'score', op: '<', value: 3 } },
    });
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('API_BODY_TOO_LARGE');
  });

  it('sends security headers', async () => {
    const answer = await h.call('GET', '/healthz');
    expect(answer.json).toEqual({ status: 'ok' });
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await h.call('GET', '/readyz')).json.status).toBe('ready');
  });

  it('writes access logs with request ids and never a password, cookie, CSRF token or API key', async () => {
    const text = h.logs.join('');
    expect(text).toMatch(/"reqId":"[\w-]+"/);
    expect(text).toContain('/auth/login');
    for (const secret of [PASSWORD, 'a brand new passphrase', cookie.split('=')[1]!, csrf, apiKey, ...Object.values(h.keys)]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text).not.toContain(secret);
    }
  });
});
