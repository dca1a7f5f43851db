// Sign-in attempts per account and per client address, counted in memory over a sliding window.
// In memory means per process: behind several API processes each counts on its own, so the real
// limit is that many times higher; the account lockout (in the database) still holds across them.

/** How many attempts a key may make within a window. */
export interface RateLimit {
  attempts: number;
  windowMs: number;
}

/** What {@link SlidingWindowLimiter.attempt} decided. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Remembers the times of recent attempts per key and refuses one beyond the limit. Refused attempts
 * are not counted, so waiting always helps. At most `maxKeys` keys are kept (the oldest go first),
 * so that a flood of addresses cannot grow memory without bound.
 */
export class SlidingWindowLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly limit: RateLimit,
    private readonly maxKeys = 10_000,
  ) {}

  attempt(key: string, now: number): RateDecision {
    const since = now - this.limit.windowMs;
    const recent = (this.attempts.get(key) ?? []).filter((t) => t > since);
    if (recent.length >= this.limit.attempts) {
      this.attempts.set(key, recent);
      return { allowed: false, retryAfterMs: Math.max(1, recent[0]! + this.limit.windowMs - now) };
    }
    recent.push(now);
    // Re-inserting moves the key to the end: the map's first key is the least recently used.
    this.attempts.delete(key);
    this.attempts.set(key, recent);
    if (this.attempts.size > this.maxKeys) this.attempts.delete(this.attempts.keys().next().value!);
    return { allowed: true };
  }

  /** Forgets a key's attempts (after a successful sign-in of that account). */
  reset(key: string): void {
    this.attempts.delete(key);
  }
}
