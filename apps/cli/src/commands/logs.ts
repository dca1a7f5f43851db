import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, parseUserInput, type DestinationStore, type Store } from '@tributary/core';
import { appFlag, appOf } from '../cli-options.js';
import { withContext } from '../context.js';
import { formatFeedback, formatRun, runToJson, savedCustomersCommand } from '../format.js';
import { println, type Io } from '../io.js';
import { parseWorkspace, requireAppInWorkspace, requireWorkspace } from '../workspace.js';

const limitSchema = z.coerce.number().int().min(1).max(1000);
const afterSchema = z.coerce.number().int().min(0);
const runIdSchema = z.uuid();

/** `tributary logs --run <id>`: one run with every customer it saved, a page at a time. */
async function showRun(io: Io, store: Store, workspace: string, runId: string, page: { after?: number; limit: number }, json: boolean): Promise<void> {
  const run = await store.getRun(runId);
  if (!run || run.workspace !== workspace) {
    throw new ConfigError('RUN_NOT_FOUND', `Workspace "${workspace}" has no run ${runId}.`, {
      hint: `List its runs with: tributary logs --workspace ${workspace}`,
    });
  }
  const saved = (await store.listSavedCustomers(runId, page))!;
  if (json) {
    println(io.stdout, JSON.stringify({ run: runToJson(run), total: saved.total, customers: saved.customers, next: saved.next ?? null }, null, 2));
    return;
  }
  println(io.stdout, formatRun(run, { maxCustomers: 0 }));
  const first = saved.customers[0]?.seq;
  println(io.stdout, `  records saved: ${saved.total}${saved.customers.length < saved.total && first !== undefined ? ` (listed from #${first})` : ''}`);
  for (const customer of saved.customers) println(io.stdout, `    ${customer.seq}  ${formatFeedback(customer)}`);
  if (saved.next !== undefined) println(io.stdout, `  more: ${savedCustomersCommand(run, saved.next)}`);
}

/** Registers `tributary logs`. */
export function registerLogs(program: Command, io: Io): void {
  program
    .command('logs')
    .description('show the run log of a workspace: when, how many responses, which customers, what failed')
    .argument('[app]', 'only this app')
    .requiredOption('--workspace <ws>', 'workspace to show')
    .addOption(appFlag())
    .option('--run <id>', 'one run with every customer it saved (paged with --limit and --after)')
    .option('--after <n>', 'with --run: list the customers after this number (from the previous page)')
    .option('--limit <n>', 'how many runs (default 10), or with --run customers per page (default 1000)')
    .option('--json', 'print JSON for scripts')
    .action(async (name: string | undefined, options: { workspace: string; app?: string; run?: string; after?: string; limit?: string; json?: boolean }) => {
      const app = appOf(name, options);
      parseWorkspace(options.workspace);
      const runId = options.run === undefined ? undefined : parseUserInput(runIdSchema, options.run, '--run');
      const after = options.after === undefined ? undefined : parseUserInput(afterSchema, options.after, '--after');
      if (after !== undefined && runId === undefined) throw new ConfigError('LOGS_AFTER_WITHOUT_RUN', '--after pages through the customers of one run: give --run <id> too.');
      const limit = parseUserInput(limitSchema, options.limit ?? (runId ? '1000' : '10'), '--limit');
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const workspace = app === undefined ? await requireWorkspace(store, options.workspace) : (await requireAppInWorkspace(store, options.workspace, app))[0]!.workspace;
        if (runId !== undefined) {
          await showRun(io, store, workspace, runId, { ...(after === undefined ? {} : { after }), limit }, Boolean(options.json));
          return;
        }
        const runs = await store.listRuns({ workspace, app, limit });
        if (options.json) {
          println(io.stdout, JSON.stringify(runs.map(runToJson), null, 2));
          return;
        }
        if (runs.length === 0) println(io.stdout, `No runs yet in workspace "${workspace}"${app ? ` for ${app}` : ''}.`);
        for (const run of runs) println(io.stdout, `${formatRun(run)}\n`);
        // Deliveries are not runs, but a batch the runner gave up on is what an operator reads the log for.
        const deliveries = store as Store & Partial<DestinationStore>;
        const dead = typeof deliveries.listDeliveries === 'function' ? await deliveries.listDeliveries({ workspace, status: 'dead', limit: 100 }) : [];
        for (const d of dead) println(io.stdout, `DEAD-LETTERED delivery ${d.id}: ${d.count} change(s) of profile "${d.profile}" for destination "${d.destination}" after ${d.attempts} attempt(s): ${d.lastError ?? 'no error kept'} (tributary deliveries --status dead)`);
      });
    });
}
