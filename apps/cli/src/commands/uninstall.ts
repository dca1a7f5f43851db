import type { Command } from 'commander';
import { connectorById } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import { ConfigError } from '@tributary/core';
import type { Io } from '../io.js';
import { jsonFlag, outputFor, type Output } from '../cli-options.js';
import { requireInstallation, requireWorkspace } from '../workspace.js';

/**
 * Uninstalls an app: it is never synced or invoiced again and its token is deleted. Without
 * `purge` its data stays where it is; with it, exactly its rows go (and the app's tables, once no
 * other installation of the app has data or is active). The run log stays.
 */
export async function uninstallApp(ctx: CliContext, app: string, options: { workspace: string; purge?: boolean; json?: boolean }): Promise<void> {
  const connector = connectorById(app);
  // Nothing is installed in a database that does not exist: say so instead of creating an empty one.
  const store = await ctx.store({ create: false });
  const out = outputFor(ctx.io, options);
  const workspace = await requireWorkspace(store, options.workspace);
  if (options.purge && !(await store.findInstallation(workspace, app))) {
    // Data kept by an earlier uninstall can still be purged.
    const earlier = (await store.listInstallations(workspace)).filter((i) => i.app === app && i.status === 'uninstalled');
    const kept = earlier.filter((i) => i.purgedAt === undefined);
    if (kept.length > 0) {
      const purged = [];
      for (const installation of kept) purged.push(await purgeKept(ctx, out, installation.id, installation.uninstalledAt ?? new Date()));
      out.result({ workspace, app, uninstalled: false, purged });
      return;
    }
    const purgedAt = earlier.map((i) => i.purgedAt).filter((d): d is Date => d !== undefined).sort((a, b) => b.getTime() - a.getTime())[0];
    if (purgedAt) {
      throw new ConfigError(
        'APP_ALREADY_PURGED',
        `${connector.displayName} was uninstalled from workspace "${workspace}" and its data purged on ${purgedAt.toISOString()}; nothing is left to delete.`,
      );
    }
  }
  const installation = await requireInstallation(store, workspace, app);
  const counts = options.purge ? await store.countRows(installation.id) : {};
  await store.uninstall(installation.id, { purge: Boolean(options.purge), at: new Date(), actor: ctx.operator });
  out.say(`Uninstalled ${connector.displayName} from workspace "${installation.workspace}": no more syncs or invoices; its token was deleted.`);
  if (options.purge) {
    const total = Object.values(counts).reduce((n, c) => n + c, 0);
    out.say(`  Purged ${total} row(s) of this installation: ${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(', ')}.`);
  } else {
    out.say(`  Its data stays in place for your profiles. Delete it later with: tributary uninstall ${app} --workspace ${installation.workspace} --purge`);
  }
  out.result({ workspace: installation.workspace, app, installationId: installation.id, uninstalled: true, purged: options.purge ? [{ installationId: installation.id, rows: counts }] : [] });
}

async function purgeKept(ctx: CliContext, out: Output, installationId: string, uninstalledAt: Date): Promise<{ installationId: string; rows: Record<string, number> }> {
  const store = await ctx.store();
  const counts = await store.countRows(installationId);
  await store.uninstall(installationId, { purge: true, at: uninstalledAt, actor: ctx.operator });
  const total = Object.values(counts).reduce((n, c) => n + c, 0);
  out.say(`Purged ${total} row(s) kept by installation ${installationId} (uninstalled ${uninstalledAt.toISOString()}).`);
  return { installationId, rows: counts };
}

/** Registers `tributary uninstall`. */
export function registerUninstall(program: Command, io: Io): void {
  program
    .command('uninstall')
    .description('uninstall an app: stops its syncs and invoices; keeps its data unless --purge')
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .option('--purge', "also delete this installation's data (its rows, contacts, checkpoints and set-aside records)")
    .addOption(jsonFlag())
    .action(async (app: string, options: { workspace: string; purge?: boolean; json?: boolean }) => {
      await withContext(io, (ctx) => uninstallApp(ctx, app, options));
    });
}
