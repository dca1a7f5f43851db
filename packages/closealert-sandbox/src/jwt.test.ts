import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from './jwt.js';

const SECRET = 'unit-test-signing-secret';
const NOW_MS = Date.parse('2024-06-15T12:00:00Z');
const NOW_S = NOW_MS / 1000;

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('signToken / verifyToken', () => {
  it('round-trips the claims of a token without expiry', () => {
    const token = signToken({ sub: 'a', project: 'company.com', iat: NOW_S }, SECRET);
    expect(token.split('.')).toHaveLength(3);
    expect(verifyToken(token, SECRET, NOW_MS)).toEqual({
      ok: true,
      claims: { sub: 'a', project: 'company.com', iat: NOW_S },
    });
  });

  it('writes a standard HS256 header', () => {
    const token = signToken({ sub: 'a', project: 'p', iat: NOW_S }, SECRET);
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as unknown;
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it('refuses a token signed with another secret', () => {
    const token = signToken({ sub: 'a', project: 'p', iat: NOW_S }, 'another-secret');
    expect(verifyToken(token, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'signature' });
  });

  it('refuses a token whose claims were altered after signing', () => {
    const [header, , signature] = signToken({ sub: 'a', project: 'p', iat: NOW_S }, SECRET).split('.');
    const forged = `${header}.${encode({ sub: 'a', project: 'other', iat: NOW_S })}.${signature}`;
    expect(verifyToken(forged, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'signature' });
  });

  it('refuses alg none and other algorithms', () => {
    const claims = encode({ sub: 'a', project: 'p', iat: NOW_S });
    expect(verifyToken(`${encode({ alg: 'none' })}.${claims}.x`, SECRET, NOW_MS)).toEqual({
      ok: false,
      reason: 'algorithm',
    });
    const input = `${encode({ alg: 'HS512', typ: 'JWT' })}.${claims}`;
    const signature = createHmac('sha512', SECRET).update(input).digest('base64url');
    expect(verifyToken(`${input}.${signature}`, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'algorithm' });
  });

  it.each(['', 'abc', 'a.b', 'a.b.c.d', 'a.b.c', '!!.??.**', `${encode('just a string')}.${encode({})}.x`])(
    'refuses the malformed token %j',
    (token) => {
      expect(verifyToken(token, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'malformed' });
    },
  );

  it('refuses correctly signed claims of the wrong shape', () => {
    const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: 'a', iat: 'yesterday' })}`;
    const signature = createHmac('sha256', SECRET).update(input).digest('base64url');
    expect(verifyToken(`${input}.${signature}`, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'claims' });
  });

  it('treats exp <= now as expired and exp > now as valid', () => {
    const at = (exp: number) => signToken({ sub: 'a', project: 'p', iat: NOW_S - 100, exp }, SECRET);
    expect(verifyToken(at(NOW_S - 1), SECRET, NOW_MS)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyToken(at(NOW_S), SECRET, NOW_MS)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyToken(at(NOW_S + 1), SECRET, NOW_MS).ok).toBe(true);
  });
});
