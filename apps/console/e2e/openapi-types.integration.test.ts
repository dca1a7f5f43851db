import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiTypesSource } from '../scripts/openapi-document.js';

// The console's typed client is generated from the API's OpenAPI document; when a route changes
// without regenerating, the console would compile against an API that no longer exists.
describe("the console's API types", () => {
  it('match the OpenAPI document the server answers today', async () => {
    const committed = readFileSync(new URL('../src/api/schema.d.ts', import.meta.url), 'utf8');
    expect(committed === (await apiTypesSource()), 'run `npm run openapi -w @tributary/console` and commit the result').toBe(true);
  });
});
