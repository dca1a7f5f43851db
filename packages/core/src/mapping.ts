import { z } from 'zod';
import { ConfigError } from './errors.js';
import { findTable, type ColumnType, type DataModel, type TableSpec } from './data-model.js';
import { identifierSchema } from './identifiers.js';
import { issueSentence, pathName } from './validation.js';
import { parseTimestamp } from './time.js';

/** How a source value is converted before it is stored. */
export const TRANSFORMS = ['none', 'string', 'integer', 'number', 'boolean', 'email', 'timestamp', 'json'] as const;
/** A value conversion. */
export type Transform = (typeof TRANSFORMS)[number];

/** Column types each transform may write into. */
const TRANSFORM_TARGETS: Record<Transform, readonly ColumnType[]> = {
  // JSON columns take only the `json` transform, so that a store can trust what it receives is JSON.
  none: ['text', 'integer', 'bigint', 'numeric', 'boolean'],
  string: ['text'],
  integer: ['integer', 'bigint', 'numeric'],
  number: ['numeric', 'integer', 'bigint'],
  boolean: ['boolean'],
  email: ['text'],
  timestamp: ['timestamp'],
  json: ['json', 'text'],
};

/**
 * A source path. Relative paths (`form.id`, `question_index`) read from the row's scope: the record,
 * or the array element for tables with one row per element. `$record` (or `$record.id`) reads from
 * the whole record, and `$meta.<name>` from the run (for example `$meta.backfill`).
 */
export const SOURCE_PATH_PATTERN = /^(\$record|\$meta\.[a-z_]+|(\$record\.)?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*)$/;

/** One data mapping: where a source value goes, how it is converted, and whether it is active. */
export const mappingSchema = z.object({
  /** Source path in the record; see {@link SOURCE_PATH_PATTERN}. */
  source: z.string().regex(SOURCE_PATH_PATTERN, 'must be a dotted path such as form.id, $record.id or $meta.backfill'),
  /** The column the value is written to. */
  target: z.object({ table: identifierSchema, column: identifierSchema }),
  /** Conversion applied to the value. */
  transform: z.enum(TRANSFORMS).default('none'),
  /** A disabled mapping leaves its column NULL. */
  enabled: z.boolean().default(true),
});
/** One data mapping. */
export type Mapping = z.infer<typeof mappingSchema>;
/** A mapping as written by hand, before defaults. */
export type MappingInput = z.input<typeof mappingSchema>;

/** The source paths a connector's records offer, so that a mapping of a path that does not exist is refused. */
export interface SourceFields {
  /** Paths relative to the record. */
  record: readonly string[];
  /** Paths relative to the elements of an array, keyed by the array's path. */
  each?: Readonly<Record<string, readonly string[]>>;
  /** Objects whose keys are free (e.g. `merge_tags`): any path below them is accepted. */
  openObjects?: readonly string[];
  /** Run context values offered under `$meta.`. */
  meta?: readonly string[];
}

/** Values a mapping produces; timestamps are ISO-8601 UTC strings and JSON is serialized text. */
export type CellValue = string | number | boolean | null;
/** A row ready for the store: column → value. */
export type Row = Record<string, CellValue>;
/** Rows per app table. */
export type MappedRows = Record<string, Row[]>;

/** Run context that `$meta.` paths and transforms read. */
export interface MappingMeta {
  /** Whether the records come from the first backfill, so that no campaign fires on old news. */
  backfill: boolean;
  /** Time zone of timestamps that carry no UTC offset. */
  timeZone: string;
  /** Any further values a connector offers under `$meta.`. */
  [name: string]: CellValue;
}

function knownPathsFor(table: TableSpec, fields: SourceFields): readonly string[] {
  return table.rowsFrom.kind === 'record' ? fields.record : (fields.each?.[table.rowsFrom.path] ?? []);
}

function sourceIsKnown(source: string, table: TableSpec, fields: SourceFields): boolean {
  if (source === '$record') return true;
  if (source.startsWith('$meta.')) return (fields.meta ?? ['backfill']).includes(source.slice(6));
  const absolute = source.startsWith('$record.');
  const path = absolute ? source.slice(8) : source;
  const known = absolute ? fields.record : knownPathsFor(table, fields);
  if (known.includes(path)) return true;
  const open = absolute || table.rowsFrom.kind === 'record' ? (fields.openObjects ?? []) : [];
  return open.some((prefix) => path.startsWith(`${prefix}.`) && path.length > prefix.length + 1);
}

