import type { Command } from 'commander';
import { appStatuses, appStatusToJson, type AppStatus } from '../app-status.js';
import { describeBilling } from '../billing-format.js';
import { CONNECTORS } from '../connectors.js';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';
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
  if (installation.billing) lines.push(`  billing: ${describeBilling(installation.billing, pricing)}`);
  for (const item of status.attention) lines.push(`  warning: ${item}`);
  return lines.join('\n');
}

/** Registers `tributary apps`. */
export function registerApps(program: Command, io: Io): void {
  program
    .command('apps')
    .description('list installed apps: status, last and next run, token expiry, billing')
    .option('--workspace <ws>', 'only this workspace')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { workspace?: string; json?: boolean }) => {
      if (options.workspace !== undefined) parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const store = await ctx.store();
        const workspace = options.workspace === undefined ? undefined : await requireWorkspace(store, options.workspace);
        const statuses = await appStatuses(store, await store.listInstallations(workspace), new Date());
        if (options.json) {
          println(io.stdout, JSON.stringify(statuses.map(appStatusToJson), null, 2));
          return;
        }
        if (statuses.length === 0) {
          println(io.stdout, workspace ? `No apps installed in workspace "${workspace}".` : 'No apps installed.');
          return;
        }
        for (const status of statuses) println(io.stdout, `${formatAppStatus(status)}\n`);
      });
    });
}
