import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleAllows, WORKSPACE_ROLES, type WorkspaceRole } from '@tributary/core';
import { testDatabases } from '@tributary/testing';
import type { ApiRoute } from './route.js';
import { sandboxConfig, startHarness, type Harness } from './test-support/harness.js';

// Every route × every caller: anonymous, each role of workspace acme, and an administrator of
// another workspace. Generated from the server's own route list, so a new route is walked too.

const databases = await testDatabases('api-roles');
type Caller = 'anonymous' | WorkspaceRole | 'outsider';
const CALLERS: Caller[] = ['anonymous', ...WORKSPACE_ROLES, 'outsider'];

const PARAMS: Record<string, string> = {
  workspace: 'acme',
  app: 'closealert',
  name: 'no-such-profile',
  runId: randomUUID(),
  id: randomUUID(),
  userId: randomUUID(),
  destination: 'no-such-destination',
};

function pathOf(route: ApiRoute): string {
  return route.url.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(PARAMS[name] ?? 'x'));
}

/** What a caller should get: allowed, or the one denial the rules give. */
function expected(route: ApiRoute, caller: Caller): 'allowed' | 401 | 403 | 404 {
  if (route.access === 'public') return 'allowed';
  if (caller === 'anonymous') return 401;
  if (route.access === 'signed-in') return 'allowed';
  if (caller === 'outsider') return 404;
  return roleAllows(caller, route.access) ? 'allowed' : 403;
}

describe.each(databases)('the route × role matrix on $dialect', (db) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(db, { responses: 10 });
    // The workspace exists (an app is installed), so that a 404 can only come from the access check.
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

  it('declares an access level for every route, an audit action for every change, and a workspace for every role route', () => {
    expect(h.server.routes.length).toBeGreaterThan(40);
    for (const route of h.server.routes) {
      expect(['public', 'signed-in', ...WORKSPACE_ROLES]).toContain(route.access);
      if (WORKSPACE_ROLES.includes(route.access as WorkspaceRole))
        expect(route.url).toMatch(/^\/workspaces\/:workspace\//);
      // A preview changes nothing; every other non-GET route is a change and is audited.
      if (route.method !== 'GET' && !route.url.endsWith('/preview'))
        expect(route.audit, `${route.method} ${route.url}`).toMatch(/^[a-z-]+\.[a-z-]+$/);
    }
  });

  it('gives every caller exactly what its role allows on every route', async () => {
    const failures: string[] = [];
    for (const route of h.server.routes) {
      for (const caller of CALLERS) {
        const key = caller === 'anonymous' ? undefined : h.keys[caller];
        const answer = await h.call(route.method, pathOf(route), {
          ...(key ? { key } : {}),
          ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} }),
        });
        const want = expected(route, caller);
        const code = answer.json?.code as string | undefined;
        const denied =
          (answer.status === 401 && code === 'API_AUTH_REQUIRED') ||
          (answer.status === 403 && code === 'API_ROLE_REQUIRED') ||
          (answer.status === 404 && code === 'WORKSPACE_NOT_FOUND');
        const ok = want === 'allowed' ? !denied && answer.status < 500 : answer.status === want && denied;
        if (!ok)
          failures.push(
            `${route.method} ${route.url} as ${caller}: want ${want}, got ${answer.status} ${code ?? ''}`,
          );
      }
    }
    expect(failures).toEqual([]);
  });

  it('walks the routes of destinations, deliveries and one customer’s data, all of them for administrators only', () => {
    const routes = h.server.routes.filter(
      (r) =>
        !r.url.includes('/runs/') &&
        /\/(destinations|deliveries|customers|erasure-receipts)(\/|$)/.test(r.url),
    );
    expect(routes.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'DELETE /workspaces/:workspace/destinations/:name',
      'DELETE /workspaces/:workspace/profiles/:name/destinations/:destination',
      'GET /workspaces/:workspace/deliveries',
      'GET /workspaces/:workspace/destinations',
      'GET /workspaces/:workspace/erasure-receipts',
      'POST /workspaces/:workspace/customers/find',
      'POST /workspaces/:workspace/customers/forget',
      'POST /workspaces/:workspace/destinations',
      'POST /workspaces/:workspace/destinations/:name/test',
      'POST /workspaces/:workspace/erasure-receipts/:id/lift',
      'POST /workspaces/:workspace/profiles/:name/destinations',
    ]);
    expect(routes.filter((r) => r.access !== 'admin')).toEqual([]);
  });

  it('never shows one workspace to a caller of another: a marketer of acme reading runs of other gets 404', async () => {
    const key = (await h.auth.createApiKey({ workspace: 'acme', role: 'marketer', name: 'm', actor: 'test' }))
      .secret;
    for (const path of [
      '/workspaces/other/runs',
      '/workspaces/other/apps',
      '/workspaces/other/profiles',
      '/workspaces/other/destinations',
      '/workspaces/other/deliveries',
      '/workspaces/other/erasure-receipts',
      `/workspaces/other/runs/${randomUUID()}`,
    ]) {
      const answer = await h.call('GET', path, { key });
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual({
        code: 'WORKSPACE_NOT_FOUND',
        message: expect.any(String),
        hint: expect.any(String),
      });
    }
  });
});
