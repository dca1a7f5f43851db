import type { Command } from 'commander';
import type { Installation, RunRecord } from '@tributary/core';
import { runSync } from '@tributary/runner';
import { appFlag, appOf, jsonFlag, outputFor } from '../cli-options.js';
import { connectorById } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import { CommandFailed } from '../exit-codes.js';
import { formatRun, runToJson } from '../format.js';
import type { Io } from '../io.js';
import { createProgress } from '../progress.js';
import { underRunLock } from '../run-lock.js';
import { activeInstallations, parseWorkspace, requireInstallation } from '../workspace.js';

async function syncInstallation(ctx: CliContext, installation: Installation): Promise<RunRecord> {
  const store = await ctx.store();
  const connector = connectorById(installation.app);
  const progress = createProgress(ctx.io, `${installation.workspace}/${installation.app}`);
  const controller = new AbortController();
  ctx.io.onShutdown?.(() => controller.abort());
  const result = await underRunLock(store, installation, () =>
    runSync({
      store,
      connector,
      installation,
      logger: ctx.logger,
      signal: controller.signal,
      onProgress: (p) =>
        progress.update({ count: p.fetched, unit: 'responses', done: p.done, total: p.total, of: 'windows', detail: `${p.inserted} new, ${p.rejected} rejected` }),
      onWait: (wait) => progress.wait(wait),
    }),
  ).finally(() => progress.done());
  const [run] = (await store.listRuns({ workspace: installation.workspace, app: installation.app, limit: 20 })).filter((r) => r.id === result.runId);
  if (!run) throw new CommandFailed(`The run ${result.runId} was not recorded.`);
  return run;
}

/** Runs one sync of an installed app now and returns its log entry. */
export async function syncNow(ctx: CliContext, workspace: string, app: string): Promise<RunRecord> {
  return syncInstallation(ctx, await requireInstallation(await ctx.store(), workspace, app));
}

/** Registers `tributary sync`. */
export function registerSync(program: Command, io: Io): void {
  program
    .command('sync')
    .description('sync an installed app now (every app of the workspace when none is named) and print its log entry')
    .argument('[app]', 'the app to sync, e.g. closealert (default: every app of the workspace)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .addOption(appFlag())
    .addOption(jsonFlag())
    .action(async (name: string | undefined, options: { workspace: string; app?: string; json?: boolean }) => {
      const app = appOf(name, options);
      parseWorkspace(options.workspace);
      const out = outputFor(io, options);
      await withContext(io, async (ctx) => {
        const store = await ctx.store();
        const installations = app === undefined ? await activeInstallations(store, options.workspace) : [await requireInstallation(store, options.workspace, app)];
        const runs: RunRecord[] = [];
        for (const installation of installations) {
          const run = await syncInstallation(ctx, installation);
          runs.push(run);
          out.say(formatRun(run));
        }
        out.result(runs.map(runToJson));
        if (runs.some((run) => run.status === 'failed')) throw new CommandFailed('The sync failed; the next run resumes where this one stopped.');
      });
    });
}
