import {
  isTributaryError,
  silentLogger,
  type ClaimedDelivery,
  type DeliveryOutcome,
  type DestinationDefinition,
  type DestinationLimits,
  type DestinationStore,
  type Logger,
} from '@tributary/core';

/** How the runner retries deliveries. */
export interface DeliveryPolicy {
  /** Attempts before a batch is dead-lettered. */
  maxAttempts: number;
  /** Wait after the first failure; doubled after each further one (with jitter), up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long a claimed batch is left to its process before another one may try it. */
  leaseMs: number;
  /** Batches claimed at once. */
  batchLimit: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxAttempts: 8,
  backoffBaseMs: 30_000,
  backoffMaxMs: 6 * 3_600_000,
  leaseMs: 5 * 60_000,
  batchLimit: 20,
};

/** What happened to one batch in one pass. */
export interface DeliveryEvent {
  type: 'delivery';
  batchId: string;
  workspace: string;
  destination: string;
  profile: string;
  count: number;
  status: 'delivered' | 'retry' | 'dead';
  attempts: number;
  error?: string;
  nextAttemptAt?: Date;
}

/** Options of {@link deliverDue}. */
export interface DeliverDueOptions {
  store: Pick<DestinationStore, 'claimDeliveries' | 'finishDelivery'>;
  /** The destination definition of a type, or undefined when its package is not loaded. */
  destinationFor: (type: string) => DestinationDefinition | undefined;
  /** The operator's limits on where destinations reach, checked again at each delivery (default: the strict ones). */
  limits?: DestinationLimits;
  now?: () => Date;
  policy?: Partial<DeliveryPolicy>;
  logger?: Logger;
  signal?: AbortSignal;
  /** Random in [0, 1) for the backoff's jitter. */
  random?: () => number;
  onEvent?: (event: DeliveryEvent) => void;
}

/** The wait before attempt `attempts + 1`: exponential with ±20 % jitter, at least what the receiver asked. */
export function deliveryBackoffMs(attempts: number, policy: DeliveryPolicy, random: () => number, retryAfterMs?: number): number {
  const exponential = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  const jittered = Math.round(exponential * (0.8 + 0.4 * random()));
  return Math.max(jittered, retryAfterMs ?? 0);
}

async function attempt(claimed: ClaimedDelivery, options: DeliverDueOptions, logger: Logger): Promise<DeliveryOutcome> {
  const definition = options.destinationFor(claimed.destination.type);
  if (!definition?.deliver) {
    return { status: 'retry', error: `no destination type "${claimed.destination.type}" is loaded in this runner; name its package in TRIBUTARY_CONNECTORS or the config file` };
  }
  const config = definition.configSchema.safeParse(claimed.destination.config);
  if (!config.success) return { status: 'failed', error: `the settings of "${claimed.destination.name}" no longer fit ${definition.id} ${definition.version}: ${config.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  try {
    return await definition.deliver(claimed.batch, {
      config: config.data,
      name: claimed.destination.name,
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    });
  } catch (error) {
    // A destination that throws is treated as a receiver failure: tried again, dead-lettered in the end.
    return { status: 'retry', error: isTributaryError(error) ? error.message : `the destination failed: ${(error as Error).message}` };
  }
}

/**
 * Delivers the due batches of the outbox until none is due: claims some, hands each to its
 * destination, and records the outcome (delivered, tried again after a backoff, or dead-lettered
 * after `maxAttempts`). Several runner processes may call it at once: a claim is exclusive.
 */
export async function deliverDue(options: DeliverDueOptions): Promise<{ delivered: number; retried: number; dead: number }> {
  const policy = { ...DEFAULT_DELIVERY_POLICY, ...Object.fromEntries(Object.entries(options.policy ?? {}).filter(([, v]) => v !== undefined)) } as DeliveryPolicy;
  const clock = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const logger = (options.logger ?? silentLogger()).child({ component: 'deliveries' });
  const counts = { delivered: 0, retried: 0, dead: 0 };
  // Bounded, so that a receiver answering at once cannot keep one pass going forever.
  for (let round = 0; round < 100 && !options.signal?.aborted; round += 1) {
    const claimed = await options.store.claimDeliveries({ now: clock(), limit: policy.batchLimit, leaseMs: policy.leaseMs });
    for (const delivery of claimed) {
      const outcome = await attempt(delivery, options, logger);
      const at = clock();
      const { record } = delivery;
      const where = { workspace: record.workspace, destination: record.destination, profile: record.profile, batchId: record.id, count: record.count, attempts: record.attempts };
      if (outcome.status === 'delivered') {
        await options.store.finishDelivery(record.id, { status: 'delivered' }, at);
        counts.delivered += 1;
        logger.info(where, 'batch delivered');
        options.onEvent?.({ type: 'delivery', ...where, status: 'delivered' });
      } else if (outcome.status === 'retry' && record.attempts < policy.maxAttempts) {
        const nextAttemptAt = new Date(at.getTime() + deliveryBackoffMs(record.attempts, policy, random, outcome.retryAfterMs));
        await options.store.finishDelivery(record.id, { status: 'retry', error: outcome.error, nextAttemptAt }, at);
        counts.retried += 1;
        logger.warn({ ...where, error: outcome.error, nextAttemptAt }, 'delivery failed; it is tried again');
        options.onEvent?.({ type: 'delivery', ...where, status: 'retry', error: outcome.error, nextAttemptAt });
      } else {
        const error = outcome.status === 'retry' ? `${outcome.error} (gave up after ${record.attempts} attempts)` : outcome.error;
        await options.store.finishDelivery(record.id, { status: 'dead', error }, at);
        counts.dead += 1;
        logger.error({ ...where, error }, 'batch dead-lettered: it is no longer delivered; `tributary deliveries` shows it');
        options.onEvent?.({ type: 'delivery', ...where, status: 'dead', error });
      }
    }
    if (claimed.length < policy.batchLimit) break;
  }
  return counts;
}
