import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_KEY_PREFIX, generateApiKey, generateToken, hashSecret, isApiKeyShaped, isTokenShaped } from './tokens.js';

describe('API keys and tokens', () => {
  it('makes keys that start with trb_, carry 32 random bytes and show only their start', () => {
    const { secret, secretHash, prefix } = generateApiKey();
    expect(secret).toMatch(/^trb_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret.slice(API_KEY_PREFIX.length), 'base64url')).toHaveLength(32);
    expect(prefix).toBe(secret.slice(0, 12));
    expect(secretHash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(secretHash).not.toContain(secret.slice(4));
    expect(generateApiKey().secret).not.toBe(secret);
  });

  it('recognises the shape of a key and of a token before any look-up', () => {
    expect(isApiKeyShaped(generateApiKey().secret)).toBe(true);
    expect(isApiKeyShaped(`trb_${'a'.repeat(42)}`)).toBe(false);
    expect(isApiKeyShaped(`xyz_${'a'.repeat(43)}`)).toBe(false);
    expect(isApiKeyShaped(`trb_${'a'.repeat(42)}'`)).toBe(false);
    const token = generateToken();
    expect(isTokenShaped(token)).toBe(true);
    expect(isTokenShaped(`${token}x`)).toBe(false);
    expect(hashSecret(token)).toMatch(/^[0-9a-f]{64}$/);
  });
});
