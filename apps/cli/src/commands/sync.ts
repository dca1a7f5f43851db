import type { Command } from 'commander';
import { adoptDeclaredModel, type Installation, type RetentionResult, type RetentionStore, type RunRecord, type Store, type TributaryError } from '@tributary/core';
import { appFlag, appOf, jsonFlag, outputFor } from '../cli-options.js';
import { connectorOf } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import { CommandFailed, EXIT, exitCodeFor, StoppedBySignal } from '../exit-codes.js';
import { formatRun, runToJson } from '../format.js';
import type { Io, ShutdownSignal } from '../io.js';
import { createProgress } from '../progress.js';
import { underRunLock } from '../run-lock.js';
import { activeInstallations, parseWorkspace, requireInstallation } from '../workspace.js';

/** A run's log entry, with the failure that ended it when it failed and the signal that stopped it early. */
export type SyncedRun = RunRecord & { failure?: TributaryError; stoppedBy?: ShutdownSignal; retention?: RetentionResult };

/** What a manual sync may do besides reading what is new. */
export interface SyncNowOptions {
  /** Also run the reconciliation pass now. */
  reconcile?: boolean;
}

/** One stop request for a whole command, however many apps it syncs: a signal between two apps is not lost. */
interface StopRequest {
  controller: AbortController;
  signal?: ShutdownSignal;
}

function listenForStop(ctx: CliContext): StopRequest {
  const stop: StopRequest = { controller: new AbortController() };
  ctx.io.onShutdown?.((signal) => {
    stop.signal ??= signal;
    stop.controller.abort();
  });
  return stop;
}

async function syncInstallation(ctx: CliContext, installation: Installation, options: SyncNowOptions, stop: StopRequest): Promise<SyncedRun> {
  // Loaded with the command, not at start-up: `tributary --help` needs none of the runner's drivers.
  const { applyRetentionAfterRun, runSync } = await import('@tributary/runner');
  const store = await ctx.store();
  const connector = connectorOf(installation);
  // An installation made before its connector declared a feedback view, or indexes it declares now, takes them now, for profiles.
  const adopted = installation.status === 'active' ? adoptDeclaredModel(installation.dataModel, connector.dataModel) : undefined;
  if (installation.status === 'active' && (installation.connectorVersion !== connector.version || adopted)) {
    // The connector was upgraded (or the installation predates versions): record which one syncs it now.
    installation = await store.updateInstallation(installation.id, { connectorVersion: connector.version, ...(adopted ? { dataModel: adopted } : {}) });
  }
  const progress = createProgress(ctx.io, `${installation.workspace}/${installation.app}`);
  const controller = stop.controller;
  const synced = installation;
  const { result, retention } = await underRunLock(store, installation, async () => {
    const result = await runSync({
      store,
      connector,
      installation,
      logger: ctx.logger,
      signal: controller.signal,
      onProgress: (p) =>
        progress.update({ count: p.fetched, unit: 'responses', done: p.done, total: p.total, of: 'windows', detail: `${p.inserted} new, ${p.rejected} rejected` }),
      onWait: (wait) => progress.wait(wait),
      reconcile: options.reconcile,
    });
    // Operators who sync from cron and run no runner keep only what the retention period allows too;
    // within the run lock, as the runner does, so that no page of this installation is being written meanwhile.
    const retention = result.interrupted ? undefined : await applyRetentionAfterRun(store as Store & Partial<RetentionStore>, synced, new Date(), ctx.logger);
    return { result, retention };
  }).finally(() => progress.done());
  const run = await store.getRun(result.runId);
  if (!run) throw new CommandFailed(`The run ${result.runId} was not recorded.`);
  return {
    ...run,
    ...(result.failure ? { failure: result.failure } : {}),
    ...(retention ? { retention } : {}),
    ...(stop.signal && run.status === 'stopped' ? { stoppedBy: stop.signal } : {}),
  };
}

/** What retention deleted after a run, for the operator. */
export function formatRetention(result: RetentionResult): string {
  const total = result.records + result.rejected + result.runLogLines;
  return total === 0
    ? `  Retention: nothing older than ${result.cutoff?.toISOString() ?? 'the retention period'} to delete.`
    : `  Retention: deleted ${result.records} record(s) with ${result.linked} linked row(s), ${result.rejected} rejected record(s) and ${result.runLogLines} run-log line(s) older than ${result.cutoff?.toISOString() ?? 'the retention period'}.`;
}

/** Runs one sync of an installed app now and returns its log entry. */
export async function syncNow(ctx: CliContext, workspace: string, app: string, options: SyncNowOptions = {}): Promise<SyncedRun> {
  return syncInstallation(ctx, await requireInstallation(await ctx.store(), workspace, app), options, listenForStop(ctx));
}

/** Registers `tributary sync`. */
export function registerSync(program: Command, io: Io): void {
  program
    .command('sync')
    .description('sync an installed app now (every app of the workspace when none is named) and print its log entry')
    .argument('[app]', 'the app to sync (default: every app of the workspace)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .addOption(appFlag())
    .option('--reconcile', 'also run the reconciliation pass now: read the past days again and store responses that arrived late')
    .addOption(jsonFlag())
    .action(async (name: string | undefined, options: { workspace: string; app?: string; reconcile?: boolean; json?: boolean }) => {
      const app = appOf(name, options);
      parseWorkspace(options.workspace);
      const out = outputFor(io, options);
      await withContext(io, async (ctx) => {
        const store = await ctx.store();
        const installations = app === undefined ? await activeInstallations(store, options.workspace) : [await requireInstallation(store, options.workspace, app)];
        // Refused before anything runs: an app whose connector is not loaded is the operator's to fix.
        for (const installation of installations) connectorOf(installation);
        const runs: SyncedRun[] = [];
        const stop = listenForStop(ctx);
        for (const installation of installations) {
          // A signal stops the whole command, not only this app's run.
          if (stop.controller.signal.aborted) break;
          const run = await syncInstallation(ctx, installation, { reconcile: options.reconcile }, stop);
          runs.push(run);
          out.say(formatRun(run));
          if (run.retention) out.say(formatRetention(run.retention));
          if (run.status === 'stopped') break;
        }
        out.result(runs.map(runToJson));
        const stopped = runs.find((run) => run.status === 'stopped');
        if (stopped || stop.signal) {
          const signal = stopped?.stoppedBy ?? stop.signal ?? 'SIGINT';
          const committed = stopped ? ` after committing ${stopped.inserted} new response(s)` : ' between two apps';
          throw new StoppedBySignal(signal, `The sync was stopped by ${signal}${committed}; the next run resumes where this one stopped.`);
        }
        const failed = runs.find((run) => run.status === 'failed');
        if (failed) {
          // The run log has the details; the exit code says whose failure it was (3 source, 4 database).
          const code = failed.failure ? exitCodeFor(failed.failure) : EXIT.failed;
          // A failure the user must fix (an expired token) does not go away by waiting for the next run.
          const next = code === EXIT.usage ? 'fix what the run log above says, then sync again' : 'the next run resumes where this one stopped';
          throw new CommandFailed(`The sync failed; ${next}.`, code);
        }
      });
    });
}
