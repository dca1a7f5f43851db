import type { Command } from 'commander';
import { z } from 'zod';
import { parseUserInput } from '@tributary/core';
import { withContext } from '../context.js';
import { formatRun, runToJson } from '../format.js';
import { println, type Io } from '../io.js';
import { workspaceSchema } from '../workspace.js';

const limitSchema = z.coerce.number().int().min(1).max(1000);

/** Registers `tributary logs`. */
export function registerLogs(program: Command, io: Io): void {
  program
    .command('logs')
    .description('show the run log of a workspace: when, how many responses, which customers, what failed')
    .requiredOption('--workspace <ws>', 'workspace to show')
    .option('--app <app>', 'only this app')
    .option('--limit <n>', 'how many runs', '10')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { workspace: string; app?: string; limit: string; json?: boolean }) => {
      const workspace = parseUserInput(workspaceSchema, options.workspace, 'workspace');
      const limit = parseUserInput(limitSchema, options.limit, '--limit');
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const runs = await store.listRuns({ workspace, app: options.app, limit });
        if (options.json) {
          println(io.stdout, JSON.stringify(runs.map(runToJson), null, 2));
          return;
        }
        if (runs.length === 0) println(io.stdout, `No runs yet in workspace "${workspace}".`);
        for (const run of runs) println(io.stdout, `${formatRun(run)}\n`);
      });
    });
}
