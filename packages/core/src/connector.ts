import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { dataModelSchema, type DataModel, type DataModelInput } from './data-model.js';
import { identifierSchema } from './identifiers.js';
import type { Logger } from './logger.js';
import { validateMappings, type Mapping, type MappingInput, type SourceFields } from './mapping.js';
import { describeIssues } from './validation.js';
import { pricingSchema, type Pricing } from './billing.js';

/** A record the stream could not accept, kept aside with the reason instead of stopping the run. */
export interface RejectedRecord {
  /** The source's id of the record when it could be read. */
  sourceId?: string;
  /** Why the record was refused, readable by an operator. */
  reason: string;
  /** The record as received, for later inspection. */
  raw: unknown;
}

/** One page a stream yields: what to store, what was refused, and how far the stream has come. */
export interface StreamPage<TRecord, TCheckpoint> {
  /** Records that passed validation. */
  records: TRecord[];
  /** Records that failed validation. */
  rejected: RejectedRecord[];
  /** The checkpoint reached once this page is stored; it commits with the page's rows. */
  checkpoint: TCheckpoint;
  /** Whether these records come from the first backfill rather than from new activity. */
  backfill: boolean;
  /** Optional progress for a progress bar: windows or pages done and in total. */
  progress?: { done: number; total: number };
  /** Records the source returned that the stream dropped because this run had already read them. */
  duplicates?: number;
  /** Whether these records lie behind the previous checkpoint: new ones among them arrived late. */
  late?: boolean;
  /** Set on the pages of a run that reads an older range again to find late records. */
  reconciliation?: { since: string; until: string };
}

/** What a stream gets to read with. */
export interface ReadContext<TConfig, TCheckpoint> {
  /** The installation's validated configuration, secrets included. */
  config: TConfig;
  /** Where the previous run stopped, or null on the first run. */
  checkpoint: TCheckpoint | null;
  /** The run's clock: a window's end is fixed from it at the start of the run. */
  now: Date;
  /** Logger, silent unless the caller injects one. */
  logger: Logger;
  /** Aborts reading, for shutdown. */
  signal?: AbortSignal;
  /** When the installation was made: records created before it are backfill, never news. */
  installedAt?: Date;
  /** Read the stream's reconciliation range again now, whenever the last pass was. */
  reconcile?: boolean;
  /** Told when reading pauses for the source (a rate limit, a retry), so that a person can be told how long and why. */
  onWait?: (wait: SourceWait) => void;
  /** Told after each request to the source with its HTTP status, or `error` when none came (metrics). */
  onRequest?: (status: number | 'error') => void;
}

/** A pause imposed by the source. */
export interface SourceWait {
  /** How long the pause lasts. */
  ms: number;
  /** The error code of the cause, e.g. SOURCE_RATE_LIMITED. */
  code: string;
  /** Why, as a sentence for a person. */
  reason: string;
}

/** A stream of records of one kind. */
export interface StreamDefinition<TConfig, TRecord, TCheckpoint> {
  /** Stream name, a safe identifier (checkpoints are stored under it). */
  name: string;
  /** Schema of one valid record. */
  recordSchema: z.ZodType<TRecord>;
  /** Schema of the stored checkpoint, checked when it is read back. */
  checkpointSchema: z.ZodType<TCheckpoint>;
  /** Reads pages from the checkpoint onwards. */
  read(ctx: ReadContext<TConfig, TCheckpoint>): AsyncIterable<StreamPage<TRecord, TCheckpoint>>;
  /**
   * Describes a stored record for the run log: its key (as the store reports inserted keys) and the
   * customer's feedback. Records without a summary are counted but not listed.
   */
  summarize?(record: TRecord): RecordSummary;
}

/** A value a run-log line shows for one named field of a record. */
export type SummaryValue = string | number | boolean | null;

/**
 * One line of a run log, the same for every connector: which record, whose it is, what it is
 * (a form or survey name, say) and a few named values, shown as `name=value`.
 */
export interface RecordSummary {
  /** The record's key as text, matching `PageWriteResult.insertedKeys`. */
  key: string;
  /** The contact the record belongs to (an e-mail, normalized), when it has one. */
  contact?: string;
  /** What the record is, such as the form or survey it answers. */
  label?: string;
  /** A few named values worth seeing in the log (a score, a comment), in the order to show them. */
  fields?: Record<string, SummaryValue>;
}

/** What a connector checks before each run, without calling the source. */
export interface Preflight {
  /** Things the operator should act on soon, such as a token about to expire. */
  warnings: string[];
}

/** Result of checking an installation's credentials and settings against the source. */
export interface ConnectionCheck {
  /** Human-readable notes, for example how long the token stays valid. */
  notes: string[];
}

