import type { Command } from 'commander';
import { ConfigError, parseUserInput } from '@tributary/core';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';
import { jsonFlag, outputFor } from '../cli-options.js';
import { formatTable } from '../text-table.js';
import { parseWorkspace, requireWorkspace } from '../workspace.js';
import { authFor, cliActor, emailArgSchema, parseRole, userJson } from '../identity-format.js';

const ROLES = 'admin, marketer or viewer';

/** Registers `tributary users create|list|reset-password|set-role`: the people who use the HTTP API. */
export function registerUsers(program: Command, io: Io): void {
  const users = program.command('users').description('users of the HTTP API and their role per workspace (the API enforces the roles; the CLI is for operators)');

  users
    .command('create')
    .description('create a user with a role in a workspace and print a one-time password, once')
    .requiredOption('--email <e>', 'the e-mail the user signs in with')
    .requiredOption('--workspace <ws>', 'the workspace (created if it does not exist yet)')
    .requiredOption('--role <role>', ROLES)
    .addOption(jsonFlag())
    .action(async (options: { email: string; workspace: string; role: string; json?: boolean }) => {
      const workspace = parseWorkspace(options.workspace);
      const role = parseRole(options.role);
      const email = parseUserInput(emailArgSchema, options.email, '--email');
      await withContext(io, async (ctx) => {
        const auth = await authFor(ctx);
        const { user, oneTimePassword } = await auth.createUser({ email, workspace, role, actor: cliActor(ctx) });
        const out = outputFor(io, options);
        out.say(`Created user ${user.email}, ${role} of workspace "${workspace}".`);
        out.say(`One-time password (shown only now; hand it over privately, the user changes it after signing in):`);
        if (!out.json) println(io.stdout, oneTimePassword);
        out.result({ user: userJson(user), oneTimePassword });
      });
    });

  users
    .command('list')
    .description('list the users of a workspace with their roles')
    .requiredOption('--workspace <ws>', 'the workspace')
    .addOption(jsonFlag())
    .action(async (options: { workspace: string; json?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const workspace = await requireWorkspace(store, options.workspace);
        const list = await store.listUsers(workspace);
        if (options.json) {
          println(io.stdout, JSON.stringify(list.map(userJson), null, 2));
          return;
        }
        if (list.length === 0) {
          println(io.stdout, `Workspace "${workspace}" has no users. Create one: tributary users create --email <e> --workspace ${workspace} --role admin`);
          return;
        }
        const now = new Date();
        const state = (u: (typeof list)[number]) =>
          u.lockedUntil && u.lockedUntil > now ? `locked until ${u.lockedUntil.toISOString()}` : u.mustChangePassword ? 'one-time password' : 'active';
        println(
          io.stdout,
          formatTable(
            ['e-mail', 'role', 'state', 'created'],
            list.map((u) => [u.email, u.memberships.find((m) => m.workspace === workspace)?.role ?? '', state(u), u.createdAt.toISOString()]),
          ),
        );
      });
    });

  users
    .command('reset-password')
    .description('give a user a new one-time password (printed once), lift a lockout and end their sessions')
    .requiredOption('--email <e>', "the user's e-mail")
    .addOption(jsonFlag())
    .action(async (options: { email: string; json?: boolean }) => {
      const email = parseUserInput(emailArgSchema, options.email, '--email');
      await withContext(io, async (ctx) => {
        const auth = await authFor(ctx);
        const { user, oneTimePassword } = await auth.resetPassword({ email, actor: cliActor(ctx) });
        const out = outputFor(io, options);
        out.say(`New one-time password of ${user.email} (shown only now; their sessions have ended and any lockout is lifted):`);
        if (!out.json) println(io.stdout, oneTimePassword);
        out.result({ user: userJson(user), oneTimePassword });
      });
    });

  users
    .command('set-role')
    .description("change a user's role in a workspace, or take it away with --role none")
    .requiredOption('--email <e>', "the user's e-mail")
    .requiredOption('--workspace <ws>', 'the workspace')
    .requiredOption('--role <role>', `${ROLES}, or none`)
    .addOption(jsonFlag())
    .action(async (options: { email: string; workspace: string; role: string; json?: boolean }) => {
      const workspace = parseWorkspace(options.workspace);
      const role = options.role.trim().toLowerCase() === 'none' ? undefined : parseRole(options.role);
      const email = parseUserInput(emailArgSchema, options.email, '--email');
      await withContext(io, async (ctx) => {
        const auth = await authFor(ctx);
        const user = await auth.findUser(email);
        if (!user) {
          throw new ConfigError('USER_NOT_FOUND', `There is no user with the e-mail "${email.trim().toLowerCase()}".`, {
            hint: `Create one: tributary users create --email ${email.trim()} --workspace ${workspace} --role <role>`,
          });
        }
        await auth.setRole({ userId: user.id, workspace, role, actor: cliActor(ctx) });
        const out = outputFor(io, options);
        out.say(role ? `${user.email} is ${role} of workspace "${workspace}".` : `${user.email} no longer has a role in workspace "${workspace}".`);
        out.result({ email: user.email, workspace, role: role ?? null });
      });
    });
}
