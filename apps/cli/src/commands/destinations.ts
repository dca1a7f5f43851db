import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  ConfigError,
  configFieldsOf,
  describeIssues,
  parseUserInput,
  type DeliveryRecord,
  type DestinationStore,
  type Store,
  type StoredDestination,
} from '@tributary/core';
import { jsonFlag, outputFor } from '../cli-options.js';
import { withContext, type CliContext } from '../context.js';
import { destinationById, destinationFor, knownDestinations } from '../connectors.js';
import { destinationLimitsOf } from '../env.js';
import { collect } from '../install-settings.js';
import type { Io } from '../io.js';
import { formatTable } from '../text-table.js';
import { requireWorkspace, requireWorkspaceAdmin } from '../workspace.js';

// `tributary destinations add|list|test|remove`, `tributary profiles activate|deactivate` and
// `tributary deliveries`: where profiles send who entered and who left, and how that went.

type DestinationsStore = Store & DestinationStore & { viewName?(bareName: string): string };

/** The store with its destinations role (every store Tributary opens has it). */
async function storeOf(ctx: CliContext, change: boolean): Promise<DestinationsStore> {
  const store = (change ? await ctx.store() : await ctx.existingStore()) as DestinationsStore;
  if (typeof store.listDestinations !== 'function') throw new ConfigError('CONFIG_INVALID', 'This store keeps no destinations.');
  return store;
}

