import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, parseUserInput } from '@tributary/core';
import type { InstallationScheduleStatus, QueueStatus, RunnerEvent } from '@tributary/runner';
import type { RunnerFeed } from '@tributary/api';
import type { DestinationStore } from '@tributary/core';
import { CONNECTORS, destinationFor } from '../connectors.js';
import { destinationLimitsOf } from '../env.js';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';

// Each running sync holds one store connection for its run lock (PostgreSQL) besides the ones its
// pages use; the store's pool has 10, so more than 8 at once could starve the page writes.
const concurrencySchema = z.coerce.number().int().min(1).max(8);

/** How long a runner stopped during start-up lets the start finish before it stops. */
const START_GRACE_MS = 3000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Whether a database URL names PostgreSQL, where runners (and `serve --with-runner`) share pg-boss's queue. */
export const isPostgres = (url: string) => /^postgres(ql)?:\/\//.test(url);

function describeRun(event: Extract<RunnerEvent, { type: 'job-done' }>): string | undefined {
  if (event.outcome !== 'ran') return undefined;
  const next = event.nextRunAt ? `, next run ${event.nextRunAt.toISOString()}` : '';
  const code = event.errorCode ? ` [${event.errorCode}]` : '';
  return `${new Date().toISOString()}  ${event.workspace}/${event.app}  ${event.status?.toUpperCase()}${code}${next}`;
}

function describeActivation(event: RunnerEvent): string | undefined {
  const at = new Date().toISOString();
  if (event.type === 'profiles-evaluated') {
    const skipped = event.skipped.length > 0 ? `, ${event.skipped.length} skipped (${event.skipped.map((s) => `${s.profile}: ${s.code}`).join(', ')})` : '';
    return `${at}  ${event.workspace}  profiles evaluated as of ${event.at.toISOString()}: ${event.evaluated}, ${event.entered} entered, ${event.left} left${skipped}`;
  }
  if (event.type === 'delivery' && event.status !== 'delivered') {
    const what = event.status === 'dead' ? `DEAD-LETTERED after ${event.attempts} attempt(s)` : `failed (attempt ${event.attempts}), next ${event.nextAttemptAt?.toISOString()}`;
    return `${at}  ${event.workspace}/${event.profile} → ${event.destination}  batch ${event.batchId} ${what}: ${event.error}`;
  }
  if (event.type === 'delivery') return `${at}  ${event.workspace}/${event.profile} → ${event.destination}  batch ${event.batchId} delivered (${event.count} change(s))`;
  return undefined;
}

/** `tributary runner`: syncs every installation on its schedule until SIGINT or SIGTERM. */
async function runRunner(io: Io, options: { distributed?: boolean; concurrency: string; metricsPort?: string }): Promise<void> {
  const concurrency = parseUserInput(concurrencySchema, options.concurrency, '--concurrency');
  const metricsPort = options.metricsPort === undefined ? undefined : parseUserInput(z.coerce.number().int().min(0).max(65_535), options.metricsPort, '--metrics-port');
  // Loaded with the command, not at start-up: `tributary --help` needs none of the runner's drivers.
  const { createEmbeddedQueue, createPgBossQueue, createRunner, produceInvoices } = await import('@tributary/runner');
  await withContext(io, async (ctx) => {
    const url = ctx.env.TRIBUTARY_DATABASE_URL;
    if (options.distributed && !isPostgres(url)) {
      throw new ConfigError('RUNNER_NEEDS_POSTGRES', 'tributary runner --distributed shares its job queue through PostgreSQL, but TRIBUTARY_DATABASE_URL names a SQLite database.', {
        hint: 'Set TRIBUTARY_DATABASE_URL=postgres://user:password@host:5432/database for every runner process, or run `tributary runner` without --distributed (one runner per SQLite database).',
      });
    }
    const store = await ctx.store();
    // The same metrics as `tributary serve`, for deployments that run syncs without the API.
    let feed: RunnerFeed | undefined;
    let metricsServer: { url: string; close(): Promise<void> } | undefined;
    if (metricsPort !== undefined) {
      const { createMetrics, feedRunnerMetrics, startMetricsServer } = await import('@tributary/api');
      const metrics = createMetrics({ store, connectorFor: (app) => CONNECTORS.get(app), now: () => new Date(), logger: ctx.logger });
      feed = feedRunnerMetrics({ metrics, store, logger: ctx.logger });
      metricsServer = await startMetricsServer(metrics, { port: metricsPort });
      println(io.stdout, `Metrics at ${metricsServer.url}/metrics`);
    }
    const queue = options.distributed
      ? createPgBossQueue({ connectionString: url, concurrency, logger: ctx.logger })
      : createEmbeddedQueue({ concurrency, logger: ctx.logger });
    const runner = createRunner({
      store,
      connectorFor: (app) => CONNECTORS.get(app),
      queue,
      logger: ctx.logger,
      // Invoices are idempotent per period, so an hourly pass bills each new month or year once.
      periodicTasks: [
        {
          name: 'invoices',
          everyMs: 60 * 60 * 1000,
          run: async (now) => {
            await produceInvoices({ store, now, connectors: [...CONNECTORS.values()], logger: ctx.logger });
          },
        },
      ],
      // Profiles are evaluated after each sync and hourly; their changes go to their destinations.
      activation: { store: store as typeof store & DestinationStore, destinationFor, destinationLimits: destinationLimitsOf(ctx.env) },
      ...(feed ? { onSourceRequest: feed.onSourceRequest } : {}),
      onEvent: (event) => {
        feed?.onEvent(event);
        const line = event.type === 'job-done' ? describeRun(event) : describeActivation(event);
        if (line) println(io.stdout, line);
      },
    });
    const stopRequested = new Promise<'stop'>((resolve) => io.onShutdown?.(() => resolve('stop')));
    // A signal during start-up (waiting for the database, say) stops the runner as well.
    const starting = runner.start().then(() => 'started' as const);
    if ((await Promise.race([starting, stopRequested])) === 'stop') {
      println(io.stdout, 'Stopping before the runner finished starting.');
      await Promise.race([starting.catch(() => undefined), delay(START_GRACE_MS)]);
      // A queue that never finished starting may fail to stop; there is nothing of it to keep.
      await runner.stop().catch((error: unknown) => ctx.logger.warn({ error: (error as Error).message }, 'stopping a runner that had not started'));
      await metricsServer?.close();
      println(io.stdout, 'Runner stopped.');
      return;
    }
    const mode = options.distributed ? 'distributed over PostgreSQL' : 'embedded';
    println(io.stdout, `Runner started (${mode}, ${concurrency} at once). Each installation syncs every hour. Stop with Ctrl-C.`);
    await stopRequested;
    println(io.stdout, 'Stopping: no new sync starts; running syncs stop after the page they are writing.');
    await runner.stop();
    await feed?.settled();
    await metricsServer?.close();
    println(io.stdout, 'Runner stopped.');
  });
}

