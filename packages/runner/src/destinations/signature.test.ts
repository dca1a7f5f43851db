import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from './signature.js';

describe('webhook signature', () => {
  const secret = 'a-shared-secret-of-some-length';
  const body = '{"id":"b1","changes":[{"email":"ann@example.com","change":"left"}]}';

  it('is HMAC-SHA256 over "<seconds>.<body>", as the README tells receivers', () => {
    const expected = createHmac('sha256', secret).update(`1718884800.${body}`).digest('hex');
    expect(signatureHeader(secret, 1718884800, body)).toBe(`t=1718884800,v1=${expected}`);
  });

  it('verifies a genuine header and refuses a changed body, another secret, an old timestamp or garbage', () => {
    const header = signatureHeader(secret, 1000, body);
    expect(verifySignature({ secret, header, body, nowSeconds: 1010 })).toBe(true);
    expect(verifySignature({ secret, header, body: body.replace('left', 'entered'), nowSeconds: 1010 })).toBe(false);
    expect(verifySignature({ secret: `${secret}x`, header, body, nowSeconds: 1010 })).toBe(false);
    expect(verifySignature({ secret, header, body, nowSeconds: 1000 + 301 })).toBe(false);
    expect(verifySignature({ secret, header: 't=abc,v1=00', body, nowSeconds: 1000 })).toBe(false);
    expect(verifySignature({ secret, header: undefined, body, nowSeconds: 1000 })).toBe(false);
  });
});
