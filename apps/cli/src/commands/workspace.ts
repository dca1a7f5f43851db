import type { Command } from 'commander';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';
import { jsonFlag, outputFor } from '../cli-options.js';
import { formatTable } from '../text-table.js';
import { parseWorkspace, requireWorkspace } from '../workspace.js';

/** Registers `tributary workspace admins [list|add|remove]`. */
export function registerWorkspace(program: Command, io: Io): void {
  const workspace = program.command('workspace').description('who administers a workspace: only they may install and remove apps');
  const admins = workspace.command('admins').description('list, add or remove the administrators of a workspace');
  admins
    .command('list', { isDefault: true })
    .description('list the administrators of a workspace (the first operator to install an app in it is its first)')
    .requiredOption('--workspace <ws>', 'the workspace')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { workspace: string; json?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const ws = await requireWorkspace(store, options.workspace);
        const list = await store.listWorkspaceAdmins(ws);
        if (options.json) {
          println(io.stdout, JSON.stringify(list.map((a) => ({ user: a.user, addedAt: a.addedAt.toISOString(), addedBy: a.addedBy ?? null })), null, 2));
          return;
        }
        if (list.length === 0) {
          println(io.stdout, `Workspace "${ws}" has no administrator yet: the next operator who installs or removes an app in it becomes one.`);
          return;
        }
        println(io.stdout, formatTable(['user', 'since', 'added by'], list.map((a) => [a.user, a.addedAt.toISOString(), a.addedBy ?? '(claimed the workspace)'])));
      });
    });
  admins
    .command('add')
    .description('make a user an administrator of the workspace (you must be one)')
    .argument('<user>', 'the login name or TRIBUTARY_USER the user works under')
    .requiredOption('--workspace <ws>', 'the workspace')
    .addOption(jsonFlag())
    .action(async (user: string, options: { workspace: string; json?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const store = await ctx.store();
        const ws = await requireWorkspace(store, options.workspace);
        await store.addWorkspaceAdmin(ws, user, ctx.operator);
        const out = outputFor(io, options);
        out.say(`"${user.trim()}" is an administrator of workspace "${ws}" (added by "${ctx.operator}").`);
        out.result({ workspace: ws, user: user.trim(), admin: true, by: ctx.operator });
      });
    });
  admins
    .command('remove')
    .description("take a user's administrator role away (you must be one; the last one stays)")
    .argument('<user>', 'the administrator to remove')
    .requiredOption('--workspace <ws>', 'the workspace')
    .addOption(jsonFlag())
    .action(async (user: string, options: { workspace: string; json?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const store = await ctx.store();
        const ws = await requireWorkspace(store, options.workspace);
        await store.removeWorkspaceAdmin(ws, user, ctx.operator);
        const out = outputFor(io, options);
        out.say(`"${user.trim()}" is no longer an administrator of workspace "${ws}".`);
        out.result({ workspace: ws, user: user.trim(), admin: false, by: ctx.operator });
      });
    });
}
