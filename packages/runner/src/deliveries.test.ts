import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_POLICY, deliveryBackoffMs } from './deliveries.js';

describe('delivery backoff', () => {
  const policy = { ...DEFAULT_DELIVERY_POLICY, backoffBaseMs: 1000, backoffMaxMs: 10_000 };

  it('doubles from the base after each failure, within ±20 % jitter, up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => deliveryBackoffMs(n, policy, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(deliveryBackoffMs(2, policy, () => 0)).toBe(1600);
    expect(deliveryBackoffMs(2, policy, () => 0.999_999)).toBe(2400);
  });

  it('waits at least what the receiver asked for with Retry-After', () => {
    expect(deliveryBackoffMs(1, policy, () => 0.5, 60_000)).toBe(60_000);
    expect(deliveryBackoffMs(3, policy, () => 0.5, 10)).toBe(4000);
  });
});
