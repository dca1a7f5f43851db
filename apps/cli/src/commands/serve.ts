import type { Command } from 'commander';
import { z } from 'zod';
import { parseUserInput, type DestinationStore } from '@tributary/core';
import type { Runner } from '@tributary/runner';
import { CONNECTORS, destinationFor, knownDestinations } from '../connectors.js';
import { destinationLimitsOf } from '../env.js';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';
import { isPostgres } from './runner.js';

/** Syncs at once in a server's runner: it shares the store's pool with the requests. */
const RUNNER_CONCURRENCY = 2;

const portSchema = z.coerce.number().int().min(0).max(65_535);
const hostSchema = z.string().trim().min(1).max(255);
const bodyLimitSchema = z.coerce
  .number()
  .int()
  .min(1024)
  .max(100 * 1_048_576);

export interface ServeOptions {
  host: string;
  port: string;
  withRunner?: boolean;
  bodyLimit: string;
  secureCookies?: boolean;
}

/** `tributary serve`: the HTTP API (and with --with-runner the hourly syncs) until SIGINT or SIGTERM. */
export async function serve(io: Io, options: ServeOptions): Promise<void> {
  const host = parseUserInput(hostSchema, options.host, '--host');
  const port = parseUserInput(portSchema, options.port, '--port');
  const bodyLimit = parseUserInput(bodyLimitSchema, options.bodyLimit, '--body-limit');
  // Loaded here, not at start-up: the other commands need neither the server nor the auth service.
  const { createApiServer, createMetrics, feedRunnerMetrics } = await import('@tributary/api');
  const { createEmbeddedQueue, createPgBossQueue, createRunner, produceInvoices } = await import('@tributary/runner');
  const { createAuthService } = await import('@tributary/auth');
  const { consoleDistDir, consoleIsBuilt } = await import('@tributary/console/assets');
  const withConsole = consoleIsBuilt();
  await withContext(io, async (ctx) => {
    const store = await ctx.store();
    const connectorFor = (app: string) => CONNECTORS.get(app);
    const metrics = createMetrics({ store, connectorFor, now: () => new Date(), logger: ctx.logger });
    const feed = feedRunnerMetrics({ metrics, store, logger: ctx.logger });
    let runner: Runner | undefined;
    // On PostgreSQL the server's runner takes its syncs from the queue `tributary runner --distributed`
    // uses, so that a server and separate runners share the work instead of each syncing everything.
    const url = ctx.env.TRIBUTARY_DATABASE_URL;
    const distributed = Boolean(options.withRunner) && isPostgres(url);
    if (options.withRunner) {
      runner = createRunner({
        store,
        connectorFor,
        queue: distributed
          ? createPgBossQueue({ connectionString: url, concurrency: RUNNER_CONCURRENCY, logger: ctx.logger })
          : createEmbeddedQueue({ concurrency: RUNNER_CONCURRENCY, logger: ctx.logger }),
        logger: ctx.logger,
        periodicTasks: [
          {
            name: 'invoices',
            everyMs: 60 * 60 * 1000,
            run: (now) =>
              produceInvoices({ store, now, connectors: [...CONNECTORS.values()], logger: ctx.logger }).then(
                () => undefined,
              ),
          },
        ],
        // As in `tributary runner`: profiles are evaluated after each sync and hourly, and their changes delivered.
        activation: { store: store as typeof store & DestinationStore, destinationFor, destinationLimits: destinationLimitsOf(ctx.env) },
        onEvent: feed.onEvent,
        onSourceRequest: feed.onSourceRequest,
      });
    }
    const server = await createApiServer({
      store,
      connectors: CONNECTORS,
      // Plugin destination types too, so that the API adds and tests what the runner delivers.
      destinations: knownDestinations().map((d) => d.destination),
      destinationLimits: destinationLimitsOf(ctx.env),
      auth: createAuthService({ store, logger: ctx.logger, policy: { principalCacheMs: ctx.env.TRIBUTARY_PRINCIPAL_CACHE_MS } }),
      logger: ctx.logger,
      metrics,
      bodyLimit,
      secureCookies: options.secureCookies ?? false,
      ...(withConsole ? { consoleDir: consoleDistDir } : {}),
      ...(runner ? { runner: { lastHeartbeat: feed.lastHeartbeat } } : {}),
    });
    const stopRequested = new Promise<void>((resolve) => io.onShutdown?.(() => resolve()));
    const address = await server.listen({ host, port });
    try {
      await runner?.start();
    } catch (error) {
      // A queue that cannot start (pg-boss's schema broken, say) ends the command; the server must not outlive it.
      await server.close();
      await runner?.stop().catch(() => undefined);
      throw error;
    }
    println(
      io.stdout,
      `Serving the Tributary API on ${address}${runner ? ` with the runner (${distributed ? 'distributed over PostgreSQL, sharing syncs with `tributary runner --distributed`' : 'embedded'})` : ''}: OpenAPI at ${address}/openapi.json, reference at ${address}/docs. Stop with Ctrl-C.`,
    );
    println(
      io.stdout,
      withConsole
        ? `The console: ${address}/ (sign in with a user made by \`tributary users create\`).`
        : 'The console is not built, so only the API is served: run `npm run build --workspace @tributary/console` (npm install does it) and start again.',
    );
    await stopRequested;
    println(
      io.stdout,
      'Stopping: no new request is taken; requests in flight finish, running syncs stop after the page they are writing.',
    );
    await server.close();
    await runner?.stop();
    await feed.settled();
    println(io.stdout, 'Stopped.');
  });
}

/** Registers `tributary serve`. */
export function registerServe(program: Command, io: Io): void {
  program
    .command('serve')
    .description(
      'serve the HTTP API (roles per workspace, OpenAPI, /healthz, /readyz, /metrics) until stopped',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '3000')
    .option(
      '--with-runner',
      'also sync every installed app every hour in this process (on PostgreSQL through the queue `runner --distributed` shares)',
    )
    .option('--body-limit <bytes>', 'largest request body accepted', '1048576')
    .option('--secure-cookies', 'mark the session cookie Secure (when clients reach the API over HTTPS)')
    .action((options: ServeOptions) => serve(io, options));
}
