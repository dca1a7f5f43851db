import { describe, expect, it } from 'vitest';
import { ContactIdCache } from './contact-id-cache.js';

describe('ContactIdCache', () => {
  it('keeps ids per installation and forgets an installation', () => {
    const cache = new ContactIdCache();
    cache.remember('i1', new Map([['ann@example.com', 'c1']]));
    cache.remember('i2', new Map([['ann@example.com', 'c2']]));
    expect(cache.get('i1', 'ann@example.com')).toBe('c1');
    expect(cache.get('i2', 'ann@example.com')).toBe('c2');
    cache.forget('i1');
    expect(cache.get('i1', 'ann@example.com')).toBeUndefined();
    expect(cache.get('i2', 'ann@example.com')).toBe('c2');
  });

  it('keeps the first id of an e-mail and never more than its capacity', () => {
    const cache = new ContactIdCache(3);
    cache.remember('i', new Map([['a', '1'], ['b', '2']]));
    cache.remember('i', new Map([['a', 'other']]));
    expect(cache.get('i', 'a')).toBe('1');
    // Past the capacity it starts over rather than grow.
    cache.remember('i', new Map([['c', '3'], ['d', '4']]));
    expect(cache.get('i', 'a')).toBeUndefined();
    expect([cache.get('i', 'c'), cache.get('i', 'd')]).toEqual(['3', '4']);
    cache.remember('j', new Map([['e', '5'], ['f', '6'], ['g', '7']]));
    expect(['e', 'f', 'g'].map((e) => cache.get('j', e))).toEqual(['5', '6', '7']);
  });
});
