import type { Command } from 'commander';
import { parseUserInput } from '@tributary/core';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';
import { formatTable } from '../text-table.js';
import { workspaceSchema } from '../workspace.js';

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
      const ws = parseUserInput(workspaceSchema, options.workspace, 'workspace');
      await withContext(io, async (ctx) => {
        const list = await (await ctx.existingStore()).listWorkspaceAdmins(ws);
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
    .action(async (user: string, options: { workspace: string }) => {
      const ws = parseUserInput(workspaceSchema, options.workspace, 'workspace');
      await withContext(io, async (ctx) => {
        await (await ctx.store()).addWorkspaceAdmin(ws, user, ctx.operator);
        println(io.stdout, `"${user.trim()}" is an administrator of workspace "${ws}" (added by "${ctx.operator}").`);
      });
    });
  admins
    .command('remove')
    .description("take a user's administrator role away (you must be one; the last one stays)")
    .argument('<user>', 'the administrator to remove')
    .requiredOption('--workspace <ws>', 'the workspace')
    .action(async (user: string, options: { workspace: string }) => {
      const ws = parseUserInput(workspaceSchema, options.workspace, 'workspace');
      await withContext(io, async (ctx) => {
        await (await ctx.store()).removeWorkspaceAdmin(ws, user, ctx.operator);
        println(io.stdout, `"${user.trim()}" is no longer an administrator of workspace "${ws}".`);
      });
    });
}
