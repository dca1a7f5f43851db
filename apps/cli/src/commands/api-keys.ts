import type { Command } from 'commander';
import { ConfigError } from '@tributary/core';
import { withContext } from '../context.js';
import { println, type Io } from '../io.js';
import { jsonFlag, outputFor } from '../cli-options.js';
import { formatTable } from '../text-table.js';
import { parseWorkspace, requireWorkspace } from '../workspace.js';
import { apiKeyJson, authFor, cliActor, keyStatus, parseExpiry, parseRole } from '../identity-format.js';

/** Registers `tributary api-keys create|list|revoke`: keys scripts call the HTTP API with. */
export function registerApiKeys(program: Command, io: Io): void {
  const keys = program.command('api-keys').description('API keys for scripts: scoped to one workspace and a role, shown once, stored hashed');

  keys
    .command('create')
    .description('create an API key and print it, once')
    .requiredOption('--workspace <ws>', 'the workspace the key may act in (created if it does not exist yet)')
    .requiredOption('--role <role>', 'admin, marketer or viewer')
    .requiredOption('--name <name>', 'what the key is for, e.g. "nightly export"')
    .option('--expires <when>', 'a duration (90d, 12h, 2w) or a date (2027-01-31); without it the key lasts until revoked')
    .addOption(jsonFlag())
    .action(async (options: { workspace: string; role: string; name: string; expires?: string; json?: boolean }) => {
      const workspace = parseWorkspace(options.workspace);
      const role = parseRole(options.role);
      const expiresAt = options.expires === undefined ? undefined : parseExpiry(options.expires, new Date());
      await withContext(io, async (ctx) => {
        const auth = await authFor(ctx);
        const { key, secret } = await auth.createApiKey({ workspace, role, name: options.name, actor: cliActor(ctx), ...(expiresAt ? { expiresAt } : {}) });
        const out = outputFor(io, options);
        out.say(
          `Created API key ${key.id} "${key.name}", ${role} of workspace "${workspace}"${key.expiresAt ? `, expires ${key.expiresAt.toISOString()}` : ', does not expire'}.`,
        );
        out.say('The key (shown only now; Tributary keeps only its hash):');
        if (!out.json) println(io.stdout, secret);
        out.result({ key: apiKeyJson(key), secret });
      });
    });

  keys
    .command('list')
    .description('list the API keys of a workspace (never the keys themselves)')
    .requiredOption('--workspace <ws>', 'the workspace')
    .addOption(jsonFlag())
    .action(async (options: { workspace: string; json?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const store = await ctx.existingStore();
        const workspace = await requireWorkspace(store, options.workspace);
        const list = await store.listApiKeys(workspace);
        if (options.json) {
          println(io.stdout, JSON.stringify(list.map(apiKeyJson), null, 2));
          return;
        }
        if (list.length === 0) {
          println(io.stdout, `Workspace "${workspace}" has no API keys. Create one: tributary api-keys create --workspace ${workspace} --role viewer --name <name>`);
          return;
        }
        const now = new Date();
        println(
          io.stdout,
          formatTable(
            ['id', 'key', 'name', 'role', 'state', 'expires', 'last used'],
            list.map((k) => [k.id, `${k.prefix}…`, k.name, k.role, keyStatus(k, now), k.expiresAt?.toISOString() ?? 'never', k.lastUsedAt?.toISOString() ?? 'never']),
          ),
        );
      });
    });

  keys
    .command('revoke')
    .description('revoke an API key: it stops working at once')
    .argument('<id>', 'the key id, as `api-keys list` shows it')
    .requiredOption('--workspace <ws>', 'the workspace of the key')
    .addOption(jsonFlag())
    .action(async (id: string, options: { workspace: string; json?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const workspace = await requireWorkspace(await ctx.store(), options.workspace);
        const auth = await authFor(ctx);
        const before = (await auth.listApiKeys(workspace)).find((k) => k.id === id.trim());
        const revoked = await auth.revokeApiKey({ workspace, id: id.trim(), actor: cliActor(ctx) });
        if (!before) {
          throw new ConfigError('API_KEY_NOT_FOUND', `Workspace "${workspace}" has no API key ${id.trim()}.`, {
            hint: `List its keys with: tributary api-keys list --workspace ${workspace}`,
          });
        }
        const out = outputFor(io, options);
        out.say(revoked ? `Revoked API key ${before.id} "${before.name}" (${before.prefix}…).` : `API key ${before.id} "${before.name}" was revoked already.`);
        out.result({ id: before.id, workspace, revoked: true, changed: revoked });
      });
    });
}
