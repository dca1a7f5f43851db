import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineDestination, isDestination } from './destination.js';

const spec = {
  id: 'crm_push',
  version: '1.2.0',
  displayName: 'CRM',
  configSchema: z.object({ url: z.string(), key: z.string() }),
  secrets: ['key'] as const,
  kind: 'push' as const,
  deliver: async () => ({ status: 'delivered' as const }),
};

describe('defineDestination', () => {
  it('brands a valid destination, recognised by isDestination (also from another copy of core)', () => {
    const destination = defineDestination(spec);
    expect(isDestination(destination)).toBe(true);
    expect(isDestination({ ...spec })).toBe(false);
    expect(isDestination({ ...spec, [Symbol.for('tributary.destination')]: true })).toBe(true);
    expect(Object.isFrozen(destination)).toBe(true);
  });

  it.each([
    [{ id: 'Bad Id' }, 'id must be a lower-case identifier'],
    [{ version: 'one' }, 'is not a semantic version'],
    [{ secrets: ['token'] }, 'secret "token" is not a field'],
    [{ deliver: undefined }, 'must have deliver()'],
    [{ kind: 'pull' }, 'kind must be'],
  ])('refuses %o', (change, message) => {
    expect(() => defineDestination({ ...spec, ...change } as never)).toThrow(expect.objectContaining({ code: 'DESTINATION_INVALID', message: expect.stringContaining(message) }));
  });

  it('lets a view destination go without deliver()', () => {
    expect(defineDestination({ ...spec, kind: 'view', deliver: undefined, secrets: [] }).kind).toBe('view');
  });
});
