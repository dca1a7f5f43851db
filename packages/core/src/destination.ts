import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { identifierSchema } from './identifiers.js';
import type { Logger } from './logger.js';

// Destinations: where the changes of a profile's membership go (a webhook, a file drop, a view).
// Declared like connectors, so that a package can add one without changing Tributary.

/** One change of a profile's membership, as a destination receives it. */
export interface MembershipChange {
  /** The customer's normalized e-mail. */
  email: string;
  change: 'entered' | 'left';
}

/**
 * A batch of changes for one destination: every change one recorded evaluation made to one profile.
 * Delivered at least once; `id` is the same on every attempt, so that a receiver that remembers it
 * acts exactly once.
 */
export interface DeliveryBatch {
  /** The batch id, also the idempotency key. */
  id: string;
  workspace: string;
  profile: string;
  /** Why the batch exists: an evaluation, the activation (everyone already in), or a person forgotten. */
  reason: 'evaluation' | 'activation' | 'forget';
  /** The moment the evaluation was as of (ISO-8601 UTC). */
  evaluatedAt: string;
  changes: MembershipChange[];
  /** Every member after the change, for destinations that declare `snapshot` (a forget batch has none). */
  members?: string[];
}

/**
 * Where the server's operator lets destinations reach. A workspace administrator is not the
 * operator, so these come only from the operator's own configuration (the CLI's environment), never
 * from a request or a destination's settings.
 */
export interface DestinationLimits {
  /**
   * Absolute directories file destinations may write under (their real paths). Empty: a workspace
   * administrator may add no file destination, and the operator's own may write anywhere.
   */
  fileRoots: readonly string[];
  /**
   * Hosts a webhook may reach although they are loopback or private, and over plain http: exact host
   * names, IP addresses, or CIDR ranges (`10.0.0.0/8`). Link-local and unspecified addresses are
   * reached only through an address or range, never through a name that happens to resolve to them.
   */
  webhookAllowHosts: readonly string[];
}

/** The limits when the operator set none: webhooks reach only public https receivers. */
export const DEFAULT_DESTINATION_LIMITS: DestinationLimits = Object.freeze({ fileRoots: [], webhookAllowHosts: [] });

/** Who adds a destination: the operator (the CLI) or a workspace administrator (the HTTP API). */
export type DestinationAddedBy = 'operator' | 'workspace-admin';

/** What a destination's code gets besides the batch. */
export interface DestinationContext<TConfig = Record<string, unknown>> {
  /** The destination's validated settings, secrets opened. */
  config: TConfig;
  /** The destination's name in its workspace, for messages. */
  name: string;
  logger: Logger;
  /** Stops a delivery in flight when the runner shuts down. */
  signal?: AbortSignal;
  /** The operator's limits; the built-in destinations apply {@link DEFAULT_DESTINATION_LIMITS} without them. */
  limits?: DestinationLimits;
}

/**
 * How one delivery attempt ended: delivered; worth trying again later (the receiver was busy,
 * failing or slow), optionally after the wait it asked for; or refused for good.
 */
export type DeliveryOutcome =
  | { status: 'delivered'; note?: string }
  | { status: 'retry'; error: string; retryAfterMs?: number }
  | { status: 'failed'; error: string };

/** What a destination package declares. */
export interface DestinationSpec<TConfigSchema extends z.ZodObject = z.ZodObject> {
  /** Lower-case identifier, e.g. `webhook`; the type named by `tributary destinations add <type>`. */
  id: string;
  /** Semantic version of the package. */
  version: string;
  displayName: string;
  description?: string;
  /** The settings; each `.describe()` is what `destinations add --help` shows. */
  configSchema: TConfigSchema;
  /** Fields of the settings that are secrets: sealed at rest, never printed or logged. */
  secrets: readonly (keyof z.infer<TConfigSchema> & string)[];
  /**
   * `push`: the runner hands it batches from the outbox (`deliver`). `view`: Tributary keeps a
   * read-only database view of each activated profile's members, and nothing is delivered.
   */
  kind: 'push' | 'view';
  /** Whether each batch should carry the full member list (a file drop writes a snapshot). */
  snapshot?: boolean;
  /** Delivers one batch; required for `push`. Must not throw for a receiver's failure: return it. */
  deliver?: (batch: DeliveryBatch, context: DestinationContext<z.infer<TConfigSchema>>) => Promise<DeliveryOutcome>;
  /** Checks the settings against the real receiver (`destinations test`); returns notes for the operator. */
  test?: (context: DestinationContext<z.infer<TConfigSchema>>) => Promise<{ notes: string[] }>;
  /**
   * Checks validated settings against the operator's limits before they are stored; throws a
   * ConfigError naming what the operator must allow. `deliver` and `test` check again when they run.
   */
  admit?: (config: z.infer<TConfigSchema>, scope: { limits: DestinationLimits; addedBy: DestinationAddedBy }) => Promise<void>;
}

