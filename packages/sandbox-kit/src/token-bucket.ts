import type { RateLimit } from './faults.js';

/**
 * A source's rate limit as a token bucket that refills continuously. It runs on a monotonic real
 * clock, not on the sandbox's injectable `now`, so that a frozen test clock does not starve it.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private limit: RateLimit,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tokens = limit.capacity;
    this.refilledAt = clock();
  }

  /** Replaces the limit and fills the bucket to the new capacity. */
  reset(limit: RateLimit): void {
    this.limit = limit;
    this.tokens = limit.capacity;
    this.refilledAt = this.clock();
  }

  /** Takes one token; `remaining` is the whole tokens left afterwards. */
  take(): { allowed: boolean; remaining: number } {
    const now = this.clock();
    const elapsedSeconds = Math.max(0, now - this.refilledAt) / 1000;
    this.tokens = Math.min(this.limit.capacity, this.tokens + elapsedSeconds * this.limit.refillPerSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return { allowed: false, remaining: 0 };
    this.tokens -= 1;
    return { allowed: true, remaining: Math.floor(this.tokens) };
  }
}
