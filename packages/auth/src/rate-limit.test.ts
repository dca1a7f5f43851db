import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './rate-limit.js';
import { lockAfterFailure } from './service.js';
import { redactDetails } from './redact.js';

describe('the sign-in rate limit', () => {
  it('allows attempts up to the limit within the window and says how long to wait after', () => {
    const limiter = new SlidingWindowLimiter({ attempts: 3, windowMs: 60_000 });
    expect(limiter.attempt('a', 0)).toEqual({ allowed: true });
    expect(limiter.attempt('a', 10_000)).toEqual({ allowed: true });
    expect(limiter.attempt('a', 20_000)).toEqual({ allowed: true });
    expect(limiter.attempt('a', 30_000)).toEqual({ allowed: false, retryAfterMs: 30_000 });
    expect(limiter.attempt('b', 30_000)).toEqual({ allowed: true });
    // The window slides: the first attempt leaves it at 60 s, and a refused attempt was not counted.
    expect(limiter.attempt('a', 60_001)).toEqual({ allowed: true });
    expect(limiter.attempt('a', 60_002)).toEqual({ allowed: false, retryAfterMs: 9_998 });
    limiter.reset('a');
    expect(limiter.attempt('a', 60_003)).toEqual({ allowed: true });
  });

  it('keeps at most maxKeys keys, forgetting the least recently used', () => {
    const limiter = new SlidingWindowLimiter({ attempts: 1, windowMs: 60_000 }, 2);
    limiter.attempt('a', 0);
    limiter.attempt('b', 1);
    limiter.attempt('c', 2);
    expect(limiter.attempt('a', 3)).toEqual({ allowed: true });
    expect(limiter.attempt('c', 4)).toEqual({ allowed: false, retryAfterMs: 59_998 });
  });
});

describe('the lockout', () => {
  const policy = { maxFailedLogins: 5, lockoutMs: 15 * 60_000 };
  const now = new Date('2026-05-01T10:00:00.000Z');

  it('locks on the fifth failure in a row for fifteen minutes, and again on each failure after', () => {
    expect([0, 1, 2, 3].map((before) => lockAfterFailure(before, policy, now))).toEqual([undefined, undefined, undefined, undefined]);
    expect(lockAfterFailure(4, policy, now)?.toISOString()).toBe('2026-05-01T10:15:00.000Z');
    expect(lockAfterFailure(7, policy, now)?.toISOString()).toBe('2026-05-01T10:15:00.000Z');
  });
});

describe('audit details', () => {
  it('blank the values of keys that name a secret, at any depth, and keep the facts', () => {
    expect(
      redactDetails({ role: 'admin', password: 'hunter2hunter2', nested: { apiKey: 'trb_x', items: [{ token: 't', count: 2 }] }, oneTimePassword: true }),
    ).toEqual({ role: 'admin', password: '[redacted]', nested: { apiKey: '[redacted]', items: [{ token: '[redacted]', count: 2 }] }, oneTimePassword: true });
  });
});
