import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tributary/sdk';
import { describeTokenExpiry, readTokenExpiry } from './token.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const DAY_MS = 86_400_000;

function jwt(claims: unknown): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.ZmFrZS1zaWduYXR1cmU`;
}

function expiringIn(ms: number): string {
  return jwt({ sub: 'test', exp: Math.floor((NOW.getTime() + ms) / 1000) });
}

describe('readTokenExpiry', () => {
  it('reads a token without expiry', () => {
    expect(readTokenExpiry(jwt({ sub: 'test' }), NOW)).toEqual({
      expiresAt: null,
      daysLeft: null,
      expired: false,
      warning: null,
    });
  });

  it('reads a token with plenty of time left', () => {
    const expiry = readTokenExpiry(expiringIn(30 * DAY_MS), NOW);
    expect(expiry).toEqual({
      expiresAt: new Date(NOW.getTime() + 30 * DAY_MS),
      daysLeft: 30,
      expired: false,
      warning: null,
    });
  });

  it('warns 14 and 7 days ahead, counting started days', () => {
    expect(readTokenExpiry(expiringIn(14 * DAY_MS), NOW)).toMatchObject({ daysLeft: 14, warning: '14-days' });
    expect(readTokenExpiry(expiringIn(14 * DAY_MS + 1000), NOW)).toMatchObject({
      daysLeft: 15,
      warning: null,
    });
    expect(readTokenExpiry(expiringIn(7 * DAY_MS + 1000), NOW)).toMatchObject({
      daysLeft: 8,
      warning: '14-days',
    });
    expect(readTokenExpiry(expiringIn(7 * DAY_MS), NOW)).toMatchObject({ daysLeft: 7, warning: '7-days' });
    expect(readTokenExpiry(expiringIn(3600_000), NOW)).toMatchObject({
      daysLeft: 1,
      warning: '7-days',
      expired: false,
    });
  });

  it('reports an expired token, the expiry instant included', () => {
    expect(readTokenExpiry(expiringIn(0), NOW)).toMatchObject({
      expired: true,
      daysLeft: 0,
      warning: 'expired',
    });
    expect(readTokenExpiry(expiringIn(-5 * DAY_MS), NOW)).toMatchObject({
      expired: true,
      daysLeft: 0,
      warning: 'expired',
    });
  });

  it.each([
    ['not three parts', 'abc.def'],
    ['bad characters', 'a+b.c/d.e'],
    ['a payload that is not JSON', 'eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24.c2ln'],
    ['a non-numeric exp', jwt({ exp: 'soon' })],
    ['a payload that is not an object', jwt([1, 2])],
  ])('refuses %s with a ConfigError that does not echo the token', (_label, token) => {
    let thrown: unknown;
    try {
      readTokenExpiry(token, NOW);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).code).toBe('TOKEN_MALFORMED');
    expect((thrown as ConfigError).message).not.toContain(token);
  });

  it('describes the expiry for the operator', () => {
    expect(describeTokenExpiry(readTokenExpiry(jwt({}), NOW))).toMatch(/no expiry/);
    expect(describeTokenExpiry(readTokenExpiry(expiringIn(30 * DAY_MS), NOW))).toMatch(/30 days left/);
    expect(describeTokenExpiry(readTokenExpiry(expiringIn(5 * DAY_MS), NOW))).toMatch(
      /5 days left.*tributary app token/,
    );
    expect(describeTokenExpiry(readTokenExpiry(expiringIn(-DAY_MS), NOW))).toMatch(
      /expired.*tributary app token/,
    );
  });
});
