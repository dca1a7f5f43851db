import type { Command } from 'commander';
import { ConfigError } from '@tributary/core';
import { appStatuses, appStatusToJson, type AppStatus } from '../app-status.js';
import { describeBilling } from '../billing-format.js';
import { CONNECTORS } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import { println, type Io } from '../io.js';
import { describeLateFeedback, lateFeedbackOf } from '../late-feedback.js';
import { parseWorkspace, requireWorkspace } from '../workspace.js';

function tokenLine(status: AppStatus): string {
  const { credentials } = status;
  switch (credentials.state) {
    case 'no-expiry':
      return 'token: no expiry';
    case 'valid':
    case 'expiring':
      return `token: expires ${credentials.expiresAt?.toISOString()} (${credentials.daysLeft} days left)`;
    case 'expired':
      return `token: EXPIRED${credentials.expiresAt ? ` on ${credentials.expiresAt.toISOString()}` : ''}`;
    case 'unreadable':
      return 'token: unreadable';
    case 'not-applicable':
      return 'token: -';
  }
}

/** An installation as a few readable lines. */
export function formatAppStatus(status: AppStatus): string {
  const { installation, lastRun } = status;
  const pricing = CONNECTORS.get(installation.app)?.pricing;
  const lines = [
    `${installation.workspace}/${installation.app}  ${installation.status.toUpperCase()}  (installation ${installation.id})`,
    `  installed: ${installation.createdAt.toISOString()}${installation.uninstalledAt ? `, uninstalled: ${installation.uninstalledAt.toISOString()}` : ''}`,
    `  last run: ${lastRun ? `${lastRun.startedAt.toISOString()} ${lastRun.status}${lastRun.errorCode ? ` [${lastRun.errorCode}]` : ''}` : 'never'}`,
    `  next run: ${status.nextRunAt ? status.nextRunAt.toISOString() : '-'}`,
    `  ${tokenLine(status)}`,
  ];
  const lateFeedback = lateFeedbackOf(installation);
  if (lateFeedback) lines.push(`  late feedback: ${describeLateFeedback(lateFeedback)}`);
  if (installation.billing) lines.push(`  billing: ${describeBilling(installation.billing, pricing)}`);
  lines.push(`  retention: ${installation.retentionDays === undefined ? 'off (kept until deleted)' : `${installation.retentionDays} days`}`);
  for (const item of status.attention) lines.push(`  warning: ${item}`);
  return lines.join('\n');
}

/**
 * After listing every app: the ones whose token could not be opened (its key is missing) make the
 * command exit 2, since the operator must restore the key; the other apps were listed all the same.
 */
function refuseUnreadableTokens(ctx: CliContext, statuses: readonly AppStatus[]): void {
  const unreadable = statuses.filter((s) => s.installation.secretError !== undefined);
  if (unreadable.length === 0) return;
  const keys = ctx.secretKeys();
  const where = keys.source === 'env' ? 'TRIBUTARY_SECRET_KEY / TRIBUTARY_SECRET_KEY_PREVIOUS' : `the key file ${keys.file}`;
  throw new ConfigError(
    'SECRET_KEY_UNKNOWN',
    `The token of ${unreadable.map((s) => `${s.installation.workspace}/${s.installation.app}`).join(', ')} cannot be opened: the key that sealed it is not in ${where}.`,
    { hint: 'Restore that key (`tributary secrets status` names it), or replace the token with `tributary app token`.' },
  );
}

/** Registers `tributary apps`. */
export function registerApps(program: Command, io: Io): void {
  program
    .command('apps')
    .description('list installed apps: status, last and next run, token expiry, billing, retention')
    .option('--workspace <ws>', 'only this workspace')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { workspace?: string; json?: boolean }) => {
      if (options.workspace !== undefined) parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const workspace = options.workspace === undefined ? undefined : await requireWorkspace(store, options.workspace);
        const statuses = await appStatuses(store, await store.listInstallations(workspace), new Date());
        if (options.json) {
          println(io.stdout, JSON.stringify(statuses.map(appStatusToJson), null, 2));
          refuseUnreadableTokens(ctx, statuses);
          return;
        }
        if (statuses.length === 0) {
          println(io.stdout, workspace ? `No apps installed in workspace "${workspace}".` : 'No apps installed.');
          return;
        }
        for (const status of statuses) println(io.stdout, `${formatAppStatus(status)}\n`);
        refuseUnreadableTokens(ctx, statuses);
      });
    });
}
