import { describe, expect, it } from 'vitest';
import { href, parseHash } from './router';

describe('fragment routes', () => {
  it('round-trips segments that need encoding and keeps the query', () => {
    const link = href(['w', 'acme', 'profiles', 'Gave a 5 / EU'], { q: 'ann@example.com', empty: '' });
    expect(link).toBe('#/w/acme/profiles/Gave%20a%205%20%2F%20EU?q=ann%40example.com');
    const route = parseHash(link);
    expect(route.segments).toEqual(['w', 'acme', 'profiles', 'Gave a 5 / EU']);
    expect(route.query.get('q')).toBe('ann@example.com');
    expect(route.query.has('empty')).toBe(false);
  });

  it('reads an empty fragment as the root', () => {
    expect(parseHash('').segments).toEqual([]);
    expect(parseHash('#/').path).toBe('/');
  });
});
