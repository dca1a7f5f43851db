import { describe, expect, it } from 'vitest';
import { PrincipalCache } from './principal-cache.js';

const at = (ms: number) => new Date(Date.UTC(2026, 4, 1) + ms);

describe('the principal cache', () => {
  it('reuses a look-up for its time-to-live, and never past the credential’s own expiry', async () => {
    const cache = new PrincipalCache<string>({ ttlMs: 3_000, maxEntries: 10 });
    let loads = 0;
    const load = async () => ((loads += 1), { value: `v${loads}`, expiresAt: at(5_000) });
    expect(await cache.get('h', at(0), load)).toBe('v1');
    expect(await cache.get('h', at(2_999), load)).toBe('v1');
    expect(await cache.get('h', at(3_000), load)).toBe('v2');
    expect(await cache.get('h', at(4_999), load)).toBe('v2');
    // The credential expires at 5 s: the look-up is made again, whatever the time-to-live.
    expect(await cache.get('h', at(5_000), load)).toBe('v3');
  });

  it('keeps no failed look-up, so a new credential works at once', async () => {
    const cache = new PrincipalCache<string>({ ttlMs: 3_000, maxEntries: 10 });
    const stored: { found?: string } = {};
    const load = async () => (stored.found === undefined ? undefined : { value: stored.found });
    expect(await cache.get('h', at(0), load)).toBeUndefined();
    stored.found = 'new';
    expect(await cache.get('h', at(1), load)).toBe('new');
    expect(cache.size).toBe(1);
  });

  it('forgets by credential, user and key at once', async () => {
    const cache = new PrincipalCache<string>({ ttlMs: 3_000, maxEntries: 10 });
    let loads = 0;
    const loader = (userId?: string, keyId?: string) => async () => ((loads += 1), { value: `v${loads}`, ...(userId ? { userId } : {}), ...(keyId ? { keyId } : {}) });
    await cache.get('session-a', at(0), loader('u1'));
    await cache.get('session-b', at(0), loader('u1'));
    await cache.get('session-c', at(0), loader('u2'));
    await cache.get('key', at(0), loader(undefined, 'k1'));
    cache.forgetUser('u1');
    expect(cache.size).toBe(2);
    cache.forgetKey('k1');
    cache.forgetHash('session-c');
    expect(cache.size).toBe(0);
  });

  it('does not keep a look-up that was under way when something was forgotten', async () => {
    const cache = new PrincipalCache<string>({ ttlMs: 3_000, maxEntries: 10 });
    let release!: () => void;
    const slow = cache.get('h', at(0), () => new Promise((resolve) => (release = () => resolve({ value: 'before the revocation', keyId: 'k1' }))));
    cache.forgetKey('k1');
    release();
    // The caller that asked before the revocation gets its answer, but nobody after it does.
    expect(await slow).toBe('before the revocation');
    expect(await cache.get('h', at(1), async () => undefined)).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest, and nothing with a time-to-live of 0', async () => {
    const cache = new PrincipalCache<string>({ ttlMs: 3_000, maxEntries: 2 });
    for (const h of ['a', 'b', 'c']) await cache.get(h, at(0), async () => ({ value: h }));
    expect(cache.size).toBe(2);
    let loads = 0;
    expect(await cache.get('a', at(1), async () => ((loads += 1), { value: 'a again' }))).toBe('a again');
    expect(loads).toBe(1);
    const off = new PrincipalCache<string>({ ttlMs: 0, maxEntries: 2 });
    await off.get('a', at(0), async () => ({ value: 'a' }));
    expect(off.size).toBe(0);
  });
});
