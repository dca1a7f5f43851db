import type { Command } from 'commander';
import type { RunRecord, TributaryError } from '@tributary/core';
import { runSync } from '@tributary/runner';
import { connectorById } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import { CommandFailed, EXIT, exitCodeFor } from '../exit-codes.js';
import { formatRun } from '../format.js';
import { println, type Io } from '../io.js';
import { createProgressBar } from '../progress.js';
import { underRunLock } from '../run-lock.js';
import { requireInstallation } from '../workspace.js';

/** A run's log entry, with the failure that ended it when it failed. */
export type SyncedRun = RunRecord & { failure?: TributaryError };

/** Runs one sync of an installed app now and returns its log entry. */
export async function syncNow(ctx: CliContext, workspace: string, app: string, options: { reconcile?: boolean } = {}): Promise<SyncedRun> {
  const store = await ctx.store();
  const installation = await requireInstallation(store, workspace, app);
  const connector = connectorById(app);
  const progress = createProgressBar(ctx.io);
  const controller = new AbortController();
  ctx.io.onShutdown?.(() => controller.abort());
  const result = await underRunLock(store, installation, () =>
    runSync({
      store,
      connector,
      installation,
      logger: ctx.logger,
      signal: controller.signal,
      onProgress: (p) => progress.update(p),
      reconcile: options.reconcile,
    }),
  );
  progress.done();
  const [run] = (await store.listRuns({ workspace: installation.workspace, app, limit: 20 })).filter((r) => r.id === result.runId);
  if (!run) throw new CommandFailed(`The run ${result.runId} was not recorded.`);
  return result.failure ? { ...run, failure: result.failure } : run;
}

/** Registers `tributary sync`. */
export function registerSync(program: Command, io: Io): void {
  program
    .command('sync')
    .description('sync an installed app now and print its log entry')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .option('--app <app>', 'the app to sync', 'closealert')
    .option('--reconcile', 'also run the reconciliation pass now: read the past days again and store responses that arrived late')
    .action(async (options: { workspace: string; app: string; reconcile?: boolean }) => {
      await withContext(io, async (ctx) => {
        const run = await syncNow(ctx, options.workspace, options.app, { reconcile: options.reconcile });
        println(io.stdout, formatRun(run));
        if (run.status === 'failed') {
          // The run log has the details; the exit code says whose failure it was (3 source, 4 database).
          throw new CommandFailed('The sync failed; the next run resumes where this one stopped.', run.failure ? exitCodeFor(run.failure) : EXIT.failed);
        }
      });
    });
}
