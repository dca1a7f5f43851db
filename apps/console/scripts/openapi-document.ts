import { createApiServer } from '@tributary/api';
import { createAuthService } from '@tributary/auth';
import { closeAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition } from '@tributary/core';
import { randomBytes } from 'node:crypto';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import openapiTS, { astToString } from 'openapi-typescript';

/**
 * The API's OpenAPI document, as `tributary serve` would answer it. The document depends only on
 * the routes' schemas, so an empty in-memory store is enough.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const store = await createStore({
    url: 'sqlite::memory:',
    cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }),
  });
  try {
    const server = await createApiServer({
      store,
      connectors: [closeAlertConnector as unknown as ConnectorDefinition],
      auth: createAuthService({ store }),
      processMetrics: false,
    });
    await server.app.ready();
    const document = server.app.swagger() as unknown as Record<string, unknown>;
    await server.close();
    return JSON.parse(JSON.stringify(document)) as Record<string, unknown>;
  } finally {
    await store.close();
  }
}

const HEADER =
  '// Generated from the API\'s OpenAPI document by `npm run openapi -w @tributary/console`; do not edit.\n' +
  '// A test regenerates it and fails when the API changed without it.\n\n';

/** The console's API types, generated from the document. */
export async function apiTypesSource(): Promise<string> {
  const ast = await openapiTS(JSON.stringify(await openApiDocument()), { alphabetize: true });
  return HEADER + astToString(ast);
}