/** The settings given with `--set key=value` (`key=@file` reads a file, `key=-` standard input), typed by the destination's schema. */
async function settingsOf(io: Io, type: string, sets: readonly string[]): Promise<Record<string, unknown>> {
  const definition = destinationById(type);
  const fields = configFieldsOf({ configSchema: definition.configSchema, secrets: definition.secrets as readonly string[] });
  const input: Record<string, unknown> = {};
  for (const entry of sets) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ConfigError('USAGE', `--set takes key=value, key=@file or key=-, got "${entry.includes('=') ? entry.slice(0, eq + 1) : entry.slice(0, 40)}".`);
    const name = entry.slice(0, eq).trim();
    const field = fields.find((f) => f.name === name);
    if (!field) {
      throw new ConfigError('USAGE', `A ${definition.id} destination has no setting "${name}".`, { hint: `Its settings: ${fields.map((f) => f.name).join(', ')}.` });
    }
    let text = entry.slice(eq + 1);
    if (text === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of io.stdin ?? []) chunks.push(Buffer.from(chunk as Buffer));
      text = Buffer.concat(chunks).toString('utf8').trim();
    } else if (text.startsWith('@')) {
      try {
        text = readFileSync(text.slice(1), 'utf8').trim();
      } catch (error) {
        throw new ConfigError('SECRET_FILE_UNREADABLE', `Cannot read the file ${text.slice(1)} given with --set ${name}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
      }
    }
    input[name] = field.type === 'number' ? Number(text) : field.type === 'boolean' ? text === 'true' : text;
  }
  const parsed = definition.configSchema.safeParse(input);
  if (!parsed.success) {
    // The issues name fields and rules, never the values given (a secret among them).
    throw new ConfigError('DESTINATION_INVALID', `Invalid settings for a ${definition.id} destination: ${describeIssues(parsed.error)}`, {
      hint: `tributary destinations add ${definition.id} --help lists them.`,
    });
  }
  return parsed.data as Record<string, unknown>;
}

function destinationJson(d: StoredDestination) {
  return { name: d.name, workspace: d.workspace, type: d.type, kind: d.kind, settings: d.config, secrets: d.secretFields, createdAt: d.createdAt.toISOString() };
}

function deliveryJson(d: DeliveryRecord) {
  return {
    batch: d.id,
    workspace: d.workspace,
    destination: d.destination,
    profile: d.profile,
    reason: d.reason,
    count: d.count,
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt.toISOString(),
    nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    lastError: d.lastError,
  };
}

const statusSchema = z.enum(['pending', 'delivered', 'dead']);
const limitSchema = z.coerce.number().int().min(1).max(10_000);

function typesHelp(): string {
  const lines = ['', 'Destination types (settings, each given with --set <name>=<value>):'];
  for (const { destination, builtIn, package: pkg } of knownDestinations()) {
    lines.push(`  ${destination.id}  ${destination.description ?? destination.displayName}${builtIn ? '' : ` (${pkg})`}`);
    for (const field of configFieldsOf({ configSchema: destination.configSchema, secrets: destination.secrets as readonly string[] })) {
      const notes = [field.required ? 'required' : field.default !== undefined ? `default ${JSON.stringify(field.default)}` : 'optional', ...(field.secret ? ['secret: give it as @file or - (standard input)'] : [])];
      lines.push(`      ${field.name}: ${field.description ?? ''} (${notes.join('; ')})`);
    }
  }
  return lines.join('\n');
}

/** Registers `destinations …` and `deliveries`. */
export function registerDestinations(program: Command, io: Io): void {
  const destinations = program.command('destinations').description('where profiles send who entered and who left: webhooks, file drops, database views');

  destinations
    .command('add')
    .description('add a destination to a workspace')
    .argument('<type>', 'webhook, file, view, or a type a plugin adds')
    .argument('<name>', 'its name in the workspace')
    .requiredOption('--workspace <ws>', 'workspace')
    .option('--set <key=value>', 'one setting: key=value, key=@file or key=- (standard input); repeatable', collect, [])
    .addOption(jsonFlag())
    .addHelpText('after', () => typesHelp())
    .action(async (type: string, name: string, options: { workspace: string; set: string[]; json?: boolean }) => {
      const out = outputFor(io, options);
      const definition = destinationById(type);
      const config = await settingsOf(io, type, options.set);
      await withContext(io, async (ctx) => {
        const store = await storeOf(ctx, true);
        const workspace = await requireWorkspace(store, options.workspace);
        await requireWorkspaceAdmin(store, workspace, ctx.operator, 'add destinations');
        await definition.admit?.(config, { limits: destinationLimitsOf(ctx.env), addedBy: 'operator' });
        const added = await store.addDestination(
          { workspace, name, type: definition.id, kind: definition.kind, snapshot: Boolean(definition.snapshot), config, secretFields: [...(definition.secrets as readonly string[])] },
          new Date(),
        );
        out.say(`Added ${definition.id} destination "${added.name}" to workspace ${workspace}. Send a profile's changes to it: tributary profiles activate <profile> --destination "${added.name}" --workspace ${workspace}`);
        out.result(destinationJson(added));
      });
    });

  destinations
    .command('list')
    .description('list the destinations and the profiles activated to them (secrets are never shown)')
    .option('--workspace <ws>', 'only this workspace')
    .addOption(jsonFlag())
    .action(async (options: { workspace?: string; json?: boolean }) => {
      const out = outputFor(io, options);
      await withContext(io, async (ctx) => {
        const store = await storeOf(ctx, false);
        const workspace = options.workspace === undefined ? undefined : await requireWorkspace(store, options.workspace);
        const list = await store.listDestinations(workspace);
        const activations = await store.listActivations(workspace);
        const profilesOf = (d: StoredDestination) => activations.filter((a) => a.workspace === d.workspace && a.destination === d.name);
        const rows = list.map((d) => [
          d.workspace,
          d.name,
          d.type,
          Object.entries(d.config).map(([k, v]) => `${k}=${String(v)}`).concat(d.secretFields.map((k) => `${k}=***`)).join(' '),
          profilesOf(d).map((a) => (a.view ? `${a.profile} (${store.viewName?.(a.view) ?? a.view})` : a.profile)).join(', ') || '-',
        ]);
        if (rows.length === 0) out.say('No destinations. Add one with: tributary destinations add <webhook|file|view> <name> --workspace <ws> --set …');
        else out.say(formatTable(['workspace', 'name', 'type', 'settings', 'profiles'], rows));
        out.result(list.map((d) => ({ ...destinationJson(d), profiles: profilesOf(d).map((a) => ({ profile: a.profile, since: a.createdAt.toISOString(), ...(a.view ? { view: store.viewName?.(a.view) ?? a.view } : {}) })) })));
      });
    });

  destinations
    .command('test')
    .description('check a destination against its receiver (a webhook gets a signed test batch with no changes)')
    .argument('<name>', 'destination name')
    .requiredOption('--workspace <ws>', 'workspace')
    .action(async (name: string, options: { workspace: string }) => {
      await withContext(io, async (ctx) => {
        const store = await storeOf(ctx, false);
        const workspace = await requireWorkspace(store, options.workspace);
        const destination = await store.getDestination(workspace, name);
        if (!destination) throw new ConfigError('DESTINATION_NOT_FOUND', `Workspace "${workspace}" has no destination named "${name}".`, { hint: `tributary destinations list --workspace ${workspace}` });
        const definition = destinationById(destination.type);
        const config = definition.configSchema.parse(destination.config);
        const notes = definition.test ? (await definition.test({ config, name, logger: ctx.logger, limits: destinationLimitsOf(ctx.env) })).notes : [`A ${definition.id} destination has nothing to test.`];
        for (const note of notes) io.stdout.write(`${note}\n`);
      });
    });

  destinations
    .command('remove')
    .description('remove a destination with its activations (a view destination drops its views) and its queued batches')
    .argument('<name>', 'destination name')
    .requiredOption('--workspace <ws>', 'workspace')
    .action(async (name: string, options: { workspace: string }) => {
      await withContext(io, async (ctx) => {
        const store = await storeOf(ctx, true);
        const workspace = await requireWorkspace(store, options.workspace);
        await requireWorkspaceAdmin(store, workspace, ctx.operator, 'remove destinations');
        if (!(await store.removeDestination(workspace, name))) {
          throw new ConfigError('DESTINATION_NOT_FOUND', `Workspace "${workspace}" has no destination named "${name}".`, { hint: `tributary destinations list --workspace ${workspace}` });
        }
        io.stdout.write(`Removed destination "${name}" from workspace ${workspace}.\n`);
      });
    });

  program
    .command('deliveries')
    .description('the batches sent to destinations, newest first: batch id (the idempotency key), changes, status, attempts')
    .option('--workspace <ws>', 'only this workspace')
    .option('--status <status>', 'only pending, delivered or dead batches')
    .option('--limit <n>', 'at most this many', '50')
    .addOption(jsonFlag())
    .action(async (options: { workspace?: string; status?: string; limit: string; json?: boolean }) => {
      const out = outputFor(io, options);
      const status = options.status === undefined ? undefined : parseUserInput(statusSchema, options.status, '--status');
      const limit = parseUserInput(limitSchema, options.limit, '--limit');
      await withContext(io, async (ctx) => {
        const store = await storeOf(ctx, false);
        const workspace = options.workspace === undefined ? undefined : await requireWorkspace(store, options.workspace);
        const list = await store.listDeliveries({ ...(workspace ? { workspace } : {}), ...(status ? { status } : {}), limit });
        const rows = list.map((d) => [
          d.id,
          `${d.workspace}/${d.profile} → ${d.destination}`,
          `${d.count} ${d.reason === 'evaluation' ? 'change(s)' : `(${d.reason})`}`,
          d.status === 'pending' && d.nextAttemptAt ? `pending, next ${d.nextAttemptAt.toISOString()}` : d.status === 'delivered' ? `delivered ${d.deliveredAt?.toISOString() ?? ''}` : 'DEAD',
          String(d.attempts),
          d.lastError ?? '',
        ]);
        if (rows.length === 0) out.say('No deliveries yet.');
        else out.say(formatTable(['batch', 'profile → destination', 'count', 'status', 'attempts', 'last error'], rows));
        out.result(list.map(deliveryJson));
      });
    });
}

