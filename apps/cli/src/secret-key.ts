import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '@tributary/core';
import { generateSecretKey, parseSecretKey } from '@tributary/store-typeorm';
import type { Env } from './env.js';

/** Where the key file lives when TRIBUTARY_SECRET_KEY is not set: beside the SQLite file, or in .tributary/. */
export function defaultKeyFile(env: Env): string {
  if (env.TRIBUTARY_SECRET_KEY_FILE) return resolve(env.TRIBUTARY_SECRET_KEY_FILE);
  const sqlite = /^sqlite:(.+)$/.exec(env.TRIBUTARY_DATABASE_URL);
  const path = sqlite?.[1];
  if (path && path !== ':memory:') return resolve(dirname(path), 'secret.key');
  return resolve('.tributary', 'secret.key');
}

/** The key that encrypts secrets at rest, and a notice when a new key file was just created. */
export interface LoadedSecretKey {
  key: Buffer;
  createdFile?: string;
}

/**
 * Loads the secret key from TRIBUTARY_SECRET_KEY, or from the key file; the embedded default
 * creates that file (mode 0600) on first use, so that a laptop needs no setup.
 */
export function loadSecretKey(env: Env): LoadedSecretKey {
  if (env.TRIBUTARY_SECRET_KEY) {
    try {
      return { key: parseSecretKey(env.TRIBUTARY_SECRET_KEY) };
    } catch (error) {
      throw new ConfigError('ENV_INVALID', 'Invalid environment: TRIBUTARY_SECRET_KEY must be 32 bytes, base64 or hex encoded.', {
        cause: error,
        hint: 'Generate one with: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64\'))"',
      });
    }
  }
  const file = defaultKeyFile(env);
  if (existsSync(file)) {
    try {
      return { key: parseSecretKey(readFileSync(file, 'utf8').trim()) };
    } catch (error) {
      throw new ConfigError('SECRET_KEY_INVALID', `The key file ${file} does not hold a 32-byte key.`, { cause: error });
    }
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${generateSecretKey().toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key: parseSecretKey(readFileSync(file, 'utf8').trim()), createdFile: file };
}
