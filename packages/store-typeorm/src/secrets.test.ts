import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, StorageError } from '@tributary/core';
import { createSecretCipher, generateSecretKey, parseSecretKey, type SealedSecret } from './secrets.js';

const PLAINTEXT = 'eyJhbGciOiJIUzI1NiJ9.plaintext-token.sig';

function cipherWith(ids: string[], current = ids[0]!) {
  const keys = Object.fromEntries(ids.map((id) => [id, randomBytes(32)]));
  return { keys, cipher: createSecretCipher({ keys, currentKeyId: current }) };
}

function expectNoPlaintext(error: unknown): void {
  expect(String((error as Error).message)).not.toContain(PLAINTEXT);
  expect(JSON.stringify(error)).not.toContain(PLAINTEXT);
}

describe('createSecretCipher', () => {
  it('seals with AES-256-GCM and opens again', () => {
    const { cipher } = cipherWith(['k1']);
    const sealed = cipher.encrypt(PLAINTEXT);
    expect(sealed.keyId).toBe('k1');
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(sealed.tag, 'base64')).toHaveLength(16);
    expect(JSON.stringify(sealed)).not.toContain(PLAINTEXT);
    expect(cipher.decrypt(sealed)).toBe(PLAINTEXT);
  });

  it('uses a fresh nonce every time', () => {
    const { cipher } = cipherWith(['k1']);
    const a = cipher.encrypt(PLAINTEXT);
    const b = cipher.encrypt(PLAINTEXT);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('opens secrets sealed with an older key after rotation', () => {
    const { keys, cipher: old } = cipherWith(['old', 'new'], 'old');
    const sealed = old.encrypt(PLAINTEXT);
    const rotated = createSecretCipher({ keys, currentKeyId: 'new' });
    expect(rotated.encrypt('x').keyId).toBe('new');
    expect(rotated.decrypt(sealed)).toBe(PLAINTEXT);
  });

  it('refuses an unknown key id with a ConfigError that names the key, not the secret', () => {
    const { cipher: a } = cipherWith(['k1']);
    const { cipher: b } = cipherWith(['k2']);
    const sealed = a.encrypt(PLAINTEXT);
    let error: unknown;
    try {
      b.decrypt(sealed);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('SECRET_KEY_UNKNOWN');
    expect((error as Error).message).toContain('"k1"');
    expectNoPlaintext(error);
  });

  it.each<[string, (s: SealedSecret) => SealedSecret]>([
    ['ciphertext', (s) => ({ ...s, ciphertext: flipFirstByte(s.ciphertext) })],
    ['tag', (s) => ({ ...s, tag: flipFirstByte(s.tag) })],
    ['iv', (s) => ({ ...s, iv: flipFirstByte(s.iv) })],
    ['a short tag', (s) => ({ ...s, tag: Buffer.from('abc').toString('base64') })],
    ['a non-base64 field', (s) => ({ ...s, ciphertext: '***' })],
  ])('detects tampering with the %s as a StorageError without the plaintext', (_what, tamper) => {
    const { cipher } = cipherWith(['k1']);
    const sealed = tamper(cipher.encrypt(PLAINTEXT));
    let error: unknown;
    try {
      cipher.decrypt(sealed);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('SECRET_UNREADABLE');
    expectNoPlaintext(error);
  });

  it('a same-id key with other bytes fails the integrity check', () => {
    const { cipher: a } = cipherWith(['k1']);
    const { cipher: b } = cipherWith(['k1']);
    expect(() => b.decrypt(a.encrypt(PLAINTEXT))).toThrow(StorageError);
  });

  it('binds a sealed secret to its context', () => {
    const { cipher } = cipherWith(['k1']);
    const sealed = cipher.encrypt(PLAINTEXT, 'installation:a:apiToken');
    expect(cipher.decrypt(sealed, 'installation:a:apiToken')).toBe(PLAINTEXT);
    expect(() => cipher.decrypt(sealed, 'installation:b:apiToken')).toThrow(StorageError);
    expect(() => cipher.decrypt(sealed)).toThrow(StorageError);
  });

  it('refuses bad key rings without printing key bytes', () => {
    const short = Buffer.alloc(16, 7);
    expect(() => createSecretCipher({ keys: { k1: short }, currentKeyId: 'k1' })).toThrow(/32 bytes/);
    expect(() => createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k2' })).toThrow(/current key id/);
    expect(() => createSecretCipher({ keys: { 'bad id!': randomBytes(32) }, currentKeyId: 'bad id!' })).toThrow(ConfigError);
    try {
      createSecretCipher({ keys: { k1: short }, currentKeyId: 'k1' });
    } catch (error) {
      expect((error as Error).message).not.toContain(short.toString('base64'));
    }
  });

  it('keeps its own copy of the keys', () => {
    const key = randomBytes(32);
    const cipher = createSecretCipher({ keys: { k1: key }, currentKeyId: 'k1' });
    const sealed = cipher.encrypt(PLAINTEXT);
    key.fill(0);
    expect(cipher.decrypt(sealed)).toBe(PLAINTEXT);
  });
});

describe('secret keys', () => {
  it('generates 32 random bytes that parse back from base64 and hex', () => {
    const key = generateSecretKey();
    expect(key).toHaveLength(32);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(generateSecretKey().equals(key)).toBe(false);
  });

  it('parses hex, base64 and base64url', () => {
    const key = randomBytes(32);
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(` ${key.toString('base64')}\n`)).toEqual(key);
    expect(parseSecretKey(key.toString('base64url'))).toEqual(key);
  });

  it.each(['', 'short', 'ab'.repeat(31), randomBytes(31).toString('base64'), randomBytes(33).toString('hex'), 'not base64 at all, but long enough: 0123456789'])(
    'refuses %j without repeating it',
    (text) => {
      let error: unknown;
      try {
        parseSecretKey(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      if (text.length > 0) expect((error as Error).message).not.toContain(text);
    },
  );
});

function flipFirstByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = bytes[0]! ^ 0xff;
  return bytes.toString('base64');
}
