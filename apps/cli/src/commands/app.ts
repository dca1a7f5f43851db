import type { Command } from 'commander';
import { resolveToken, type TokenOptions } from '../token-option.js';
import { ConfigError, parseUserInput, type Installation } from '@tributary/core';
import { billingSettingsOf, describeBilling } from '../billing-format.js';
import { describeRetention, parseRetentionDays } from '../retention-format.js';
import { connectorById } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import type { Io } from '../io.js';
import { installationToJson } from '../app-status.js';
import { jsonFlag, outputFor } from '../cli-options.js';
import { requireInstallation, withWorkspace } from '../workspace.js';

/**
 * Replaces an installed app's token without reinstalling: the new token is checked against the
 * source first, and only a token that works replaces the stored one (sealed again at rest). Syncs
 * running meanwhile finish with the token they started with; the next one uses the new token.
 */
export async function replaceToken(ctx: CliContext, app: string, options: { workspace: string; json?: boolean } & TokenOptions): Promise<Installation> {
  const connector = connectorById(app);
  const [secretField, ...others] = connector.secrets;
  if (secretField === undefined || others.length > 0) {
    throw new ConfigError('TOKEN_NOT_APPLICABLE', `${connector.displayName} does not have exactly one secret token to replace.`);
  }
  const store = await ctx.store();
  // The listing opens no token it cannot, so that a token whose key was lost can still be replaced.
  const listed = (await store.listInstallations(options.workspace)).find((i) => i.app === app && i.status === 'active');
  const installation = listed ?? (await requireInstallation(store, options.workspace, app));
  const config = parseUserInput(
    connector.configSchema,
    { ...installation.config, [secretField]: await resolveToken(options, ctx.io, ctx.env) },
    `${connector.displayName} settings`,
    { [secretField]: '--token' },
  ) as Record<string, unknown>;
  // Throws when the token does not work; nothing has been written then, so the old token stays.
  const check = await connector.check({ config, now: new Date(), logger: ctx.logger });
  const updated = await store.updateInstallation(installation.id, { config, secretFields: connector.secrets });
  const out = outputFor(ctx.io, options);
  const notes = check.notes.map((note) => withWorkspace(note, installation.workspace));
  out.say(`Replaced the API token of ${connector.displayName} in workspace "${installation.workspace}".`);
  for (const note of notes) out.say(`  ${note}`);
  out.result({ installation: installationToJson(updated), tokenReplaced: true, notes });
  return updated;
}

/** Options of `tributary app billing`. `po` is false for `--no-po`. */
interface BillingOptions {
  workspace: string;
  plan?: string;
  po?: string | false;
  json?: boolean;
}

/** Changes an installed app's billing plan or PO number; the change applies from the next billing period. */
export async function changeBilling(ctx: CliContext, app: string, options: BillingOptions): Promise<Installation> {
  const connector = connectorById(app);
  const showOnly = options.plan === undefined && options.po === undefined;
  // Showing the plan only reads: it must not create a database where none is.
  const store = showOnly ? await ctx.existingStore() : await ctx.store();
  const installation = await requireInstallation(store, options.workspace, app);
  const current = installation.billing ?? { plan: 'monthly' };
  const out = outputFor(ctx.io, options);
  if (options.plan === undefined && options.po === undefined) {
    out.say(`${connector.displayName} in workspace "${installation.workspace}": ${describeBilling(current, connector.pricing)}`);
    out.result({ workspace: installation.workspace, app, billing: current, description: describeBilling(current, connector.pricing), changed: false });
    return installation;
  }
  let po: string | undefined = current.poNumber;
  if (options.po === false) po = undefined;
  else if (options.po !== undefined) po = options.po;
  const billing = billingSettingsOf({ plan: options.plan ?? current.plan, po });
  const updated = await store.updateInstallation(installation.id, { billing });
  out.say(`Billing of ${connector.displayName} in workspace "${installation.workspace}": ${describeBilling(billing, connector.pricing)}.`);
  out.say('  The change applies from the next billing period; periods already invoiced stay as they are.');
  out.result({ workspace: installation.workspace, app, billing, description: describeBilling(billing, connector.pricing), changed: true });
  return updated;
}

/** Options of `tributary app retention`. `days` is false for `--no-days`. */
interface RetentionOptions {
  workspace: string;
  days?: string | false;
  json?: boolean;
}

/** Shows or changes how long an installed app keeps its responses and raw records. */
export async function changeRetention(ctx: CliContext, app: string, options: RetentionOptions): Promise<Installation> {
  const connector = connectorById(app);
  // Showing the period only reads: it must not create a database where none is.
  const store = options.days === undefined ? await ctx.existingStore() : await ctx.store();
  const installation = await requireInstallation(store, options.workspace, app);
  const out = outputFor(ctx.io, options);
  if (options.days === undefined) {
    out.say(`${connector.displayName} in workspace "${installation.workspace}": ${describeRetention(installation.retentionDays)}.`);
    out.result({ workspace: installation.workspace, app, retentionDays: installation.retentionDays ?? null, changed: false });
    return installation;
  }
  const retentionDays = options.days === false ? null : parseRetentionDays(options.days, '--days');
  const updated = await store.updateInstallation(installation.id, { retentionDays });
  out.say(`Retention of ${connector.displayName} in workspace "${installation.workspace}": ${describeRetention(updated.retentionDays)}.`);
  out.result({ workspace: installation.workspace, app, retentionDays: updated.retentionDays ?? null, changed: true });
  return updated;
}

/** Registers `tributary app token`, `tributary app billing` and `tributary app retention`. */
export function registerApp(program: Command, io: Io): void {
  const app = program.command('app').description("change an installed app's token, billing or retention without reinstalling");
  app
    .command('token')
    .description('replace the API token: checked against the API first; the old token stays if the check fails')
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .option('--token <jwt>', 'the new API token, or - to read it from standard input (else TRIBUTARY_APP_TOKEN)')
    .option('--token-file <path>', 'read the new token from a file instead (keeps it out of shell history and the process list)')
    .addOption(jsonFlag())
    .action(async (name: string, options: { workspace: string; json?: boolean } & TokenOptions) => {
      await withContext(io, (ctx) => replaceToken(ctx, name, options));
    });
  app
    .command('billing')
    .description('show or change the billing plan and PO number; applies from the next billing period')
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .option('--plan <plan>', 'monthly or yearly')
    .option('--po <number>', 'purchase-order number printed on the invoices')
    .option('--no-po', 'remove the purchase-order number')
    .addOption(jsonFlag())
    .action(async (name: string, options: BillingOptions) => {
      await withContext(io, (ctx) => changeBilling(ctx, name, options));
    });
  app
    .command('retention')
    .description('show or change how many days responses and raw records are kept; the runner deletes older ones after each run')
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .option('--days <n>', 'keep them this many days')
    .option('--no-days', 'keep them until deleted (the default)')
    .addOption(jsonFlag())
    .action(async (name: string, options: RetentionOptions) => {
      await withContext(io, (ctx) => changeRetention(ctx, name, options));
    });
}
