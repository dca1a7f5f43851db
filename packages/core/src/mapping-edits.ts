import { z } from 'zod';
import { COLUMN_TYPES, dataModelSchema, findTable, type ColumnType, type DataModel } from './data-model.js';
import { ConfigError } from './errors.js';
import { TRANSFORMS, validateMappings, type Mapping, type Transform } from './mapping.js';
import { describeIssues } from './validation.js';
import { identifierSchema } from './identifiers.js';
import { type ConnectorDefinition } from './connector.js';

// The data-mapping edits of `tributary mappings`, as pure functions from an installation's mappings
// and data model to new ones. Every edit is validated as a whole (targets, types, source fields,
// key columns) before anything is stored, so that an invalid edit changes nothing.

/** A mapping target as the operator writes it: `table.column`. */
export interface Target {
  table: string;
  column: string;
}

/** The result of an edit: what to store. */
export interface MappingEdit {
  mappings: Mapping[];
  /** Set when the edit added a column to the data model. */
  dataModel?: DataModel;
  /** What changed, for the operator. */
  summary: string;
}

/** The transform a new column of a type gets unless one is chosen. */
export const DEFAULT_TRANSFORM: Readonly<Record<ColumnType, Transform>> = {
  text: 'string',
  integer: 'integer',
  bigint: 'integer',
  numeric: 'number',
  boolean: 'boolean',
  timestamp: 'timestamp',
  json: 'json',
};

const transformSchema = z.enum(TRANSFORMS);
const columnTypeSchema = z.enum(COLUMN_TYPES);

function refuse(message: string, hint?: string): never {
  throw new ConfigError('MAPPING_INVALID', message, hint ? { hint } : {});
}

/** Reads `table.column`, each part a safe identifier; anything else (quotes, SQL, upper case) is refused. */
export function parseTarget(text: string): Target {
  const parts = text.split('.');
  if (parts.length !== 2) refuse(`"${text}" is not a column: write it as table.column, e.g. form_responses.device_type.`);
  const [table, column] = parts as [string, string];
  for (const [what, name] of [['table', table], ['column', column]] as const) {
    const valid = identifierSchema.safeParse(name);
    if (!valid.success) refuse(`Invalid ${what} name "${name}": ${describeIssues(valid.error)}.`);
  }
  return { table, column };
}

/** Reads a transform name, listing the valid ones on failure. */
export function parseTransform(text: string): Transform {
  const parsed = transformSchema.safeParse(text);
  if (!parsed.success) refuse(`Unknown transform "${text}"; use one of ${TRANSFORMS.join(', ')}.`);
  return parsed.data;
}

/** Reads a column type, listing the valid ones on failure. */
export function parseColumnType(text: string): ColumnType {
  const parsed = columnTypeSchema.safeParse(text);
  if (!parsed.success) refuse(`Unknown column type "${text}"; use one of ${COLUMN_TYPES.join(', ')}.`);
  return parsed.data;
}

const same = (a: Target, b: Target) => a.table === b.table && a.column === b.column;
const name = (t: Target) => `${t.table}.${t.column}`;

/** The index of the mapping that feeds `target`: the enabled one, else the only one; optionally of one source. */
function mappingIndexOf(mappings: readonly Mapping[], target: Target, source?: string): number {
  const candidates = mappings
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => same(m.target, target) && (source === undefined || m.source === source));
  if (candidates.length === 0) {
    refuse(`No mapping feeds ${name(target)}${source ? ` from "${source}"` : ''}.`, 'List them with `tributary mappings list`; map a new field with `mappings add`.');
  }
  const enabled = candidates.filter(({ m }) => m.enabled);
  if (enabled.length === 1) return enabled[0]!.i;
  if (candidates.length === 1) return candidates[0]!.i;
  return refuse(`Several mappings feed ${name(target)}; say which with --source.`);
}

/** Checks the edited mappings (and model) as a whole; throws a ConfigError listing every problem. */
function validated(edit: MappingEdit, model: DataModel, connector: ConnectorDefinition): MappingEdit {
  const mappings = validateMappings(edit.mappings, edit.dataModel ?? model, connector.sourceFields);
  return { ...edit, mappings };
}

/** Options of {@link setMapping}. */
export interface SetOptions {
  /** Point the mapping at another column. */
  to?: Target;
  /** Read another source path. */
  source?: string;
  transform?: Transform;
}

/**
 * Changes the mapping that feeds `target`: points it at another column (`to`), makes it read another
 * source path, or changes its transform. A column no mapping feeds gets a new one (needs `source`).
 */
