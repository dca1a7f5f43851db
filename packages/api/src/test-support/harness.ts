import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createCloseAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition, DestinationLimits, WorkspaceRole } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import type { TestDatabase } from '@tributary/testing';
import { createApiServer, type ApiServer } from '../server.js';
import type { AuthService } from '../auth-service.js';
import { createAuthService } from '@tributary/auth';

// One API over real HTTP on a real database, with the CloseAlert sandbox as its source, and a caller
// per role: API keys of workspace `acme` for each role, and an admin of workspace `other`.

export const connector = createCloseAlertConnector({
  client: { backoffBaseMs: 1, backoffMaxMs: 2, maxAttempts: 2, requestTimeoutMs: 5_000, rateLimitWaitMs: 5 },
}) as unknown as ConnectorDefinition;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface Harness {
  url: string;
  server: ApiServer;
  store: TypeOrmStore;
  auth: AuthService;
  sandbox: Sandbox;
  /** API keys by caller: viewer, marketer, admin of acme; `outsider`: admin of workspace other. */
  keys: Record<WorkspaceRole | 'outsider', string>;
  /** Every log line the server wrote. */
  logs: string[];
  call(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer>;
  close(): Promise<void>;
}

export async function startHarness(
  db: TestDatabase,
  options: { responses?: number; destinationLimits?: DestinationLimits } = {},
): Promise<Harness> {
  const sandbox = await startSandbox({ responses: options.responses ?? 300, spanDays: 60, seed: 7 });
  const store = await createStore({
    url: db.url,
    cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }),
  });
  await store.migrate();
  const auth = createAuthService({ store });
  const logs: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );
  const server = await createApiServer({
    store,
    connectors: [connector],
    auth,
    logger,
    processMetrics: false,
    ...(options.destinationLimits ? { destinationLimits: options.destinationLimits } : {}),
  });
  const url = await server.listen();
  const keys = {} as Harness['keys'];
  for (const role of ['viewer', 'marketer', 'admin'] as const)
    keys[role] = (await auth.createApiKey({ workspace: 'acme', role, name: role, actor: 'test' })).secret;
  keys.outsider = (
    await auth.createApiKey({ workspace: 'other', role: 'admin', name: 'outsider', actor: 'test' })
  ).secret;
  return {
    url,
    server,
    store,
    auth,
    sandbox,
    keys,
    logs,
    async call(method, path, { key, body, headers = {} } = {}) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, text, json };
    },
    async close() {
      await server.close();
      await store.close();
      await sandbox.close();
    },
  };
}

/** The settings that install CloseAlert against the sandbox. */
export function sandboxConfig(sandbox: Sandbox): Record<string, unknown> {
  return {
    projectKey: sandbox.projectKey,
    apiToken: sandbox.token,
    baseUrl: sandbox.url,
    backfillDays: 30,
    pageSize: 100,
  };
}
