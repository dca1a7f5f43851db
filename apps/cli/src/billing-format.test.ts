import { describe, expect, it } from 'vitest';
import { billingSettingsOf, describeBilling, formatMoney } from './billing-format.js';

describe('billing formats', () => {
  it('write amounts in minor units as people read them', () => {
    expect(formatMoney(2500, 'EUR')).toBe('EUR 25.00');
    expect(formatMoney(24999, 'EUR')).toBe('EUR 249.99');
    expect(formatMoney(5, 'USD')).toBe('USD 0.05');
  });

  it('describe a plan with its price and PO number', () => {
    const pricing = { monthly: { amount: 25, currency: 'EUR' }, yearly: { amount: 250, currency: 'EUR' } };
    expect(describeBilling({ plan: 'yearly', poNumber: 'PO-1' }, pricing)).toBe('yearly plan, EUR 250.00 per year in advance, PO PO-1');
    expect(describeBilling({ plan: 'monthly' }, undefined)).toBe('monthly plan (free)');
  });

  it('read --plan and --po, refusing anything else with a ConfigError', () => {
    expect(billingSettingsOf({ plan: 'monthly', po: ' PO 7 ' })).toEqual({ plan: 'monthly', poNumber: 'PO 7' });
    expect(() => billingSettingsOf({ plan: 'weekly' })).toThrow(/billing settings/);
    expect(() => billingSettingsOf({ plan: 'yearly', po: 'a\nb' })).toThrow(/one line/);
  });
});