/**
 * Checks mappings against the data model (and, when given, the source fields): every target exists
 * with a type the transform can write, no column is fed twice, and every key column is fed.
 * Throws a ConfigError listing every problem, so that an invalid edit changes nothing.
 */
export function validateMappings(
  input: readonly MappingInput[],
  model: DataModel,
  fields?: SourceFields,
): Mapping[] {
  const mappings = z.array(mappingSchema).safeParse(input);
  const problems: string[] = [];
  if (!mappings.success) {
    for (const issue of mappings.error.issues) {
      // A mapping is known by the column it feeds, not by its position in a list nobody sees.
      const [index, ...field] = issue.path;
      const target = typeof index === 'number' ? (input[index] as { target?: { table?: unknown; column?: unknown } } | undefined)?.target : undefined;
      const which = target && typeof target.table === 'string' && typeof target.column === 'string' ? `the mapping to ${target.table}.${target.column}` : `mapping ${typeof index === 'number' ? index + 1 : ''}`.trim();
      problems.push(`${which}: ${field.length > 0 ? `${pathName(field)} ` : ''}${issueSentence(issue)}`);
    }
    throw new ConfigError('MAPPING_INVALID', `Invalid data mappings: ${problems.join('; ')}`);
  }
  const fed = new Map<string, string>();
  for (const mapping of mappings.data) {
    const target = `${mapping.target.table}.${mapping.target.column}`;
    const table = findTable(model, mapping.target.table);
    const column = table?.columns.find((c) => c.name === mapping.target.column);
    if (!table) {
      problems.push(`${mapping.source} → ${target}: the data model has no table "${mapping.target.table}"`);
      continue;
    }
    if (!column) {
      problems.push(`${mapping.source} → ${target}: table "${table.name}" has no column "${mapping.target.column}"`);
      continue;
    }
    if (!TRANSFORM_TARGETS[mapping.transform].includes(column.type)) {
      problems.push(
        `${mapping.source} → ${target}: transform "${mapping.transform}" cannot write a ${column.type} column (it writes ${TRANSFORM_TARGETS[mapping.transform].join(', ')})`,
      );
    }
    if (fields && !sourceIsKnown(mapping.source, table, fields)) {
      problems.push(`${mapping.source} → ${target}: "${mapping.source}" is not a field of the source`);
    }
    if (!mapping.enabled) continue;
    const previous = fed.get(target);
    if (previous) problems.push(`${target} is fed by both "${previous}" and "${mapping.source}"`);
    fed.set(target, mapping.source);
  }
  for (const table of model.tables) {
    for (const key of table.key) {
      if (!fed.has(`${table.name}.${key}`)) {
        problems.push(`key column ${table.name}.${key} has no enabled mapping`);
      }
    }
  }
  if (problems.length > 0) {
    throw new ConfigError('MAPPING_INVALID', `Invalid data mappings: ${problems.join('; ')}`, {
      hint: 'Fix the listed mappings, or reset them to the defaults.',
    });
  }
  return mappings.data;
}

function readPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

const NUMERIC_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

// A record's timestamp is read once per row it feeds (a response and each of its answers), so the
// last conversion is remembered.
let lastTimestamp: { text: string; timeZone: string; iso: string | null } | undefined;

function timestampText(text: string, timeZone: string): string | null {
  if (lastTimestamp && lastTimestamp.text === text && lastTimestamp.timeZone === timeZone) return lastTimestamp.iso;
  const ms = parseTimestamp(text, timeZone);
  const iso = ms === undefined ? null : new Date(ms).toISOString();
  lastTimestamp = { text, timeZone, iso };
  return iso;
}

// A local part of RFC 5322 atoms (letters of any script allowed), "@", and a domain of at least two
// labels. Phone numbers, spreadsheet formulas and free text fail it.
const EMAIL_PATTERN = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}\p{N}]{2,63}$/u;

/**
 * Whether `email` (trimmed, lower-cased) can link a response to a customer. A value starting with
 * "=", "+", "-" or "@" is refused even when it parses: spreadsheets run such a cell as a formula
 * when a profile is exported, and no real mailbox needs that first character.
 */
export function isUsableEmail(email: string): boolean {
  return email.length <= 320 && !/^[=+\-@]/.test(email) && EMAIL_PATTERN.test(email);
}