/** Marks objects made by {@link defineDestination}; registered, so that a plugin's own copy of core is recognised. */
export const DESTINATION_BRAND: unique symbol = Symbol.for('tributary.destination') as never;

/** A validated destination. */
export interface DestinationDefinition<TConfigSchema extends z.ZodObject = z.ZodObject>
  extends DestinationSpec<TConfigSchema> {
  readonly [DESTINATION_BRAND]: true;
}

/** Declares a destination: checks its id, version, secrets and that a push destination can deliver. */
export function defineDestination<TConfigSchema extends z.ZodObject>(
  spec: DestinationSpec<TConfigSchema>,
): DestinationDefinition<TConfigSchema> {
  const fail = (message: string): never => {
    throw new ConfigError('DESTINATION_INVALID', `Destination "${spec.id}": ${message}`, {
      hint: 'Its author must fix the definition.',
    });
  };
  if (!identifierSchema.safeParse(spec.id).success) fail('id must be a lower-case identifier');
  if (!/^\d+\.\d+\.\d+/.test(spec.version)) fail(`version "${spec.version}" is not a semantic version`);
  if (spec.kind !== 'push' && spec.kind !== 'view') fail('kind must be "push" or "view"');
  if (spec.kind === 'push' && typeof spec.deliver !== 'function') fail('a push destination must have deliver()');
  const keys = Object.keys(spec.configSchema.shape);
  for (const secret of spec.secrets) {
    if (!keys.includes(secret)) fail(`secret "${secret}" is not a field of the config schema`);
  }
  return Object.freeze({ ...spec, [DESTINATION_BRAND]: true as const });
}

/** Whether a value is a destination made by {@link defineDestination}, by its brand. */
export function isDestination(value: unknown): value is DestinationDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<PropertyKey, unknown>;
  return v[DESTINATION_BRAND] === true && typeof v.id === 'string' && (v.kind === 'push' || v.kind === 'view');
}

// ---- What the store keeps ----

/** A destination configured in a workspace. */
export interface StoredDestination {
  id: string;
  workspace: string;
  /** The operator's name for it, unique in the workspace. */
  name: string;
  /** The destination type (its definition's id). */
  type: string;
  kind: 'push' | 'view';
  snapshot: boolean;
  /** Settings; secrets opened only by {@link DestinationStore.getDestination}, left out by the list. */
  config: Record<string, unknown>;
  /** Names of the secret fields. */
  secretFields: string[];
  createdAt: Date;
}

/** What adding a destination needs. */
export interface NewDestination {
  workspace: string;
  name: string;
  type: string;
  kind: 'push' | 'view';
  snapshot: boolean;
  /** Validated settings, secrets included; the store seals `secretFields`. */
  config: Record<string, unknown>;
  secretFields: readonly string[];
}

/** A profile sending its changes to a destination. */
export interface Activation {
  workspace: string;
  profile: string;
  destination: string;
  createdAt: Date;
  /** For a view destination: the view's qualified name. */
  view?: string;
}

/** The state of a batch in the outbox. */
export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** A batch in the outbox, as `tributary deliveries` shows it. */
export interface DeliveryRecord {
  /** The batch id (idempotency key). */
  id: string;
  workspace: string;
  destination: string;
  profile: string;
  reason: DeliveryBatch['reason'];
  /** Changes in the batch. */
  count: number;
  status: DeliveryStatus;
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  lastError: string | null;
}

/** A batch the runner claimed for one delivery attempt. */
export interface ClaimedDelivery {
  record: DeliveryRecord;
  /** The destination with its secrets opened. */
  destination: StoredDestination;
  batch: DeliveryBatch;
}

/** How an attempt is recorded. */
export type DeliveryResult =
  | { status: 'delivered' }
  | { status: 'retry'; error: string; nextAttemptAt: Date }
  | { status: 'dead'; error: string };
