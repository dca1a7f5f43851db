import type { Command } from 'commander';
import { InternalError, type CustomerDataReport, type ErasureReceipt, type PersonalDataStore, type Store } from '@tributary/core';
import { jsonFlag, outputFor } from '../cli-options.js';
import { withContext, type CliContext } from '../context.js';
import { formatFeedback } from '../format.js';
import type { Io } from '../io.js';
import { requireAdminOfEveryWorkspace, requireWorkspace, requireWorkspaceAdmin } from '../workspace.js';

// The rights of access and erasure for one person: everything held about an address, across every
// app of a workspace (or of all of them), listed or erased; and the receipts that keep an erased
// person from being imported again until the operator lifts them.

function personalData(store: Store): PersonalDataStore {
  const candidate = store as Partial<PersonalDataStore>;
  if (typeof candidate.findCustomer !== 'function' || typeof candidate.forgetCustomer !== 'function') {
    throw new InternalError('INTERNAL', 'This store cannot find or erase one customer’s data.');
  }
  return store as Store & PersonalDataStore;
}

const iso = (date: Date | undefined) => (date ? date.toISOString() : undefined);

function describeReceipt(receipt: ErasureReceipt): string {
  const scope = receipt.workspace === undefined ? 'every workspace' : `workspace "${receipt.workspace}"`;
  const lifted = receipt.liftedAt ? `, lifted ${iso(receipt.liftedAt)}${receipt.liftedBy ? ` by ${receipt.liftedBy}` : ''}` : ', kept out of syncs';
  return `${receipt.id}  ${iso(receipt.erasedAt)}  ${scope}${receipt.erasedBy ? ` by ${receipt.erasedBy}` : ''}${lifted}`;
}

function describeCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([what, n]) => `${n} ${what}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing was held';
}

/** The report as lines for a person. */
export function formatCustomerReport(report: CustomerDataReport): string[] {
  const records = report.apps.reduce((n, a) => n + a.records.length, 0);
  const lines = [`${report.email}: ${records} record(s) in ${report.apps.length} app(s), ${report.profiles.length} profile(s)${report.workspace ? ` in workspace "${report.workspace}"` : ''}`];
  for (const app of report.apps) {
    lines.push(`${app.workspace}/${app.app}  ${app.status.toUpperCase()}  (installation ${app.installationId})`);
    for (const record of app.records) {
      const linked = Object.entries(record.linked).map(([table, rows]) => `${rows.length} ${table}`);
      lines.push(`  ${record.table}: ${JSON.stringify(record.row)}${linked.length > 0 ? ` (with ${linked.join(', ')})` : ''}`);
      for (const [table, rows] of Object.entries(record.linked)) for (const row of rows) lines.push(`    ${table}: ${JSON.stringify(row)}`);
    }
    for (const contact of app.contacts) lines.push(`  contact: ${JSON.stringify(contact)}`);
    for (const entry of app.runLog) lines.push(`  run log ${entry.runId} (${iso(entry.startedAt)}): ${formatFeedback(entry.line)}`);
    for (const rejected of app.rejected) {
      lines.push(`  rejected in run ${rejected.runId}${rejected.sourceId ? ` #${rejected.sourceId}` : ''} (${rejected.reason}): ${JSON.stringify(rejected.raw)}`);
    }
  }
  for (const profile of report.profiles) {
    const history = profile.history.map((h) => `${h.change} ${iso(h.evaluatedAt)}`).join(', ');
    lines.push(`profile ${profile.workspace}/${profile.profile}: ${profile.memberSince ? `member since ${iso(profile.memberSince)}` : 'not a member'}${history ? `; ${history}` : ''}`);
  }
  for (const receipt of report.suppressedBy) lines.push(`kept out of syncs by erasure ${describeReceipt(receipt)}`);
  return lines;
}

async function findCustomer(ctx: CliContext, email: string, options: { workspace?: string; json?: boolean }): Promise<void> {
  const store = await ctx.existingStore();
  const workspace = options.workspace === undefined ? undefined : await requireWorkspace(store, options.workspace);
  const report = await personalData(store).findCustomer(email, workspace === undefined ? {} : { workspace });
  const out = outputFor(ctx.io, options);
  for (const line of formatCustomerReport(report)) out.say(line);
  out.result(report);
}

async function forgetCustomer(ctx: CliContext, email: string, options: { workspace?: string; json?: boolean }): Promise<void> {
  const store = await ctx.store();
  const workspace = options.workspace === undefined ? undefined : await requireWorkspace(store, options.workspace);
  if (workspace === undefined) await requireAdminOfEveryWorkspace(store, ctx.operator, 'erase a customer');
  else await requireWorkspaceAdmin(store, workspace, ctx.operator, 'erase a customer');
  const { receipt, alreadyForgotten, erased } = await personalData(store).forgetCustomer(email, { ...(workspace === undefined ? {} : { workspace }), actor: ctx.operator, at: new Date() });
  const out = outputFor(ctx.io, options);
  const where = workspace === undefined ? 'every workspace' : `workspace "${workspace}"`;
  if (alreadyForgotten) {
    out.say(`That customer was forgotten in ${where} already (receipt ${receipt.id}, ${iso(receipt.erasedAt)}); erased again what had come back since: ${describeCounts(erased)}.`);
    out.say('  The standing receipt stays the only one for this address, so lifting it lets the customer back.');
  } else {
    out.say(`Erased everything held about that customer in ${where}: ${describeCounts(erased)}.`);
    out.say(`  Receipt ${receipt.id}: it keeps a salted hash of the address, never the address, and keeps later syncs from storing this customer.`);
  }
  out.say(`  To let syncs import them again: tributary customers unforget --receipt ${receipt.id}`);
  out.result({ receipt, alreadyForgotten, erased });
}

async function unforget(ctx: CliContext, options: { receipt: string; json?: boolean }): Promise<void> {
  const base = await ctx.store();
  const store = personalData(base);
  const before = (await store.listErasureReceipts()).find((r) => r.id === options.receipt);
  // An unknown receipt is liftErasure's to refuse; a known one is its scope's administrators' to lift.
  if (before?.workspace !== undefined) await requireWorkspaceAdmin(base, before.workspace, ctx.operator, 'lift an erasure');
  else if (before) await requireAdminOfEveryWorkspace(base, ctx.operator, 'lift an erasure');
  const receipt = await store.liftErasure(options.receipt, { actor: ctx.operator, at: new Date() });
  const out = outputFor(ctx.io, options);
  const changed = before !== undefined && before.liftedAt === undefined;
  out.say(
    changed
      ? `Lifted erasure ${receipt.id}: later syncs import that customer again (what was erased stays erased).`
      : `Erasure ${receipt.id} was lifted already on ${iso(receipt.liftedAt)}.`,
  );
  out.result({ receipt, changed });
}

async function listReceipts(ctx: CliContext, options: { json?: boolean }): Promise<void> {
  const receipts = await personalData(await ctx.existingStore()).listErasureReceipts();
  const out = outputFor(ctx.io, options);
  if (receipts.length === 0) out.say('No customer was erased.');
  for (const receipt of receipts) out.say(`${describeReceipt(receipt)}: ${describeCounts(receipt.counts)}`);
  out.result(receipts);
}

/** Registers `tributary customers find|forget|unforget|receipts`. */
export function registerCustomers(program: Command, io: Io): void {
  const customers = program.command('customers').description("one customer's data: list everything held about them, or erase it (GDPR access and erasure)");
  customers
    .command('find')
    .description('everything held about an e-mail address: responses with answers and raw records, contacts, run-log lines, rejected records, profile memberships and history')
    .argument('<email>', 'the address, in any case or spacing')
    .option('--workspace <ws>', 'only this workspace (default: every workspace)')
    .addOption(jsonFlag())
    .action(async (email: string, options: { workspace?: string; json?: boolean }) => {
      await withContext(io, (ctx) => findCustomer(ctx, email, options));
    });
  customers
    .command('forget')
    .description('erase everything held about an e-mail address in one transaction, write an erasure receipt, and keep later syncs from storing that customer')
    .argument('<email>', 'the address, in any case or spacing')
    .option('--workspace <ws>', 'only this workspace (default: every workspace, and any later one)')
    .addOption(jsonFlag())
    .action(async (email: string, options: { workspace?: string; json?: boolean }) => {
      await withContext(io, (ctx) => forgetCustomer(ctx, email, options));
    });
  customers
    .command('unforget')
    .description('let syncs import an erased customer again (what was erased stays erased)')
    .requiredOption('--receipt <id>', 'the erasure receipt (see `tributary customers receipts`)')
    .addOption(jsonFlag())
    .action(async (options: { receipt: string; json?: boolean }) => {
      await withContext(io, (ctx) => unforget(ctx, options));
    });
  customers
    .command('receipts')
    .description('every erasure: when, by whom, how many rows, whether syncs still keep the customer out')
    .addOption(jsonFlag())
    .action(async (options: { json?: boolean }) => {
      await withContext(io, (ctx) => listReceipts(ctx, options));
    });
}
