import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirectory } from '@tributary/testing';
import { readEnv } from './env.js';
import { cipherFor, defaultKeyFile, keyIdOf, loadSecretKeys, parseKeyFile, writeKeyFile } from './secret-key.js';

const dir = tempDirectory('secret-key');
let n = 0;
const fresh = () => join(dir, `k${++n}`, 'secret.key');

describe('key ids', () => {
  it('are a fingerprint of the key: stable, short, and never the key', () => {
    const key = randomBytes(32);
    expect(keyIdOf(key)).toMatch(/^[0-9a-f]{12}$/);
    expect(keyIdOf(Buffer.from(key))).toBe(keyIdOf(key));
    expect(keyIdOf(randomBytes(32))).not.toBe(keyIdOf(key));
    expect(key.toString('hex')).not.toContain(keyIdOf(key));
  });
});

describe('key files', () => {
  it('are created on first use with mode 0600, and read back the same', () => {
    const file = fresh();
    const created = loadSecretKeys(readEnv({ TRIBUTARY_SECRET_KEY_FILE: file }));
    expect(created.createdFile).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadSecretKeys(readEnv({ TRIBUTARY_SECRET_KEY_FILE: file }));
    expect(again.createdFile).toBeUndefined();
    expect(again.keys).toEqual(created.keys);
    expect(again).toMatchObject({ source: 'file', file, currentKeyId: keyIdOf(created.keys[0]!) });
  });

  it('hold several keys, newest first, written atomically with mode 0600', () => {
    const file = fresh();
    const keys = [randomBytes(32), randomBytes(32)];
    writeKeyFile(file, keys);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(parseKeyFile(readFileSync(file, 'utf8'), file)).toEqual(keys);
    const ring = loadSecretKeys(readEnv({ TRIBUTARY_SECRET_KEY_FILE: file }));
    expect(ring.currentKeyId).toBe(keyIdOf(keys[0]!));
    writeKeyFile(file, [keys[1]!]);
    expect(parseKeyFile(readFileSync(file, 'utf8'), file)).toEqual([keys[1]]);
    expect(readdirSync(join(file, '..')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('still read a file of one bare key, and refuse one with a bad line without quoting it', () => {
    const file = fresh();
    writeKeyFile(file, []);
    const key = randomBytes(32);
    writeFileSync(file, `${key.toString('hex')}\n`);
    expect(parseKeyFile(readFileSync(file, 'utf8'), file)).toEqual([key]);
    expect(() => parseKeyFile('# only a comment\n', file)).toThrow(/holds no key/);
    expect(() => parseKeyFile(`${key.toString('base64')}\nsecret-ish-line\n`, file)).toThrow(/Line 2 of the key file/);
    expect(() => parseKeyFile('secret-ish-line', file)).not.toThrow(/secret-ish-line/);
  });

  it('live beside the SQLite file by default', () => {
    expect(defaultKeyFile(readEnv({ TRIBUTARY_DATABASE_URL: 'sqlite:/srv/data/t.db' }))).toBe('/srv/data/secret.key');
  });

  it('live in the user config directory with PostgreSQL, never in the working directory', () => {
    const url = 'postgres://tributary@db.internal:5432/tributary';
    expect(defaultKeyFile(readEnv({ TRIBUTARY_DATABASE_URL: url, HOME: '/home/ann' }))).toBe('/home/ann/.config/tributary/secret.key');
    expect(defaultKeyFile(readEnv({ TRIBUTARY_DATABASE_URL: url, HOME: '/home/ann', XDG_CONFIG_HOME: '/cfg' }))).toBe('/cfg/tributary/secret.key');
    // The XDG spec ignores a relative XDG_CONFIG_HOME.
    expect(defaultKeyFile(readEnv({ TRIBUTARY_DATABASE_URL: url, HOME: '/home/ann', XDG_CONFIG_HOME: 'cfg' }))).toBe('/home/ann/.config/tributary/secret.key');
  });
});

describe('environment keys', () => {
  it('put TRIBUTARY_SECRET_KEY first and the previous keys after it, once each', () => {
    const current = randomBytes(32);
    const previous = [randomBytes(32), randomBytes(32)];
    const ring = loadSecretKeys(
      readEnv({
        TRIBUTARY_SECRET_KEY: current.toString('base64'),
        TRIBUTARY_SECRET_KEY_PREVIOUS: `${previous[0]!.toString('hex')}, ${previous[1]!.toString('base64')} ${current.toString('hex')}`,
      }),
    );
    expect(ring.keys).toEqual([current, ...previous]);
    expect(ring.source).toBe('env');
    const cipher = cipherFor(ring);
    expect(cipher.currentKeyId).toBe(keyIdOf(current));
    const old = cipherFor({ ...ring, keys: [previous[1]!], currentKeyId: keyIdOf(previous[1]!) });
    expect(cipher.decrypt(old.encrypt('hello', 'ctx'), 'ctx')).toBe('hello');
  });

  it('refuse a malformed previous key by name, without quoting it', () => {
    const attempt = () => loadSecretKeys(readEnv({ TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), TRIBUTARY_SECRET_KEY_PREVIOUS: 'hunter2' }));
    expect(attempt).toThrow(/TRIBUTARY_SECRET_KEY_PREVIOUS must be 32 bytes/);
    expect(attempt).not.toThrow(/hunter2/);
  });
});
