import type { Command } from 'commander';
import { ConfigError, parseUserInput, type CustomerTableLink, type Installation } from '@tributary/core';
import { billingSettingsOf, describeBilling } from '../billing-format.js';
import { describeRetention, parseRetentionDays } from '../retention-format.js';
import { CONNECTORS, connectorById } from '../connectors.js';
import { addConnectorFlags, appFieldsHelp, collect, fieldFlags, helpAppIn, installSettings } from '../install-settings.js';
import { withContext, type CliContext } from '../context.js';
import { installationToJson } from '../app-status.js';
import { jsonFlag, outputFor } from '../cli-options.js';
import type { Io } from '../io.js';
import { withWorkspace, workspaceSchema } from '../workspace.js';

/** Options of `tributary install`, as commander hands them over: the generic ones and each connector's short flags. */
export interface InstallOptions {
  workspace: string;
  /** `key=value`, `key=@file` or `key=-` (standard input), once per setting. */
  set?: string[];
  /** A JSON file with the settings as one object; flags and `--set` override it. */
  config?: string;
  customersTable?: string;
  customersEmailColumn?: string;
  customersIdColumn?: string;
  /** Billing plan: monthly (default) or yearly. */
  plan?: string;
  /** Purchase-order number for the invoices. */
  po?: string;
  /** Days responses and raw records are kept; left out, they are kept until deleted. */
  retentionDays?: string;
  json?: boolean;
  /** The connector's short flags (`project`, `token`, `backfillDays`, …), by commander's attribute name. */
  [flag: string]: string | string[] | boolean | undefined;
}

function customerTableOf(options: InstallOptions): CustomerTableLink | undefined {
  const given = [options.customersTable, options.customersEmailColumn, options.customersIdColumn].filter(Boolean).length;
  if (given === 0) return undefined;
  if (given !== 3) {
    throw new ConfigError('USAGE', 'Linking your own customers table needs all three of --customers-table, --customers-email-column and --customers-id-column.');
  }
  return { table: options.customersTable!, emailColumn: options.customersEmailColumn!, idColumn: options.customersIdColumn! };
}

/**
 * Installs an app: validates the settings, checks them against the source API, and only then
 * saves the installation and provisions its tables, in one step that leaves nothing on failure.
 */
export async function installApp(ctx: CliContext, app: string, options: InstallOptions): Promise<Installation> {
  // Loaded with the command, not at start-up: `tributary --help` needs none of the runner's drivers.
  const { installConnector } = await import('@tributary/runner');
  const connector = connectorById(app);
  const workspace = parseUserInput(workspaceSchema, options.workspace, 'workspace');
  const config = parseUserInput(
    connector.configSchema,
    await installSettings(connector, options, ctx.io, ctx.env),
    `${connector.displayName} settings`,
    fieldFlags(connector),
  ) as Record<string, unknown>;
  const customerTable = customerTableOf(options);
  const billing = billingSettingsOf({ plan: options.plan ?? 'monthly', po: options.po });
  const retentionDays = options.retentionDays === undefined ? undefined : parseRetentionDays(options.retentionDays, '--retention-days');
  const store = await ctx.store();
  const { installation, notes: checkNotes, reattached: kept, reattachedRows = 0, apart } = await installConnector({
    store,
    connector,
    workspace,
    config,
    customerTable,
    billing,
    actor: ctx.operator,
    logger: ctx.logger,
    ...(retentionDays === undefined ? {} : { retentionDays }),
  });
  const out = outputFor(ctx.io, options);
  const notes = checkNotes.map((note) => withWorkspace(note, workspace));
  out.say(`Installed ${connector.displayName} in workspace "${workspace}" (installation ${installation.id}) as "${ctx.operator}".`);
  const reattached = kept !== undefined;
  if (reattached) {
    out.say(
      `  Reattached the data kept when it was uninstalled${kept.uninstalledAt ? ` on ${kept.uninstalledAt.toISOString()}` : ''}: ${reattachedRows} row(s), the same contact ids and checkpoint; the next sync resumes from there instead of backfilling again.`,
    );
  }
  if (apart.length > 0) {
    out.say(
      `  Data kept from ${apart.length} earlier installation(s) of other sources (${apart.map((i) => i.id).join(', ')}) stays apart; delete it with: tributary uninstall ${app} --workspace ${workspace} --purge once this one is uninstalled too.`,
    );
  }
  for (const note of notes) out.say(`  ${note}`);
  out.say(`  Billing: ${describeBilling(billing, connector.pricing)}`);
  out.say(`  Retention: ${describeRetention(installation.retentionDays)}`);
  out.say(`Run the first sync now with: tributary sync ${app} --workspace ${workspace}`);
  out.result({ installation: installationToJson(installation), installedBy: ctx.operator, notes, ...(reattached ? { reattachedRows } : {}) });
  return installation;
}

/** Registers `tributary install <app>`; `argv` tells which app `--help` is asked about. */
export function registerInstall(program: Command, io: Io, argv: readonly string[] = []): void {
  const command = program
    .command('install')
    .description('install an app in a workspace: checks the settings against the API, then provisions its tables')
    .argument('<app>', `the app to install: ${[...CONNECTORS.keys()].join(', ')} (see \`tributary connectors\`)`)
    .requiredOption('--workspace <ws>', 'workspace to install into')
    .option('--set <key=value>', "one setting of the app's config: key=value, key=@file (read from a file) or key=- (standard input); repeatable", collect, [])
    .option('--config <file>', 'a JSON file with the settings as one object; flags and --set override it');
  addConnectorFlags(command);
  command
    .option('--customers-table <schema.table>', 'link responses to your own customers table (read only)')
    .option('--customers-email-column <column>', 'e-mail column of your customers table')
    .option('--customers-id-column <column>', 'id column of your customers table')
    .option('--plan <plan>', 'billing plan: monthly (an invoice each month) or yearly (one advance invoice per year)', 'monthly')
    .option('--po <number>', 'purchase-order number printed on the invoices')
    .option('--retention-days <n>', 'keep responses and raw records this many days, then delete them (default: keep them)')
    .addOption(jsonFlag())
    // `install <app> --help` about an app nobody knows is a usage error, not a help page without settings.
    .addHelpText('before', ({ command: parsed }) => {
      // Commander has parsed the line by now: its operands come first, flags it did not know after.
      const app = parsed.args.find((arg) => !arg.startsWith('-'));
      if (app !== undefined) connectorById(app);
      return '';
    })
    .addHelpText('after', () => appFieldsHelp(helpAppIn(argv)))
    .action(async (app: string, options: InstallOptions) => {
      await withContext(io, (ctx) => installApp(ctx, app, options));
    });
}
