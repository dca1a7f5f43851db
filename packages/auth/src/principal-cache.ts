// Who a session token or an API key stands for, remembered for a few seconds: every API request
// authenticates, and under load the look-up (a query, plus a second one for a session's user) was a
// large part of a short request. Only successful look-ups are kept, keyed by the secret's hash, never
// by the secret. Whatever this process changes (sign-out, revocation, role, password) drops the
// entries it affects at once; a change made by another process (the CLI beside `serve`) is seen
// within the time-to-live.

/** One remembered look-up: what it found, whose it is, and until when it may be reused. */
interface Entry<T> {
  value: T;
  userId: string | undefined;
  keyId: string | undefined;
  until: number;
}

/** Options of {@link PrincipalCache}. */
export interface PrincipalCacheOptions {
  /** How long a look-up is reused, in milliseconds; 0 turns the cache off. */
  ttlMs: number;
  /** Most entries kept; the oldest go first. */
  maxEntries: number;
}

/** Look-ups by credential hash, dropped by user or key when they change. */
export class PrincipalCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Bumped by every invalidation: a look-up that started before one must not be remembered. */
  private generation = 0;

  constructor(private readonly options: PrincipalCacheOptions) {}

  /**
   * The remembered value for `hash` at `now`, else what `load` finds, remembered unless it was
   * nothing, the credential expires first, or something was invalidated while `load` ran.
   */
  async get(
    hash: string,
    now: Date,
    load: () => Promise<{ value: T; userId?: string; keyId?: string; expiresAt?: Date } | undefined>,
  ): Promise<T | undefined> {
    const at = now.getTime();
    const found = this.entries.get(hash);
    if (found && found.until > at) return found.value;
    if (found) this.entries.delete(hash);
    const started = this.generation;
    const loaded = await load();
    if (!loaded || this.options.ttlMs <= 0 || started !== this.generation) return loaded?.value;
    const until = Math.min(at + this.options.ttlMs, loaded.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
    if (until <= at) return loaded.value;
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, { value: loaded.value, userId: loaded.userId, keyId: loaded.keyId, until });
    return loaded.value;
  }

  /** Forgets one credential (a session signed out). */
  forgetHash(hash: string): void {
    this.generation += 1;
    this.entries.delete(hash);
  }

  /** Forgets every credential of a user (role or password changed, sessions ended). */
  forgetUser(userId: string): void {
    this.generation += 1;
    for (const [hash, entry] of this.entries) if (entry.userId === userId) this.entries.delete(hash);
  }

  /** Forgets an API key (revoked). */
  forgetKey(keyId: string): void {
    this.generation += 1;
    for (const [hash, entry] of this.entries) if (entry.keyId === keyId) this.entries.delete(hash);
  }

  /** Entries held now (for tests). */
  get size(): number {
    return this.entries.size;
  }
}