export function setMapping(mappings: readonly Mapping[], model: DataModel, connector: ConnectorDefinition, target: Target, options: SetOptions): MappingEdit {
  if (!options.to && options.source === undefined && options.transform === undefined) {
    refuse('Nothing to change: give --to <table.column>, --source <path> or --transform <transform>.');
  }
  const next = mappings.map((m) => ({ ...m, target: { ...m.target } }));
  const fed = next.some((m) => same(m.target, target));
  if (!fed) {
    if (options.source === undefined) refuse(`No mapping feeds ${name(target)}; give --source <path> to map one.`);
    const column = findTable(model, target.table)?.columns.find((c) => c.name === target.column);
    const transform = options.transform ?? (column ? DEFAULT_TRANSFORM[column.type] : 'none');
    next.push({ source: options.source, target: options.to ?? target, transform, enabled: true });
  } else {
    const mapping = next[mappingIndexOf(next, target)]!;
    if (options.to) mapping.target = options.to;
    if (options.source !== undefined) mapping.source = options.source;
    if (options.transform !== undefined) mapping.transform = options.transform;
  }
  const changed = [options.to && `now feeds ${name(options.to)}`, options.source !== undefined && `reads "${options.source}"`, options.transform && `transform ${options.transform}`]
    .filter(Boolean)
    .join(', ');
  return validated({ mappings: next, summary: `The mapping of ${name(target)} ${changed}.` }, model, connector);
}

/** Switches the mapping of `target` off (its column stays, left NULL for new rows) or on again. */
export function toggleMapping(
  mappings: readonly Mapping[],
  model: DataModel,
  connector: ConnectorDefinition,
  target: Target,
  enabled: boolean,
  source?: string,
): MappingEdit {
  const next = mappings.map((m) => ({ ...m }));
  const candidates = next.filter((m) => same(m.target, target) && (source === undefined || m.source === source));
  const pick = enabled ? candidates.filter((m) => !m.enabled) : candidates.filter((m) => m.enabled);
  if (candidates.length === 0) refuse(`No mapping feeds ${name(target)}${source ? ` from "${source}"` : ''}.`);
  if (pick.length === 0) refuse(`The mapping of ${name(target)} is already ${enabled ? 'enabled' : 'disabled'}.`);
  if (pick.length > 1) refuse(`Several mappings of ${name(target)} are ${enabled ? 'disabled' : 'enabled'}; say which with --source.`);
  pick[0]!.enabled = enabled;
  return validated({ mappings: next, summary: `${enabled ? 'Enabled' : 'Disabled'} the mapping "${pick[0]!.source}" → ${name(target)}.` }, model, connector);
}

/**
 * Maps an extra source path (a merge_tags key, say) to a new nullable column of one of the app's
 * tables, with a declared type; the store adds the column when the edit is saved.
 */
export function addMapping(
  mappings: readonly Mapping[],
  model: DataModel,
  connector: ConnectorDefinition,
  source: string,
  target: Target,
  type: ColumnType,
  transform?: Transform,
): MappingEdit {
  const table = findTable(model, target.table);
  if (!table) refuse(`The app has no table "${target.table}"; its tables are ${model.tables.map((t) => t.name).join(', ')}.`);
  if (table.columns.some((c) => c.name === target.column)) {
    refuse(`${name(target)} already exists; point a mapping at it with \`mappings set\` instead.`);
  }
  const dataModel = dataModelSchema.safeParse({
    ...model,
    tables: model.tables.map((t) =>
      t.name === table.name ? { ...t, columns: [...t.columns, { name: target.column, type, nullable: true, description: `Added by the operator: ${source}` }] } : t,
    ),
  });
  if (!dataModel.success) refuse(`The new column does not fit the data model: ${describeIssues(dataModel.error)}`);
  const mapping: Mapping = { source, target, transform: transform ?? DEFAULT_TRANSFORM[type], enabled: true };
  return validated(
    { mappings: [...mappings, mapping], dataModel: dataModel.data, summary: `Mapped "${source}" to the new ${type} column ${name(target)}.` },
    model,
    connector,
  );
}

/** The connector's default mappings; columns added earlier stay in the data model, no longer fed. */
export function resetMappings(model: DataModel, connector: ConnectorDefinition): MappingEdit {
  return validated({ mappings: connector.defaultMappings.map((m) => ({ ...m, target: { ...m.target } })), summary: 'Reset the mappings to the defaults.' }, model, connector);
}

/** How a mapping compares with the connector's defaults, for `mappings list`. */
export function mappingState(mapping: Mapping, connector: ConnectorDefinition): 'default' | 'changed' | 'added' | 'off' {
  if (!mapping.enabled) return 'off';
  const inDefaultModel = findTable(connector.dataModel, mapping.target.table)?.columns.some((c) => c.name === mapping.target.column);
  if (!inDefaultModel) return 'added';
  const isDefault = connector.defaultMappings.some(
    (d) => d.enabled && same(d.target, mapping.target) && d.source === mapping.source && d.transform === mapping.transform,
  );
  return isDefault ? 'default' : 'changed';
}