/** What a connector's `check` gets. */
export interface CheckContext<TConfig> {
  config: TConfig;
  now: Date;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * A short command-line flag of `tributary install` that sets one config field, so that a connector's
 * everyday settings read as `--project acme.com` rather than `--set projectKey=acme.com`.
 */
export interface InstallFlag {
  /** The config field it sets. */
  field: string;
  /** The flag as commander spells it: `--project <key>`, or `--allow-insecure-http` for a switch. */
  flags: string;
  /** What the flag sets, for `--help`. */
  description: string;
  /**
   * How the text becomes the field's value: as is (default), a number, a switch (true when given),
   * or a duration in minutes (`90`, `90m`, `2h`, `1h30m`).
   */
  kind?: 'string' | 'number' | 'boolean' | 'minutes';
  /** For a secret field: the flag that reads it from a file instead, e.g. `--token-file <path>`. */
  fileFlags?: string;
  /** For a secret field: the environment variable read when no flag gives it, e.g. `TRIBUTARY_APP_TOKEN`. */
  envName?: string;
  /** What the value is, in a sentence: `the API token`. */
  label?: string;
}

/** A connector as its author writes it. */
export interface ConnectorSpec<TConfigSchema extends z.ZodObject> {
  /** Stable id used in commands (`closealert`), a safe identifier. */
  id: string;
  /** Semantic version of the connector. */
  version: string;
  /** Name shown to people. */
  displayName: string;
  /** What the app brings in, in a sentence or two, for the console's store page. */
  description?: string;
  /** Schema of the installation's configuration. */
  configSchema: TConfigSchema;
  /** Config fields that are secrets: encrypted at rest, never logged or printed. */
  secrets: readonly (keyof z.infer<TConfigSchema> & string)[];
  /** The tables the connector needs, declared as data. */
  dataModel: DataModelInput;
  /** The source paths records offer, so that mappings of unknown paths are refused. */
  sourceFields: SourceFields;
  /** The mappings installed by default. */
  defaultMappings: readonly MappingInput[];
  /** The connector's streams. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- records and checkpoints differ per stream
  streams: readonly StreamDefinition<z.infer<TConfigSchema>, any, any>[];
  /** Verifies the configuration against the source before anything is saved; throws on failure. */
  check(ctx: CheckContext<z.infer<TConfigSchema>>): Promise<ConnectionCheck>;
  /**
   * Local checks before each run (no network): throws when the run cannot succeed (an expired
   * token, say) and returns warnings the run log should carry.
   */
  preflight?(config: z.infer<TConfigSchema>, now: Date): Preflight;
  /** Time zone of the source's offset-less timestamps for this configuration (default UTC). */
  timeZoneOf?(config: z.infer<TConfigSchema>): string;
  /**
   * When the configured credentials stop working (a token's expiry claim), or null when they never
   * expire; read locally, for `tributary apps` and `tributary doctor`. Throws a ConfigError when the
   * credentials cannot be read.
   */
  credentialsExpireAt?(config: z.infer<TConfigSchema>): Date | null;
  /** What the app costs per billing plan; an app without pricing is never invoiced. */
  pricing?: Pricing;
  /** Short flags of `tributary install` for some config fields; every field can also be given with `--set`. */
  installFlags?: readonly InstallFlag[];
  /**
   * What names the source the configuration reads from (an account, a project), compared as JSON.
   * A reinstall reattaches data an uninstall kept only when it reads the same source; left out, the
   * whole configuration but its secrets must be the same.
   */
  sourceIdentity?(config: z.infer<TConfigSchema>): unknown;
}

/**
 * Marks objects made by {@link defineConnector}. A registered symbol, so that a connector built with
 * another copy of this package (a plugin with its own node_modules) is recognised too.
 */
export const CONNECTOR_BRAND: unique symbol = Symbol.for('tributary.connector') as never;

/** A validated connector, as the runner and the CLI use it. */
export interface ConnectorDefinition<TConfigSchema extends z.ZodObject = z.ZodObject>
  extends Omit<ConnectorSpec<TConfigSchema>, 'dataModel' | 'defaultMappings'> {
  /** Set by {@link defineConnector}; see {@link isConnector}. */
  readonly [CONNECTOR_BRAND]: true;
  /** The data model with defaults filled in. */
  dataModel: DataModel;
  /** The default mappings, validated against the data model. */
  defaultMappings: readonly Mapping[];
}

/** Declares a stream with full type inference of its records and checkpoints. */
export function defineStream<TConfig, TRecord, TCheckpoint>(
  stream: StreamDefinition<TConfig, TRecord, TCheckpoint>,
): StreamDefinition<TConfig, TRecord, TCheckpoint> {
  const name = identifierSchema.safeParse(stream.name);
  if (!name.success) throw new ConfigError('CONNECTOR_INVALID', `Stream name "${stream.name}" ${name.error.issues[0]?.message}`);
  return stream;
}

/**
 * Declares a connector: validates its data model, that its default mappings point at columns the
 * model has and read fields the source offers, that its secret fields exist, and that its stream
 * names are unique. A connector that fails here never reaches a user.
 */
export function defineConnector<TConfigSchema extends z.ZodObject>(
  spec: ConnectorSpec<TConfigSchema>,
): ConnectorDefinition<TConfigSchema> {
  const fail = (message: string, cause?: unknown): never => {
    throw new ConfigError('CONNECTOR_INVALID', `Connector "${spec.id}": ${message}`, { cause });
  };
  if (!identifierSchema.safeParse(spec.id).success) fail('id must be a lower-case identifier');
  if (!/^\d+\.\d+\.\d+/.test(spec.version)) fail(`version "${spec.version}" is not a semantic version`);
  const model = dataModelSchema.safeParse(spec.dataModel);
  if (!model.success) return fail(`invalid data model: ${describeIssues(model.error)}`, model.error);
  const configKeys = Object.keys(spec.configSchema.shape);
  for (const secret of spec.secrets) {
    if (!configKeys.includes(secret)) fail(`secret "${secret}" is not a field of the config schema`);
  }
  const streamNames = new Set<string>();
  for (const stream of spec.streams) {
    if (streamNames.has(stream.name)) fail(`stream "${stream.name}" is declared twice`);
    streamNames.add(stream.name);
  }
  if (streamNames.size === 0) fail('declares no stream');
  if (spec.pricing !== undefined) {
    const pricing = pricingSchema.safeParse(spec.pricing);
    if (!pricing.success) fail(`invalid pricing: ${describeIssues(pricing.error)}`, pricing.error);
  }
  let defaultMappings: Mapping[];
  try {
    defaultMappings = validateMappings(spec.defaultMappings, model.data, spec.sourceFields);
  } catch (error) {
    return fail(`default mappings do not fit the data model: ${(error as Error).message}`, error);
  }
  for (const flag of spec.installFlags ?? []) {
    if (!configKeys.includes(flag.field)) fail(`install flag ${flag.flags} sets "${flag.field}", which is not a field of the config schema`);
    if (!/^--[a-z][a-z0-9-]*( <[^>]+>)?$/.test(flag.flags)) fail(`install flag "${flag.flags}" must look like --name <value> or --name`);
  }
  return Object.freeze({ ...spec, dataModel: model.data, defaultMappings, [CONNECTOR_BRAND]: true as const });
}

/**
 * Whether a value is a connector made by {@link defineConnector}, by its brand rather than by
 * `instanceof`, so that connectors built against a second copy of core are recognised.
 */
export function isConnector(value: unknown): value is ConnectorDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<PropertyKey, unknown>;
  return v[CONNECTOR_BRAND] === true && typeof v.id === 'string' && typeof v.version === 'string' && Array.isArray(v.streams);
}

