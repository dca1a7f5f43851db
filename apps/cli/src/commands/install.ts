import type { Command } from 'commander';
import { ConfigError, parseUserInput, type CustomerTableLink, type Installation } from '@tributary/core';
import { billingSettingsOf, describeBilling } from '../billing-format.js';
import { connectorById } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import { installationToJson } from '../app-status.js';
import { jsonFlag, outputFor } from '../cli-options.js';
import type { Io } from '../io.js';
import { parseLookback } from '../late-feedback.js';
import { resolveToken } from '../token-option.js';
import { withWorkspace, workspaceSchema } from '../workspace.js';

/** Options of `tributary install`, as commander hands them over. */
export interface InstallOptions {
  workspace: string;
  project: string;
  token?: string;
  tokenFile?: string;
  apiUrl?: string;
  backfillDays?: string;
  timezone?: string;
  form?: string;
  pageSize?: string;
  /** How far back each run reads again for late responses: `90`, `90m`, `2h`. */
  lookback?: string;
  /** Days the daily reconciliation pass reads again. */
  reconcileDays?: string;
  customersTable?: string;
  customersEmailColumn?: string;
  customersIdColumn?: string;
  /** Billing plan: monthly (default) or yearly. */
  plan?: string;
  /** Purchase-order number for the invoices. */
  po?: string;
  /** Accept plain http to a host other than this machine. */
  allowInsecureHttp?: boolean;
  json?: boolean;
}

/** The flag that sets each setting, so that an error names what the operator typed. */
export const SETTING_FLAGS = {
  projectKey: '--project',
  apiToken: '--token',
  baseUrl: '--api-url',
  backfillDays: '--backfill-days',
  timeZone: '--timezone',
  formId: '--form',
  pageSize: '--page-size',
} as const;

function customerTableOf(options: InstallOptions): CustomerTableLink | undefined {
  const given = [options.customersTable, options.customersEmailColumn, options.customersIdColumn].filter(Boolean).length;
  if (given === 0) return undefined;
  if (given !== 3) {
    throw new ConfigError('USAGE', 'Linking your own customers table needs all three of --customers-table, --customers-email-column and --customers-id-column.');
  }
  return { table: options.customersTable!, emailColumn: options.customersEmailColumn!, idColumn: options.customersIdColumn! };
}

function numberOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ConfigError('USAGE', `${flag} must be a number, got "${value}".`);
  return n;
}

/**
 * Installs an app: validates the settings, checks them against the source API, and only then
 * saves the installation and provisions its tables, in one step that leaves nothing on failure.
 */
