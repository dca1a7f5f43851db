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

/** One line of a run log: whose feedback was saved, and what it said. */
export interface RecordSummary {
  /** The record's key as text, matching `PageWriteResult.insertedKeys`. */
  key: string;
  /** The customer's e-mail, normalized, when the record has one. */
  email?: string;
  /** The form or survey name. */
  form?: string;
  /** The score given, when there is one. */
  score?: number;
  /** A free-text comment, when there is one. */
  comment?: string;
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

/** A connector as its author writes it. */
export interface ConnectorSpec<TConfigSchema extends z.ZodObject> {
  /** Stable id used in commands (`closealert`), a safe identifier. */
  id: string;
  /** Semantic version of the connector. */
  version: string;
  /** Name shown to people. */
  displayName: string;
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
}

/** A validated connector, as the runner and the CLI use it. */
export interface ConnectorDefinition<TConfigSchema extends z.ZodObject = z.ZodObject>
  extends Omit<ConnectorSpec<TConfigSchema>, 'dataModel' | 'defaultMappings'> {
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
  return Object.freeze({ ...spec, dataModel: model.data, defaultMappings });
}

/** Replaces every secret field of a config with a mask, for printing and logging. */
export function maskSecrets<T extends Record<string, unknown>>(config: T, secrets: readonly string[]): T {
  const masked: Record<string, unknown> = { ...config };
  for (const key of secrets) if (masked[key] !== undefined) masked[key] = '***';
  return masked as T;
}