/** Replaces every secret field of a config with a mask, for printing and logging. */
export function maskSecrets<T extends Record<string, unknown>>(config: T, secrets: readonly string[]): T {
  const masked: Record<string, unknown> = { ...config };
  for (const key of secrets) if (masked[key] !== undefined) masked[key] = '***';
  return masked as T;
}

/** One field of a connector's config, as `tributary install <app> --help` and `tributary connectors` show it. */
export interface ConfigFieldInfo {
  name: string;
  /** The base type the command line converts text to. */
  type: 'string' | 'number' | 'boolean' | 'other';
  /** From `.describe()` or `.meta({ description })`. */
  description?: string;
  /** The default, when the field has one. */
  default?: unknown;
  required: boolean;
  secret: boolean;
  /** The short install flag that sets it, when the connector declares one. */
  flag?: string;
}

interface ZodInternals {
  _zod: { def: { type: string; innerType?: ZodInternals; defaultValue?: unknown } };
  description?: string;
  safeParse(value: unknown): { success: boolean };
}

/** The fields of a connector's config schema, read from the zod object's shape. */
export function configFieldsOf(connector: Pick<ConnectorDefinition, 'configSchema' | 'secrets' | 'installFlags'>): ConfigFieldInfo[] {
  const shape = connector.configSchema.shape as Record<string, ZodInternals>;
  return Object.entries(shape).map(([name, schema]) => {
    let inner: ZodInternals = schema;
    let description = schema.description;
    let fallback: unknown;
    let hasDefault = false;
    // Wrappers (default, optional, nullable, pipes of them) sit around the base type.
    while (inner._zod.def.innerType) {
      if (inner._zod.def.type === 'default' || inner._zod.def.type === 'prefault') {
        hasDefault = true;
        fallback = inner._zod.def.defaultValue;
      }
      inner = inner._zod.def.innerType;
      description ??= inner.description;
    }
    const base = inner._zod.def.type;
    const flag = connector.installFlags?.find((f) => f.field === name)?.flags;
    return {
      name,
      type: base === 'string' || base === 'number' || base === 'boolean' ? base : 'other',
      ...(description === undefined ? {} : { description }),
      ...(hasDefault ? { default: fallback } : {}),
      required: !hasDefault && !schema.safeParse(undefined).success,
      secret: connector.secrets.includes(name),
      ...(flag === undefined ? {} : { flag: flag.split(' ')[0]! }),
    };
  });
}
