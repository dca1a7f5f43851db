// One measurement of `npm run bench typeform`, in a process of its own so that its peak RSS is its own:
//   <paced|unthrottled> <database-url> <sandbox-json>: a full backfill through runSync into a fresh store.
import { randomBytes } from 'node:crypto';
import { createTypeformConnector } from '@tributary/connector-typeform';
import type { ConnectorDefinition } from '@tributary/core';
import { runSync } from '@tributary/runner';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { trackPeakRss } from './support.js';

const [mode, databaseUrl, sandboxJson] = process.argv.slice(2);
const sandbox = JSON.parse(sandboxJson ?? '{}') as { url: string; token: string; now: string };
const now = new Date(sandbox.now);
// Paced: Typeform's 2 requests per second, as production runs. Unthrottled: what the pipeline itself takes.
const connector = createTypeformConnector(mode === 'unthrottled' ? { client: { requestsPerSecond: 10_000 } } : {}) as unknown as ConnectorDefinition;

const key = randomBytes(32);
const store = await createStore({ url: databaseUrl!, cipher: createSecretCipher({ keys: { k: key }, currentKeyId: 'k' }) });
await store.migrate();
const installation = await store.install({
  workspace: 'bench',
  app: 'typeform',
  config: connector.configSchema.parse({ token: sandbox.token, baseUrl: sandbox.url, backfillDays: 366 }) as Record<string, unknown>,
  secretFields: connector.secrets,
  mappings: [...connector.defaultMappings],
  dataModel: connector.dataModel,
});
const rss = trackPeakRss();
const started = performance.now();
const result = await runSync({ store, connector, installation, now: () => now, maxListedCustomers: 100 });
const seconds = (performance.now() - started) / 1000;
const peakRss = rss.stop();
if (result.status !== 'succeeded') throw new Error(`sync failed: ${result.error}`);
const rows = Object.values(await store.countRows(installation.id)).reduce((a, b) => a + b, 0);
await store.close();
process.stdout.write(`${JSON.stringify({ responses: result.inserted, rows, seconds, peakRss })}\n`);
