import { ConfigError } from '@tributary/core';
import { defaultSleep } from './http-errors.js';

/**
 * Spaces requests evenly: at most `requestsPerSecond`, each one waiting for its slot. Sources such as
 * Typeform allow about 2 requests per second per token and answer 429 beyond; keeping under the
 * limit costs less than the Retry-After that follows a refusal.
 */
export class RateLimiter {
  private nextAtMs = Number.NEGATIVE_INFINITY;
  private readonly intervalMs: number;

  constructor(
    readonly requestsPerSecond: number,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void> = defaultSleep,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
      throw new ConfigError('CONNECTOR_INVALID', `A rate limit must be a positive number of requests per second, not ${requestsPerSecond}.`);
    }
    this.intervalMs = 1000 / requestsPerSecond;
  }

  /** Resolves when the next request may start; slots are handed out in call order. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.clock();
    const at = Math.max(now, this.nextAtMs);
    this.nextAtMs = at + this.intervalMs;
    if (at > now) await this.sleep(at - now, signal);
  }
}

const shared = new Map<string, RateLimiter>();

/**
 * The limiter of one installation in this process (key it by installation id, never by a token), so
 * that its concurrent clients, a sync and a check say, share the source's allowance instead of each
 * taking all of it.
 */
export function sharedRateLimiter(key: string, requestsPerSecond: number): RateLimiter {
  const existing = shared.get(key);
  if (existing && existing.requestsPerSecond === requestsPerSecond) return existing;
  const limiter = new RateLimiter(requestsPerSecond);
  shared.set(key, limiter);
  return limiter;
}
