import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ConfigError, MIN_PASSWORD_LENGTH } from '@tributary/core';

// Passwords are stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (salt and hash base64url), so that
// raising the cost later still verifies every hash made before.

/** scrypt cost of new hashes: N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds), as OWASP recommends at least. */
export const PASSWORD_HASH_PARAMS = { log2N: 15, r: 8, p: 1 } as const;
/** Longest password accepted: scrypt takes any length, this only bounds a request. */
export const MAX_PASSWORD_LENGTH = 1024;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Hashes with parameters beyond these are refused: a stored hash must not make a sign-in take a gigabyte. */
const MAX_LOG2_N = 20;
const MAX_R = 16;
const MAX_P = 4;

interface HashParams {
  log2N: number;
  r: number;
  p: number;
}

function derive(password: string, salt: Buffer, params: HashParams, length: number): Promise<Buffer> {
  const N = 2 ** params.log2N;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Refuses a password shorter than the minimum or longer than a request may carry. */
export function checkNewPassword(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new ConfigError('PASSWORD_INVALID', `A password needs at least ${MIN_PASSWORD_LENGTH} characters.`, {
      hint: 'Choose a longer one; a few unrelated words make a long password that is easy to remember.',
    });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new ConfigError('PASSWORD_INVALID', `A password may have at most ${MAX_PASSWORD_LENGTH} characters.`);
  }
}

/** A salted scrypt hash of `password`, with its parameters, for storing. */
export async function hashPassword(password: string, params: HashParams = PASSWORD_HASH_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return ['scrypt', params.log2N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

function parseHash(encoded: string): { params: HashParams; salt: Buffer; key: Buffer } | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [log2N, r, p] = parts.slice(1, 4).map((n) => (/^[1-9][0-9]?$/.test(n!) ? Number(n) : NaN));
  if (!(log2N! >= 10 && log2N! <= MAX_LOG2_N && r! >= 1 && r! <= MAX_R && p! >= 1 && p! <= MAX_P)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || key.length < 16) return undefined;
  return { params: { log2N: log2N!, r: r!, p: p! }, salt, key };
}

/** Whether `password` matches a stored hash, compared in constant time; false for a hash it cannot read. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed || password.length > MAX_PASSWORD_LENGTH) return false;
  const key = await derive(password, parsed.salt, parsed.params, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}

/** Whether a stored hash was made with weaker parameters than new hashes get (re-hash at the next sign-in). */
export function needsRehash(encoded: string, params: HashParams = PASSWORD_HASH_PARAMS): boolean {
  const parsed = parseHash(encoded);
  return !parsed || parsed.params.log2N < params.log2N || parsed.params.r < params.r;
}

/**
 * A random one-time password an operator hands over: 24 characters of base64url (144 bits), so
 * long enough for the minimum length and not worth guessing.
 */
export function generateOneTimePassword(): string {
  return randomBytes(18).toString('base64url');
}
