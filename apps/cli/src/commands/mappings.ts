import type { Command } from 'commander';
import { findTable, type ConnectorDefinition, type Installation } from '@tributary/core';
import { connectorById } from '../connectors.js';
import { withContext, type CliContext } from '../context.js';
import { println, type Io } from '../io.js';
import { jsonFlag, outputFor } from '../cli-options.js';
import {
  addMapping,
  mappingState,
  parseColumnType,
  parseTarget,
  parseTransform,
  resetMappings,
  setMapping,
  toggleMapping,
  type MappingEdit,
} from '../mapping-edits.js';
import { brokenDependencies, dependencyRefusal, forcedNotice, profilesReading } from '../mapping-dependencies.js';
import { requireInstallation } from '../workspace.js';

interface Scope {
  workspace: string;
  /** Change a mapping that profiles or the customer link depend on anyway. */
  force?: boolean;
  json?: boolean;
}

/** The mappings of an installation as rows: target, type, source, transform, state. */
export function mappingRows(installation: Installation, connector: ConnectorDefinition) {
  return installation.mappings.map((m) => ({
    target: `${m.target.table}.${m.target.column}`,
    type: findTable(installation.dataModel, m.target.table)?.columns.find((c) => c.name === m.target.column)?.type ?? '?',
    source: m.source,
    transform: m.transform,
    enabled: m.enabled,
    state: mappingState(m, connector),
  }));
}

function printMappings(io: Io, installation: Installation, connector: ConnectorDefinition): void {
  const rows = mappingRows(installation, connector);
  const width = (key: 'target' | 'type' | 'source' | 'transform') => Math.max(key.length, ...rows.map((r) => r[key].length));
  const [t, y, s, x] = [width('target'), width('type'), width('source'), width('transform')];
  println(io.stdout, `${'column'.padEnd(t)}  ${'type'.padEnd(y)}  ${'source'.padEnd(s)}  ${'transform'.padEnd(x)}  state`);
  for (const r of rows) println(io.stdout, `${r.target.padEnd(t)}  ${r.type.padEnd(y)}  ${r.source.padEnd(s)}  ${r.transform.padEnd(x)}  ${r.state}`);
  const emailColumn = installation.dataModel.customerEmailColumn;
  if (emailColumn) println(io.stdout, `\nCustomers are linked by ${installation.dataModel.primaryTable}.${emailColumn}; everything else lives in the app's own tables.`);
}

/** Applies one validated edit: new mappings, and a data model that gained a column (provisioned in the same transaction). */
async function applyEdit(
  ctx: CliContext,
  app: string,
  scope: Scope,
  edit: (installation: Installation, connector: ConnectorDefinition) => MappingEdit,
  undoOf?: (installation: Installation) => string | undefined,
): Promise<Installation> {
  const connector = connectorById(app);
  const store = await ctx.store();
  const installation = await requireInstallation(store, scope.workspace, app);
  // Throws a ConfigError naming every problem before anything is written.
  const change = edit(installation, connector);
  const broken = brokenDependencies(installation.mappings, change.mappings, change.dataModel ?? installation.dataModel, connector);
  const affected = broken.length === 0 ? [] : profilesReading(broken, await store.listProfiles(installation.workspace), installation.app);
  if (broken.length > 0 && !scope.force) throw dependencyRefusal(broken, affected);
  const updated = await store.updateInstallation(installation.id, {
    mappings: change.mappings,
    ...(change.dataModel ? { dataModel: change.dataModel } : {}),
  });
  const out = outputFor(ctx.io, scope);
  out.say(change.summary);
  if (broken.length > 0) out.say(forcedNotice(broken, affected, undoOf?.(installation)));
  out.say(`New responses use it from the next sync; apply it to the stored ones with: tributary remap ${app} --workspace ${updated.workspace}`);
  out.result({
    workspace: updated.workspace,
    app,
    summary: change.summary,
    mappings: mappingRows(updated, connector),
    ...(broken.length > 0 ? { forced: broken, profilesThatStopWorking: affected } : {}),
  });
  return updated;
}

