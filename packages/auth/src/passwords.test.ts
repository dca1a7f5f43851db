import { describe, expect, it } from 'vitest';
import { MIN_PASSWORD_LENGTH } from '@tributary/core';
import { checkNewPassword, generateOneTimePassword, hashPassword, needsRehash, verifyPassword } from './passwords.js';

describe('password hashing', () => {
  it('stores a salted scrypt hash with its parameters, never the password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain('horse');
    const again = await hashPassword('correct horse battery staple');
    expect(again).not.toBe(hash);
  });

  it('verifies the right password and refuses a wrong one, a tampered hash and an unreadable one', async () => {
    const hash = await hashPassword('correct horse battery staple', { log2N: 12, r: 8, p: 1 });
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    const parts = hash.split('$');
    const tampered = [...parts.slice(0, 5), Buffer.alloc(32, 1).toString('base64url')].join('$');
    expect(await verifyPassword('correct horse battery staple', tampered)).toBe(false);
    expect(await verifyPassword('correct horse battery staple', 'plain')).toBe(false);
    // A stored hash may not ask for a cost that would exhaust memory.
    expect(await verifyPassword('x', ['scrypt', 30, 8, 1, parts[4], parts[5]].join('$'))).toBe(false);
  });

  it('treats the password as Unicode text: composed and decomposed forms are the same password', async () => {
    const hash = await hashPassword('Caf\u00e9 au lait, tr\u00e8s chaud', { log2N: 12, r: 8, p: 1 });
    expect(await verifyPassword('Cafe\u0301 au lait, tre\u0300s chaud', hash)).toBe(true);
  });

  it('says when an older, cheaper hash should be made again', async () => {
    expect(needsRehash(await hashPassword('correct horse battery staple', { log2N: 12, r: 8, p: 1 }))).toBe(true);
    expect(needsRehash(await hashPassword('correct horse battery staple'))).toBe(false);
  });

  it('refuses a new password below the minimum length with PASSWORD_INVALID', () => {
    expect(() => checkNewPassword('x'.repeat(MIN_PASSWORD_LENGTH - 1))).toThrow(expect.objectContaining({ code: 'PASSWORD_INVALID' }));
    expect(() => checkNewPassword('x'.repeat(MIN_PASSWORD_LENGTH))).not.toThrow();
    expect(() => checkNewPassword('x'.repeat(5000))).toThrow(expect.objectContaining({ code: 'PASSWORD_INVALID' }));
  });

  it('makes one-time passwords that are long, random and usable as passwords', () => {
    const seen = new Set(Array.from({ length: 50 }, () => generateOneTimePassword()));
    expect(seen.size).toBe(50);
    for (const password of seen) {
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(() => checkNewPassword(password)).not.toThrow();
    }
  });
});
