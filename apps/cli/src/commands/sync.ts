import type { Command } from 'commander';
import type { RunRecord } from '@tributary/core';
import { runSync } from '@tributary/runner';
import { connectorById } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import { CommandFailed, StoppedBySignal } from '../exit-codes.js';
import { formatRun } from '../format.js';
import { println, type Io, type ShutdownSignal } from '../io.js';
import { createProgressBar } from '../progress.js';
import { underRunLock } from '../run-lock.js';
import { requireInstallation } from '../workspace.js';

/** Runs one sync of an installed app now and returns its log entry, with the signal that stopped it early, if any. */
export async function syncNow(ctx: CliContext, workspace: string, app: string): Promise<RunRecord & { stoppedBy?: ShutdownSignal }> {
  const store = await ctx.store();
  const installation = await requireInstallation(store, workspace, app);
  const connector = connectorById(app);
  const progress = createProgressBar(ctx.io);
  const controller = new AbortController();
  let stoppedBy: ShutdownSignal | undefined;
  ctx.io.onShutdown?.((signal) => {
    stoppedBy ??= signal;
    controller.abort();
  });
  const result = await underRunLock(store, installation, () =>
    runSync({
      store,
      connector,
      installation,
      logger: ctx.logger,
      signal: controller.signal,
      onProgress: (p) => progress.update(p),
    }),
  );
  progress.done();
  const run = await store.getRun(result.runId);
  if (!run) throw new CommandFailed(`The run ${result.runId} was not recorded.`);
  return { ...run, ...(stoppedBy && run.status === 'stopped' ? { stoppedBy } : {}) };
}

/** Registers `tributary sync`. */
export function registerSync(program: Command, io: Io): void {
  program
    .command('sync')
    .description('sync an installed app now and print its log entry')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .option('--app <app>', 'the app to sync', 'closealert')
    .action(async (options: { workspace: string; app: string }) => {
      await withContext(io, async (ctx) => {
        const run = await syncNow(ctx, options.workspace, options.app);
        println(io.stdout, formatRun(run));
        if (run.status === 'failed') throw new CommandFailed('The sync failed; the next run resumes where this one stopped.');
        if (run.status === 'stopped') {
          throw new StoppedBySignal(
            run.stoppedBy ?? 'SIGINT',
            `The sync was stopped by ${run.stoppedBy ?? 'a signal'} after committing ${run.inserted} new response(s); the next run resumes where this one stopped.`,
          );
        }
      });
    });
}