/** Registers `tributary mappings list|set|disable|enable|add|reset`. */
export function registerMappings(program: Command, io: Io): void {
  const mappings = program.command('mappings').description("view and change an installed app's data mappings (validated before they are saved)");
  mappings
    .command('list')
    .description('list every mapping: the column it feeds, its type, the source field, the transform, and whether it is the default')
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .option('--json', 'print JSON for scripts')
    .action(async (app: string, options: Scope & { json?: boolean }) => {
      await withContext(io, async (ctx) => {
        const connector = connectorById(app);
        const installation = await requireInstallation(await ctx.existingStore(), options.workspace, app);
        if (options.json) println(io.stdout, JSON.stringify(mappingRows(installation, connector), null, 2));
        else printMappings(io, installation, connector);
      });
    });
  mappings
    .command('set')
    .description('change the mapping that feeds a column: point it at another column, read another source field, or change its transform')
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .argument('<column>', 'the column the mapping feeds now, as table.column')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .addOption(jsonFlag())
    .option('--to <column>', 'point the mapping at this column (table.column) of the app tables')
    .option('--source <path>', 'read this source field instead (e.g. merge_tags.segment)')
    .option('--transform <transform>', 'convert with this transform (string, integer, number, boolean, email, timestamp, json, none)')
    .option('--force', 'change it even when profiles or the customer link depend on it (the score, the normalized e-mail, the response key)')
    .action(async (app: string, column: string, options: Scope & { to?: string; source?: string; transform?: string }) => {
      const target = parseTarget(column);
      const edit = {
        ...(options.to ? { to: parseTarget(options.to) } : {}),
        ...(options.source !== undefined ? { source: options.source } : {}),
        ...(options.transform ? { transform: parseTransform(options.transform) } : {}),
      };
      // Undo by setting back what the mapping was: a reset would drop every other custom mapping too.
      const undoSet = (i: Installation) => {
        const before = i.mappings.find((m) => m.target.table === target.table && m.target.column === target.column);
        if (!before) return undefined;
        const moved = options.to ? parseTarget(options.to) : target;
        return `tributary mappings set ${app} ${moved.table}.${moved.column} --workspace ${i.workspace} --to ${target.table}.${target.column} --source ${before.source} --transform ${before.transform}`;
      };
      await withContext(io, (ctx) => applyEdit(ctx, app, options, (i, c) => setMapping(i.mappings, i.dataModel, c, target, edit), undoSet));
    });
  for (const enabled of [false, true]) {
    mappings
      .command(enabled ? 'enable' : 'disable')
      .description(enabled ? 'switch a mapping on again' : 'switch a mapping off: its column is left empty for new responses')
      .argument('<app>', 'the installed app (see `tributary apps`)')
      .argument('<column>', 'the column the mapping feeds, as table.column')
      .requiredOption('--workspace <ws>', 'workspace of the installation')
      .addOption(jsonFlag())
      .option('--source <path>', 'which mapping, when several feed the column')
      .option('--force', 'switch it even when profiles or the customer link depend on it')
      .action(async (app: string, column: string, options: Scope & { source?: string }) => {
        const target = parseTarget(column);
        const undoToggle = (i: Installation) =>
          `tributary mappings ${enabled ? 'disable' : 'enable'} ${app} ${target.table}.${target.column} --workspace ${i.workspace}${options.source ? ` --source ${options.source}` : ''}`;
        await withContext(io, (ctx) => applyEdit(ctx, app, options, (i, c) => toggleMapping(i.mappings, i.dataModel, c, target, enabled, options.source), undoToggle));
      });
  }
  mappings
    .command('add')
    .description("map an extra source field (a merge_tags key, device_type, …) to a new column of the app's tables")
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .argument('<source>', 'the source field, e.g. merge_tags.segment')
    .argument('<column>', 'the new column, as table.column (lower case, letters, digits and _)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .addOption(jsonFlag())
    .requiredOption('--type <type>', 'column type: text, integer, bigint, numeric, boolean, timestamp or json')
    .option('--transform <transform>', 'conversion (default: the one that fits the type)')
    .action(async (app: string, source: string, column: string, options: Scope & { type: string; transform?: string }) => {
      const target = parseTarget(column);
      const type = parseColumnType(options.type);
      const transform = options.transform ? parseTransform(options.transform) : undefined;
      await withContext(io, (ctx) => applyEdit(ctx, app, options, (i, c) => addMapping(i.mappings, i.dataModel, c, source, target, type, transform)));
    });
  mappings
    .command('reset')
    .description('restore the default mappings (columns added earlier stay, no longer filled)')
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .addOption(jsonFlag())
    .action(async (app: string, options: Scope) => {
      await withContext(io, (ctx) => applyEdit(ctx, app, options, (i, c) => resetMappings(i.dataModel, c)));
    });
}
