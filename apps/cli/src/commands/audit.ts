import type { Command } from 'commander';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';
import { formatTable } from '../text-table.js';
import { requireWorkspace } from '../workspace.js';
import { auditJson } from '../identity-format.js';

/** Registers `tributary audit`: the log of changes made over the HTTP API and with these commands. */
export function registerAudit(program: Command, io: Io): void {
  program
    .command('audit')
    .description('the audit log of changes (who, what, which workspace, when, from where, outcome), newest first')
    .option('--workspace <ws>', 'only the events of one workspace')
    .option('--limit <n>', 'how many events (1-1000)', '50')
    .option('--before <id>', 'events older than this one (the id of the last event of the previous page)')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { workspace?: string; limit: string; before?: string; json?: boolean }) => {
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const workspace = options.workspace === undefined ? undefined : await requireWorkspace(store, options.workspace);
        const limit = /^\d{1,4}$/.test(options.limit.trim()) ? Number(options.limit.trim()) : NaN;
        const events = await store.listAudit({
          limit,
          ...(workspace === undefined ? {} : { workspace }),
          ...(options.before === undefined ? {} : { before: options.before.trim() }),
        });
        if (options.json) {
          println(io.stdout, JSON.stringify(events.map(auditJson), null, 2));
          return;
        }
        if (events.length === 0) {
          println(io.stdout, 'The audit log has no events here yet.');
          return;
        }
        println(
          io.stdout,
          formatTable(
            ['id', 'at', 'actor', 'action', 'workspace', 'target', 'outcome', 'from'],
            events.map((e) => [e.id, e.at.toISOString(), e.actor, e.action, e.workspace ?? '', e.target ?? '', e.outcome, e.address ?? '']),
          ),
        );
      });
    });
}
