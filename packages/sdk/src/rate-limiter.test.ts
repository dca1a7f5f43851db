import { describe, expect, it } from 'vitest';
import { RateLimiter, sharedRateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('hands out slots 1/rps apart in call order, sleeping only for future slots', async () => {
    let now = 1_000;
    const sleeps: number[] = [];
    const limiter = new RateLimiter(2, async (ms) => void sleeps.push(ms), () => now);
    await Promise.all([limiter.take(), limiter.take(), limiter.take()]);
    expect(sleeps).toEqual([500, 1_000]);
    now = 5_000;
    await limiter.take();
    expect(sleeps).toEqual([500, 1_000]);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => new RateLimiter(0)).toThrow(/positive number of requests per second/);
  });

  it('gives the clients of one installation the same limiter', () => {
    const a = sharedRateLimiter('installation-1', 2);
    expect(sharedRateLimiter('installation-1', 2)).toBe(a);
    expect(sharedRateLimiter('installation-2', 2)).not.toBe(a);
    expect(sharedRateLimiter('installation-1', 4).requestsPerSecond).toBe(4);
  });
});
