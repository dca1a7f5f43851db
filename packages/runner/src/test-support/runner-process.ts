// A distributed runner in a process of its own, for the multi-process test and the benchmark (not
// part of the package's API). The parent drives it over IPC: `init` (settings, including the test
// clock), `clock` (move the simulated time); the child answers `ready` and streams runner events.
// SIGTERM stops it gracefully (exit 0); SIGKILL is what the tests use for a crash.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { z } from 'zod';
import { closeAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition, Logger } from '@tributary/core';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { createPgBossQueue } from '../pgboss-queue.js';
import { createRunner, type Runner } from '../runner.js';
import type { SyncResult } from '../run-sync.js';

const clockSchema = z.object({ simBase: z.number(), wallBase: z.number() });

const initSchema = z.object({
  type: z.literal('init'),
  url: z.string(),
  secretKey: z.string(),
  clock: clockSchema.optional(),
  concurrency: z.number().int().min(1),
  tickMs: z.number().int().min(10),
  pollIntervalMs: z.number().int().min(10),
  expireInSeconds: z.number().int().min(1),
  heartbeatSeconds: z.number().min(0).optional(),
  dedupeWindowSeconds: z.number().int().min(1),
  maintenanceIntervalSeconds: z.number().int().min(1),
  retryDelaySeconds: z.number().int().min(0).default(0),
  poolSize: z.number().int().min(1).default(10),
  /** Put every installation's slot on the hour instead of spreading them (a test of whole hours). */
  slotsOnTheHour: z.boolean().default(false),
  /** Replace the sync by a no-op, to measure the scheduler alone. */
  noopSync: z.boolean().default(false),
  logLevel: z.enum(['silent', 'error', 'warn', 'info', 'debug']).default('silent'),
});

const messageSchema = z.discriminatedUnion('type', [initSchema, z.object({ type: z.literal('clock'), clock: clockSchema })]);

let clock: z.infer<typeof clockSchema> | undefined;
const now = () => (clock ? new Date(clock.simBase + (Date.now() - clock.wallBase)) : new Date());
let runner: Runner | undefined;
let closeStore: (() => Promise<void>) | undefined;

const send = (message: unknown) => process.send?.(message);

async function noopSync(): Promise<SyncResult> {
  return { runId: randomUUID(), status: 'succeeded', fetched: 0, inserted: 0, unchanged: 0, rejected: 0, saved: [], warnings: [], interrupted: false };
}

async function init(settings: z.infer<typeof initSchema>): Promise<void> {
  clock = settings.clock;
  const logger: Logger = pino({ level: settings.logLevel, enabled: settings.logLevel !== 'silent' }, pino.destination(2));
  const store = await createStore({
    url: settings.url,
    cipher: createSecretCipher({ keys: { k1: Buffer.from(settings.secretKey, 'base64') }, currentKeyId: 'k1' }),
    logger,
    poolSize: settings.poolSize,
  });
  closeStore = () => store.close();
  await store.migrate();
  const queue = createPgBossQueue({
    connectionString: settings.url,
    concurrency: settings.concurrency,
    pollIntervalMs: settings.pollIntervalMs,
    expireInSeconds: settings.expireInSeconds,
    ...(settings.heartbeatSeconds === undefined ? {} : { heartbeatSeconds: settings.heartbeatSeconds }),
    dedupeWindowSeconds: settings.dedupeWindowSeconds,
    maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
    retryDelaySeconds: settings.retryDelaySeconds,
    logger,
  });
  runner = createRunner({
    store,
    connectorFor: (app) => (app === closeAlertConnector.id ? (closeAlertConnector as unknown as ConnectorDefinition) : undefined),
    queue,
    now,
    tickMs: settings.tickMs,
    logger,
    ...(settings.slotsOnTheHour ? { policy: { slotOffsetMs: () => 0 } } : {}),
    ...(settings.noopSync ? { sync: noopSync } : {}),
    onEvent: (event) => send({ type: 'event', pid: process.pid, event }),
  });
  await runner.start();
  send({ type: 'ready', pid: process.pid });
}

process.on('message', (raw) => {
  const message = messageSchema.parse(raw);
  if (message.type === 'clock') {
    clock = message.clock;
    return;
  }
  init(message).catch((error: unknown) => {
    process.stderr.write(`runner process failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
});

process.once('SIGTERM', () => {
  void (async () => {
    await runner?.stop();
    await closeStore?.();
    process.exitCode = 0;
    // Nothing else holds the process: it ends by itself once the channel closes, which proves that the
    // runner released every timer and connection.
    process.send?.({ type: 'stopped', pid: process.pid }, () => process.disconnect?.());
  })();
});
