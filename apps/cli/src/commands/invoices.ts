import type { Command } from 'commander';
import { formatMoney, invoiceToJson } from '../billing-format.js';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';
import { parseWorkspace, requireWorkspace } from '../workspace.js';

/** Registers `tributary invoices`. */
export function registerInvoices(program: Command, io: Io): void {
  program
    .command('invoices')
    .description("list a workspace's invoices: one per month (monthly plan) or one per year in advance (yearly plan)")
    .requiredOption('--workspace <ws>', 'workspace to show')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { workspace: string; json?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const workspace = await requireWorkspace(store, options.workspace);
        const invoices = await store.listInvoices({ workspace });
        if (options.json) {
          println(io.stdout, JSON.stringify(invoices.map(invoiceToJson), null, 2));
          return;
        }
        if (invoices.length === 0) {
          println(io.stdout, `No invoices yet in workspace "${workspace}".`);
          return;
        }
        for (const invoice of invoices) {
          const period = `${invoice.periodStart.toISOString().slice(0, 10)} – ${invoice.periodEnd.toISOString().slice(0, 10)}`;
          println(
            io.stdout,
            `${invoice.issuedAt.toISOString().slice(0, 10)}  ${invoice.app.padEnd(12)} ${invoice.plan.padEnd(7)}  ${period}  ${formatMoney(invoice.amountMinor, invoice.currency).padStart(12)}${invoice.poNumber ? `  PO ${invoice.poNumber}` : ''}`,
          );
        }
      });
    });
}