function formatStatus(installations: InstallationScheduleStatus[], queue: QueueStatus | undefined, distributedPossible: boolean): string {
  const lines: string[] = [];
  if (queue) {
    lines.push(`Queue ${queue.queue} (pg-boss, schema ${queue.schema}): ${queue.queued} queued, ${queue.running} running, ${queue.failed} failed`);
    const names = new Map(installations.map((i) => [i.installationId, `${i.workspace}/${i.app}`]));
    for (const job of queue.jobs) {
      const who = job.installationId ? (names.get(job.installationId) ?? job.installationId) : '?';
      const since = job.state === 'active' && job.startedOn ? ` since ${job.startedOn.toISOString()}` : ` created ${job.createdOn.toISOString()}`;
      const error = job.error ? `: ${job.error}` : '';
      lines.push(`  ${job.state.padEnd(7)}  ${who}${since}${job.retryCount > 0 ? ` (retry ${job.retryCount})` : ''}${error}`);
      if (job.interrupted) {
        const why = job.interrupted.reason === 'worker-gone' ? `its runner is gone (lease ended ${job.leaseUntil?.toISOString()})` : 'cut short';
        lines.push(`           interrupted: ${why}; another runner resumes it by ${job.interrupted.resumesBy.toISOString()}`);
      }
    }
  } else if (distributedPossible) {
    lines.push('Queue: no distributed runner has started on this database yet (an embedded runner keeps its queue in its own process).');
  } else {
    lines.push('Queue: embedded (SQLite); it lives inside the runner process.');
  }
  lines.push('');
  if (installations.length === 0) {
    lines.push('No apps installed.');
    return lines.join('\n');
  }
  const rows = installations.map((i) => {
    // The run log holds manual syncs too; the schedule adds how many scheduled runs failed in a row.
    const started = i.lastRun?.startedAt ?? i.lastStartedAt;
    const status = i.lastRun?.status ?? i.lastStatus;
    const code = i.lastRun ? i.lastRun.errorCode : i.lastErrorCode;
    const result = i.running
      ? `running since ${i.running.since.toISOString()} (process ${i.running.pid} on ${i.running.host})`
      : status
        ? `${status}${code ? ` [${code}]` : ''}${i.attempts > 0 ? ` (${i.attempts} failed in a row)` : ''}`
        : '-';
    const next = i.due ? (i.lastStatus === 'interrupted' ? 'due now (resumes at the next tick)' : 'due now') : i.nextRunAt.toISOString();
    return [`${i.workspace}/${i.app}`, started ? started.toISOString() : 'never', result, next];
  });
  const header = ['INSTALLATION', 'LAST RUN', 'RESULT', 'NEXT RUN'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const row of [header, ...rows]) lines.push(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  return lines.join('\n');
}

/** `tributary runner status`: the queue and, per installation, the last and next scheduled run. */
async function runnerStatus(io: Io, options: { json?: boolean }): Promise<void> {
  const { readQueueStatus, readScheduleStatus } = await import('@tributary/runner');
  await withContext(io, async (ctx) => {
    const store = await ctx.existingStore();
    // A run left running by a process that died is closed as abandoned before it is shown.
    await store.markAbandonedRuns(new Date());
    const installations = await readScheduleStatus(store, new Date());
    const url = ctx.env.TRIBUTARY_DATABASE_URL;
    const queue = isPostgres(url) ? await readQueueStatus({ connectionString: url }) : undefined;
    if (options.json) {
      println(io.stdout, JSON.stringify({ queue: queue ?? null, installations }, null, 2));
      return;
    }
    println(io.stdout, formatStatus(installations, queue, isPostgres(url)));
  });
}

/** Registers `tributary runner` and `tributary runner status`. */
export function registerRunner(program: Command, io: Io): void {
  const runner = program
    .command('runner')
    .description('sync every installed app every hour until stopped (Ctrl-C or SIGTERM stop it between pages)')
    .option('--distributed', 'share the work with other `runner --distributed` processes through PostgreSQL (pg-boss)')
    .option('--concurrency <n>', 'syncs at once in this process (1-8)', '4')
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://127.0.0.1:<port>/metrics')
    .action((options: { distributed?: boolean; concurrency: string; metricsPort?: string }) => runRunner(io, options));
  runner
    .command('status')
    .description('show queued, running and failed sync jobs, and each installation’s last and next run')
    .option('--json', 'print JSON for scripts')
    .action((options: { json?: boolean }) => runnerStatus(io, options));
}
