import { describe, expect, it } from 'vitest';
import { normalizeCustomerEmail } from './personal-data.js';

describe('normalizeCustomerEmail', () => {
  it('makes one address of every case and spacing', () => {
    expect(normalizeCustomerEmail(' Ann@Example.COM ')).toBe('ann@example.com');
    expect(normalizeCustomerEmail('ann@example.com\t\n')).toBe('ann@example.com');
    expect(normalizeCustomerEmail('ann @ example.com')).toBe('ann@example.com');
    expect(normalizeCustomerEmail('ÄNN@exämple.com')).toBe('änn@exämple.com');
  });
});
