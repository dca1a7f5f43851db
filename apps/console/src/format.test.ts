import { describe, expect, it } from 'vitest';
import { formatMinor, pricingLines } from './format';

describe('prices', () => {
  it('lists a price per plan, and says when an app is free', () => {
    const lines = pricingLines({ monthly: { amount: 25, currency: 'EUR' }, yearly: { amount: 250, currency: 'EUR' } });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/25.*a month$/);
    expect(lines[1]).toMatch(/250.*a year$/);
    expect(pricingLines(null)).toEqual(['Free: no invoices.']);
    expect(pricingLines({ monthly: 'cheap' })).toEqual(['Free: no invoices.']);
  });

  it('reads invoice amounts in cents', () => {
    expect(formatMinor(2500, 'EUR')).toMatch(/25[.,]00/);
    expect(formatMinor(2500, 'NOT-A-CURRENCY')).toBe('25.00 NOT-A-CURRENCY');
  });
});