export async function installApp(ctx: CliContext, app: string, options: InstallOptions): Promise<Installation> {
  const connector = connectorById(app);
  const workspace = parseUserInput(workspaceSchema, options.workspace, 'workspace');
  const config = parseUserInput(
    connector.configSchema,
    {
      projectKey: options.project,
      apiToken: await resolveToken(options, ctx.io, ctx.env),
      baseUrl: options.apiUrl,
      allowInsecureHttp: options.allowInsecureHttp === true ? true : undefined,
      backfillDays: numberOption(options.backfillDays, '--backfill-days'),
      timeZone: options.timezone,
      formId: numberOption(options.form, '--form'),
      pageSize: numberOption(options.pageSize, '--page-size'),
      lookbackMinutes: options.lookback === undefined ? undefined : parseLookback(options.lookback),
      reconcileDays: numberOption(options.reconcileDays, '--reconcile-days'),
    },
    `${connector.displayName} settings`,
    SETTING_FLAGS,
  ) as Record<string, unknown>;
  const customerTable = customerTableOf(options);
  const billing = billingSettingsOf({ plan: options.plan ?? 'monthly', po: options.po });
  const store = await ctx.store();
  const existing = await store.findInstallation(workspace, app);
  if (existing) {
    throw new ConfigError('APP_ALREADY_INSTALLED', `${connector.displayName} is already installed in workspace "${workspace}".`, {
      hint: `Replace its token with \`tributary app token --workspace ${workspace} ${app} --token <jwt>\`, or uninstall it first.`,
    });
  }
  const check = await connector.check({ config, now: new Date(), logger: ctx.logger });
  // An earlier installation whose data was kept is reattached by the store (same id, rows, checkpoint).
  const kept = (await store.listInstallations(workspace))
    .filter((i) => i.app === app && i.status === 'uninstalled' && i.purgedAt === undefined)
    .sort((a, b) => (b.uninstalledAt?.getTime() ?? 0) - (a.uninstalledAt?.getTime() ?? 0))[0];
  const installation = await store.install({
    workspace,
    app,
    config,
    secretFields: connector.secrets,
    mappings: [...connector.defaultMappings],
    dataModel: connector.dataModel,
    customerTable,
    billing,
    actor: ctx.operator,
  });
  const out = outputFor(ctx.io, options);
  const notes = check.notes.map((note) => withWorkspace(note, workspace));
  out.say(`Installed ${connector.displayName} in workspace "${workspace}" (installation ${installation.id}) as "${ctx.operator}".`);
  const reattached = kept !== undefined && installation.id === kept.id;
  let reattachedRows = 0;
  if (reattached) {
    reattachedRows = Object.values(await store.countRows(installation.id)).reduce((n, c) => n + c, 0);
    out.say(
      `  Reattached the data kept when it was uninstalled${kept.uninstalledAt ? ` on ${kept.uninstalledAt.toISOString()}` : ''}: ${reattachedRows} row(s), the same contact ids and checkpoint; the next sync resumes from there instead of backfilling again.`,
    );
  }
  for (const note of notes) out.say(`  ${note}`);
  out.say(`  Billing: ${describeBilling(billing, connector.pricing)}`);
  out.say(`Run the first sync now with: tributary sync ${app} --workspace ${workspace}`);
  out.result({ installation: installationToJson(installation), installedBy: ctx.operator, notes, ...(reattached ? { reattachedRows } : {}) });
  return installation;
}

/** Registers `tributary install <app>`. */
export function registerInstall(program: Command, io: Io): void {
  program
    .command('install')
    .description('install an app in a workspace: checks the settings against the API, then provisions its tables')
    .argument('<app>', 'the app to install, e.g. closealert')
    .requiredOption('--workspace <ws>', 'workspace to install into')
    .requiredOption('--project <key>', "CloseAlert project key, as in your CloseAlert URL (e.g. company.com)")
    .option('--token <jwt>', 'CloseAlert API token (Settings → API access), or - to read it from standard input (else TRIBUTARY_APP_TOKEN)')
    .option('--token-file <path>', 'read the token from a file instead (keeps it out of shell history and the process list)')
    .option('--api-url <url>', 'CloseAlert API base URL (default https://api.closealert.com/v1)')
    .option('--allow-insecure-http', 'accept an http:// --api-url on another host than this machine (the token then travels in clear)')
    .option('--backfill-days <n>', 'days of history the first sync loads (default 90)')
    .option('--timezone <tz>', 'time zone of CloseAlert timestamps without offset (default UTC)')
    .option('--form <id>', 'only sync responses of this form id')
    .option('--page-size <n>', 'responses per API request, 1-250 (default 250)')
    .option('--lookback <duration>', 'how far back each hourly run reads again for late responses: minutes, or e.g. 2h, 1h30m (default 60)')
    .option('--reconcile-days <n>', 'days the daily reconciliation pass reads again for responses later than the look-back, 1-90 (default 7)')
    .option('--customers-table <schema.table>', 'link responses to your own customers table (read only)')
    .option('--customers-email-column <column>', 'e-mail column of your customers table')
    .option('--customers-id-column <column>', 'id column of your customers table')
    .option('--plan <plan>', 'billing plan: monthly (an invoice each month) or yearly (one advance invoice per year)', 'monthly')
    .option('--po <number>', 'purchase-order number printed on the invoices')
    .addOption(jsonFlag())
    .action(async (app: string, options: InstallOptions) => {
      await withContext(io, (ctx) => installApp(ctx, app, options));
    });
}
