import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { createApiServer, type ApiServer } from '@tributary/api';
import { createAuthService } from '@tributary/auth';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createCloseAlertConnector } from '@tributary/connector-closealert';
import { typeformConnector } from '@tributary/connector-typeform';
import type { ConnectorDefinition } from '@tributary/core';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import type { TestDatabase } from '@tributary/testing';
import type { AuthService } from '@tributary/api';
import { startBrowser, type RunningBrowser } from './browser.js';
import { ensureConsoleBuilt } from './build.js';

// The console as a user meets it: `tributary serve`'s API with the built console at `/`, a real
// database, the CloseAlert sandbox as the source, and Chromium. One user per role in workspace acme.

export type Role = 'viewer' | 'marketer' | 'admin';

export const WORKSPACE = 'acme';

export const connector = createCloseAlertConnector({
  client: { backoffBaseMs: 1, backoffMaxMs: 2, maxAttempts: 2, requestTimeoutMs: 5_000, rateLimitWaitMs: 5 },
}) as unknown as ConnectorDefinition;

export interface ConsoleHarness {
  url: string;
  server: ApiServer;
  store: TypeOrmStore;
  auth: AuthService;
  sandbox: Sandbox;
  browser: RunningBrowser;
  users: Record<Role, { email: string; password: string }>;
  /** A new tab signed in as the role through the sign-in page, at the workspace's home. */
  signedIn(role: Role, viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function startConsoleHarness(
  db: TestDatabase,
  options: { responses?: number; seed?: number } = {},
): Promise<ConsoleHarness> {
  const consoleDir = await ensureConsoleBuilt();
  const sandbox = await startSandbox({ responses: options.responses ?? 200, spanDays: 30, seed: options.seed ?? 11 });
  const store = await createStore({
    url: db.url,
    cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }),
  });
  await store.migrate();
  const auth = createAuthService({ store });
  const server = await createApiServer({
    store,
    connectors: [connector, typeformConnector as unknown as ConnectorDefinition],
    auth,
    processMetrics: false,
    consoleDir,
  });
  const url = await server.listen();
  const users = {} as ConsoleHarness['users'];
  for (const role of ['viewer', 'marketer', 'admin'] as const) {
    const email = `${role}@acme.example`;
    const password = `correct horse ${role} battery`;
    await auth.createUser({ email, workspace: WORKSPACE, role, password, actor: 'test' });
    users[role] = { email, password };
  }
  const browser = await startBrowser();
  return {
    url,
    server,
    store,
    auth,
    sandbox,
    browser,
    users,
    async signedIn(role, viewport) {
      const page = await browser.newPage(viewport);
      await page.goto(`${url}/`);
      await page.getByLabel('E-mail').fill(users[role].email);
      await page.getByLabel('Password').fill(users[role].password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Pages' }).waitFor();
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
      await store.close();
      await sandbox.close();
    },
  };
}

/** The settings that install CloseAlert against the sandbox, as the install dialog's fields take them. */
export function sandboxSettings(sandbox: Sandbox): Record<string, string> {
  return { projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url };
}
