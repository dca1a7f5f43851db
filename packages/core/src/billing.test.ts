import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { billingSettingsSchema, minorUnits, pricingSchema } from './billing.js';
import { defineConnector, defineStream } from './connector.js';
import { ConfigError } from './errors.js';

describe('pricing', () => {
  it('accepts prices with at most two decimals in an ISO currency, and counts them in cents', () => {
    const pricing = pricingSchema.parse({ monthly: { amount: 25, currency: 'EUR' }, yearly: { amount: 249.99, currency: 'EUR' } });
    expect(minorUnits(pricing.monthly)).toBe(2500);
    expect(minorUnits(pricing.yearly)).toBe(24999);
    expect(minorUnits({ amount: 0.1 + 0.2, currency: 'EUR' })).toBe(30);
  });

  it.each([
    [{ amount: 25.001, currency: 'EUR' }, /two decimals/],
    [{ amount: -1, currency: 'EUR' }, /too small|>=0/i],
    [{ amount: 25, currency: 'eur' }, /ISO 4217/],
    [{ amount: Number.NaN, currency: 'EUR' }, /number/i],
  ])('refuses %o', (price, message) => {
    const result = pricingSchema.safeParse({ monthly: price, yearly: { amount: 1, currency: 'EUR' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message).join(' ')).toMatch(message);
  });

  it('is checked when a connector is defined', () => {
    const stream = defineStream({
      name: 'items',
      recordSchema: z.object({ id: z.number() }),
      checkpointSchema: z.object({}),
      async *read() {},
    });
    const spec = {
      id: 'priced',
      version: '1.0.0',
      displayName: 'Priced',
      configSchema: z.object({ token: z.string() }),
      secrets: ['token'] as const,
      dataModel: {
        primaryTable: 'items',
        tables: [{ name: 'items', rowsFrom: { kind: 'record' as const }, key: ['id'], onConflict: 'ignore' as const, columns: [{ name: 'id', type: 'bigint' as const, nullable: false }] }],
      },
      sourceFields: { record: ['id'] },
      defaultMappings: [{ source: 'id', target: { table: 'items', column: 'id' } }],
      streams: [stream],
      check: async () => ({ notes: [] }),
    };
    expect(defineConnector({ ...spec, pricing: { monthly: { amount: 5, currency: 'USD' }, yearly: { amount: 50, currency: 'USD' } } }).pricing?.yearly.amount).toBe(50);
    expect(defineConnector(spec).pricing).toBeUndefined();
    expect(() => defineConnector({ ...spec, pricing: { monthly: { amount: 5, currency: 'dollars' }, yearly: { amount: 50, currency: 'USD' } } })).toThrow(ConfigError);
  });
});

describe('billing settings', () => {
  it('take a plan and an optional one-line PO number', () => {
    expect(billingSettingsSchema.parse({ plan: 'yearly', poNumber: '  4711 ' })).toEqual({ plan: 'yearly', poNumber: '4711' });
    expect(billingSettingsSchema.safeParse({ plan: 'weekly' }).success).toBe(false);
    expect(billingSettingsSchema.safeParse({ plan: 'monthly', poNumber: 'a\u0000b' }).success).toBe(false);
    expect(billingSettingsSchema.safeParse({ plan: 'monthly', poNumber: 'x'.repeat(101) }).success).toBe(false);
  });
});
