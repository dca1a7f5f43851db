import type { Command } from 'commander';
import { z } from 'zod';
import { parseUserInput } from '@tributary/core';
import { appFlag, appOf } from '../cli-options.js';
import { withContext } from '../context.js';
import { formatRun, runToJson } from '../format.js';
import { println, type Io } from '../io.js';
import { parseWorkspace, requireAppInWorkspace, requireWorkspace } from '../workspace.js';

const limitSchema = z.coerce.number().int().min(1).max(1000);

/** Registers `tributary logs`. */
export function registerLogs(program: Command, io: Io): void {
  program
    .command('logs')
    .description('show the run log of a workspace: when, how many responses, which customers, what failed')
    .argument('[app]', 'only this app, e.g. closealert')
    .requiredOption('--workspace <ws>', 'workspace to show')
    .addOption(appFlag())
    .option('--limit <n>', 'how many runs', '10')
    .option('--json', 'print JSON for scripts')
    .action(async (name: string | undefined, options: { workspace: string; app?: string; limit: string; json?: boolean }) => {
      const app = appOf(name, options);
      parseWorkspace(options.workspace);
      const limit = parseUserInput(limitSchema, options.limit, '--limit');
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const workspace = app === undefined ? await requireWorkspace(store, options.workspace) : (await requireAppInWorkspace(store, options.workspace, app))[0]!.workspace;
        const runs = await store.listRuns({ workspace, app, limit });
        if (options.json) {
          println(io.stdout, JSON.stringify(runs.map(runToJson), null, 2));
          return;
        }
        if (runs.length === 0) println(io.stdout, `No runs yet in workspace "${workspace}"${app ? ` for ${app}` : ''}.`);
        for (const run of runs) println(io.stdout, `${formatRun(run)}\n`);
      });
    });
}