/** Converts one source value. Anything that cannot be converted becomes NULL rather than a wrong value. */
export function applyTransform(value: unknown, transform: Transform, timeZone: string): CellValue {
  if (value === undefined || value === null) return null;
  switch (transform) {
    case 'none':
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
      return JSON.stringify(value);
    case 'string':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'integer': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && NUMERIC_TEXT.test(value.trim()) ? Number(value) : NaN;
      return Number.isSafeInteger(n) ? n : null;
    }
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? value : null;
      if (typeof value === 'string' && NUMERIC_TEXT.test(value.trim())) return Number(value.trim());
      return null;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 1 || value === '1') return true;
      if (value === 'false' || value === 0 || value === '0') return false;
      return null;
    case 'email': {
      if (typeof value !== 'string') return null;
      const email = value.trim().toLowerCase();
      return isUsableEmail(email) ? email : null;
    }
    case 'timestamp':
      return typeof value === 'string' ? timestampText(value, timeZone) : null;
    case 'json':
      return JSON.stringify(value);
  }
}

interface CompiledMapping {
  readonly column: string;
  readonly transform: Transform;
  readonly read: (scope: unknown, record: unknown, meta: MappingMeta) => unknown;
}

interface CompiledTable {
  readonly spec: TableSpec;
  readonly mappings: readonly CompiledMapping[];
  readonly arrayPath: readonly string[] | undefined;
}

/** Mappings prepared once per run, so that applying them to thousands of records does no parsing. */
export interface CompiledMappings {
  readonly tables: readonly CompiledTable[];
}

function compileSource(source: string): CompiledMapping['read'] {
  if (source === '$record') return (_scope, record) => record;
  if (source.startsWith('$meta.')) {
    const name = source.slice(6);
    return (_scope, _record, meta) => meta[name];
  }
  if (source.startsWith('$record.')) {
    const path = source.slice(8).split('.');
    return (_scope, record) => readPath(record, path);
  }
  const path = source.split('.');
  return (scope) => readPath(scope, path);
}

/** Prepares validated mappings for {@link applyMappings}. */
export function compileMappings(mappings: readonly Mapping[], model: DataModel): CompiledMappings {
  return {
    tables: model.tables.map((spec) => ({
      spec,
      arrayPath: spec.rowsFrom.kind === 'each' ? spec.rowsFrom.path.split('.') : undefined,
      mappings: mappings
        .filter((m) => m.enabled && m.target.table === spec.name)
        .map((m) => ({ column: m.target.column, transform: m.transform, read: compileSource(m.source) })),
    })),
  };
}

function keyOf(row: Row, key: readonly string[]): string | undefined {
  let text = '';
  for (const column of key) {
    const value = row[column];
    if (value === null || value === undefined) return undefined;
    text += `${String(value)}\u0000`;
  }
  return text;
}

/**
 * Applies mappings to a batch of records: a pure function from records to rows per table. A row
 * whose key is incomplete (a response without a mailing yields no mailing row) is left out, and
 * rows that share a key are collapsed to the last one, so that a batch never holds a key twice.
 */
export function applyMappings(records: readonly unknown[], compiled: CompiledMappings, meta: MappingMeta): MappedRows {
  const out: MappedRows = {};
  for (const table of compiled.tables) {
    const byKey = new Map<string, Row>();
    const emit = (scope: unknown, record: unknown): void => {
      const row: Row = {};
      for (const m of table.mappings) row[m.column] = applyTransform(m.read(scope, record, meta), m.transform, meta.timeZone);
      for (const column of table.spec.columns) if (!(column.name in row)) row[column.name] = null;
      const key = keyOf(row, table.spec.key);
      if (key === undefined) return;
      byKey.delete(key);
      byKey.set(key, row);
    };
    for (const record of records) {
      if (!table.arrayPath) {
        emit(record, record);
        continue;
      }
      const elements = readPath(record, table.arrayPath);
      if (Array.isArray(elements)) for (const element of elements) emit(element, record);
    }
    out[table.spec.name] = [...byKey.values()];
  }
  return out;
}

/**
 * How many of `records` give the record table `table` a row (their key is complete): the records a
 * run counts for it. A connector whose streams carry reference data (a form and its fields) has
 * records that never make a row of its primary table, and those are neither responses nor doubles.
 */
export function countRecordsWithRow(records: readonly unknown[], compiled: CompiledMappings, table: string, meta: MappingMeta): number {
  const target = compiled.tables.find((t) => t.spec.name === table);
  if (!target || target.arrayPath) return records.length;
  const keys = target.mappings.filter((m) => target.spec.key.includes(m.column));
  let count = 0;
  for (const record of records) {
    const complete = target.spec.key.every((column) => {
      const mapping = keys.find((m) => m.column === column);
      return mapping !== undefined && applyTransform(mapping.read(record, record, meta), mapping.transform, meta.timeZone) !== null;
    });
    if (complete) count += 1;
  }
  return count;
}