/** Adds `activate` and `deactivate` to the `profiles` command. */
export function registerActivation(program: Command, io: Io): void {
  const profiles = program.commands.find((c) => c.name() === 'profiles') ?? program.command('profiles');
  profiles
    .command('activate')
    .description('send a profile’s changes (who entered, who left) to a destination from now on; its current members are announced first')
    .argument('<profile>', 'profile name')
    .requiredOption('--destination <name>', 'destination name (tributary destinations list)')
    .requiredOption('--workspace <ws>', 'workspace')
    .action(async (profile: string, options: { destination: string; workspace: string }) => {
      await withContext(io, async (ctx) => {
        const store = await storeOf(ctx, true);
        const workspace = await requireWorkspace(store, options.workspace);
        await requireWorkspaceAdmin(store, workspace, ctx.operator, 'activate profiles to destinations');
        const activation = await store.activateProfile(workspace, profile, options.destination, new Date());
        const destination = await store.listDestinations(workspace).then((all) => all.find((d) => d.name === options.destination));
        const where = activation.view
          ? `its members are in the view ${store.viewName?.(activation.view) ?? activation.view} (email, customer_id, member_since)`
          : `the runner delivers its changes after each sync and every hour${destination && !destinationFor(destination.type) ? ` (no "${destination.type}" type is loaded here: the runner needs its package)` : ''}`;
        io.stdout.write(`Activated "${profile}" to "${options.destination}": ${where}.\n`);
      });
    });
  profiles
    .command('deactivate')
    .description('stop sending a profile’s changes to a destination (batches already queued are still delivered)')
    .argument('<profile>', 'profile name')
    .requiredOption('--destination <name>', 'destination name')
    .requiredOption('--workspace <ws>', 'workspace')
    .action(async (profile: string, options: { destination: string; workspace: string }) => {
      await withContext(io, async (ctx) => {
        const store = await storeOf(ctx, true);
        const workspace = await requireWorkspace(store, options.workspace);
        await requireWorkspaceAdmin(store, workspace, ctx.operator, 'deactivate profiles');
        if (!(await store.deactivateProfile(workspace, profile, options.destination))) {
          throw new ConfigError('DESTINATION_NOT_FOUND', `The profile "${profile}" is not activated to "${options.destination}".`, { hint: `tributary destinations list --workspace ${workspace}` });
        }
        io.stdout.write(`Deactivated "${profile}" from "${options.destination}".\n`);
      });
    });
}
