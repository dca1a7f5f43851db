import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '@readme/openapi-parser';
import { testDatabases } from '@tributary/testing';
import { startHarness, type Harness } from './test-support/harness.js';

// The OpenAPI document is generated from the routes' zod schemas: every route is in it, and it
// validates as OpenAPI 3.1. The reference page is served from this process (no CDN).

const [db] = await testDatabases('api-openapi');

describe('the OpenAPI document', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(db!, { responses: 10 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('documents every route with its parameters and validates as OpenAPI 3.1', async () => {
    const answer = await h.call('GET', '/openapi.json');
    expect(answer.status).toBe(200);
    const document = answer.json;
    expect(document.openapi).toBe('3.1.0');
    for (const route of h.server.routes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      const operation = document.paths[path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.url}`).toBeDefined();
      expect(operation.description).toContain(
        route.access === 'public' ? 'anyone' : route.access === 'signed-in' ? 'signed-in' : route.access,
      );
      for (const name of route.url.match(/:(\w+)/g) ?? []) {
        expect(operation.parameters.map((p: { name: string }) => p.name)).toContain(name.slice(1));
      }
    }
    const result = await validate(structuredClone(document));
    expect(result.valid ? [] : result.errors).toEqual([]);
  });

  it('serves the interactive reference and its assets from this process', async () => {
    const page = await h.call('GET', '/docs/static/index.html');
    expect(page.status).toBe(200);
    expect(page.text).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[^"']*\.(js|css)/);
    const script = page.text.match(/src="\.?\/?([^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    expect((await h.call('GET', `/docs/static/${script!.replace(/^static\//, '')}`)).status).toBe(200);
  });
});
