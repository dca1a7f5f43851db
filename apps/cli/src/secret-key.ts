import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '@tributary/core';
import { createSecretCipher, generateSecretKey, parseSecretKey, type SecretCipher } from '@tributary/store-typeorm/secrets';
import type { Env } from './env.js';

/**
 * Where the key file lives when TRIBUTARY_SECRET_KEY is not set: TRIBUTARY_SECRET_KEY_FILE; else,
 * for a SQLite file, beside it (the path the user named); else (PostgreSQL, or SQLite in memory) in
 * the user's config directory, so that the key never depends on the directory a command runs in.
 */
export function defaultKeyFile(env: Env): string {
  if (env.TRIBUTARY_SECRET_KEY_FILE) return resolve(env.TRIBUTARY_SECRET_KEY_FILE);
  const sqlite = /^sqlite:(.+)$/.exec(env.TRIBUTARY_DATABASE_URL);
  const path = sqlite?.[1];
  if (path && path !== ':memory:') return resolve(dirname(path), 'secret.key');
  return join(userConfigDirectory(env), 'tributary', 'secret.key');
}

/** `$XDG_CONFIG_HOME` when it is an absolute path (as the XDG spec asks), else `~/.config`. */
function userConfigDirectory(env: Env): string {
  if (env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME)) return env.XDG_CONFIG_HOME;
  return join(env.HOME ?? homedir(), '.config');
}

/** Where versions before the per-user default kept a PostgreSQL key file: the working directory. */
export function legacyKeyFile(): string {
  return resolve('.tributary', 'secret.key');
}

/**
 * The id stored beside each sealed secret: a fingerprint of the key (never the key), so that the
 * same key has the same id wherever it is configured and ids never need to be written down.
 */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/** Every key that may have sealed a stored secret; the first seals new ones. */
export interface SecretKeyRing {
  /** Newest first. */
  keys: Buffer[];
  currentKeyId: string;
  /** Where the keys come from: the environment, or a key file. */
  source: 'env' | 'file';
  /** The key file, when the keys come from one. */
  file?: string;
  /** Set when the key file was just created. */
  createdFile?: string;
  /** A key generated in memory for a key file that does not exist yet, and was not written. */
  unsaved?: boolean;
}

const KEY_FILE_HEADER = [
  '# Tributary secret keys, newest first. The first key seals new secrets; the others only open',
  '# secrets sealed before a rotation (`tributary secrets prune` removes those no secret needs).',
  '# Keep this file private (mode 0600) and back it up: stored app tokens cannot be read without it.',
];

/** Reads a key file: one key (base64 or hex) per line, `#` comments and blank lines ignored. */
export function parseKeyFile(text: string, file: string): Buffer[] {
  const keys: Buffer[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    try {
      keys.push(parseSecretKey(trimmed));
    } catch (error) {
      throw new ConfigError('SECRET_KEY_INVALID', `Line ${index + 1} of the key file ${file} is not a 32-byte key (base64 or hex).`, { cause: error });
    }
  }
  if (keys.length === 0) throw new ConfigError('SECRET_KEY_INVALID', `The key file ${file} holds no key.`);
  return keys;
}

/**
 * Writes the key file atomically with mode 0600: a temporary file beside it is written, flushed and
 * renamed over it, so that a crash leaves the old file or the new one, never half of one.
 */
export function writeKeyFile(file: string, keys: readonly Buffer[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const text = `${[...KEY_FILE_HEADER, ...keys.map((k) => k.toString('base64'))].join('\n')}\n`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function envKey(text: string, variable: string): Buffer {
  try {
    return parseSecretKey(text);
  } catch (error) {
    throw new ConfigError('ENV_INVALID', `Invalid environment: ${variable} must be 32 bytes, base64 or hex encoded.`, {
      cause: error,
      hint: 'Generate one with: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64\'))"',
    });
  }
}

function ring(keys: Buffer[], source: SecretKeyRing['source'], extra: Partial<SecretKeyRing> = {}): SecretKeyRing {
  // The same key listed twice (a previous key that is also current) is kept once, at its first place.
  const seen = new Set<string>();
  const unique = keys.filter((key) => {
    const id = keyIdOf(key);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return { keys: unique, currentKeyId: keyIdOf(unique[0]!), source, ...extra };
}

/**
 * Reads the keys that encrypt secrets at rest: TRIBUTARY_SECRET_KEY (and TRIBUTARY_SECRET_KEY_PREVIOUS,
 * comma-separated, for secrets sealed before a rotation), or else the key file; undefined when that
 * file does not exist.
 */
export function readSecretKeys(env: Env): SecretKeyRing | undefined {
  if (env.TRIBUTARY_SECRET_KEY) {
    const previous = (env.TRIBUTARY_SECRET_KEY_PREVIOUS ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((text) => envKey(text, 'TRIBUTARY_SECRET_KEY_PREVIOUS'));
    return ring([envKey(env.TRIBUTARY_SECRET_KEY, 'TRIBUTARY_SECRET_KEY'), ...previous], 'env');
  }
  const file = defaultKeyFile(env);
  if (existsSync(file)) return ring(parseKeyFile(readFileSync(file, 'utf8'), file), 'file', { file });
  return undefined;
}

/** A new key for `file`, in memory only: {@link saveNewKeyFile} writes it once it is known to be wanted. */
export function unsavedKeyRing(file: string): SecretKeyRing {
  return ring([generateSecretKey()], 'file', { file, unsaved: true });
}

/**
 * Writes the key of an unsaved ring to its file (mode 0600, its directory 0700 when created). When
 * another process created the file first, that file wins and its keys are returned.
 */
export function saveNewKeyFile(keys: SecretKeyRing): SecretKeyRing {
  const file = keys.file!;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return ring(parseKeyFile(readFileSync(file, 'utf8'), file), 'file', { file });
  }
  try {
    writeSync(fd, `${[...KEY_FILE_HEADER, ...keys.keys.map((k) => k.toString('base64'))].join('\n')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return ring(parseKeyFile(readFileSync(file, 'utf8'), file), 'file', { file, createdFile: file });
}

/**
 * The keys, creating the key file (mode 0600) when there is none. Commands go through the CLI
 * context instead, which first checks that the database holds no secret a new key could not open.
 */
export function loadSecretKeys(env: Env): SecretKeyRing {
  return readSecretKeys(env) ?? saveNewKeyFile(unsavedKeyRing(defaultKeyFile(env)));
}

/** The cipher over a key ring: seals with the first key, opens with any. */
export function cipherFor(keys: SecretKeyRing): SecretCipher {
  return createSecretCipher({ keys: Object.fromEntries(keys.keys.map((k) => [keyIdOf(k), k])), currentKeyId: keys.currentKeyId });
}
