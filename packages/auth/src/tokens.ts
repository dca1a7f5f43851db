import { createHash, randomBytes } from 'node:crypto';

// API keys and session tokens carry 256 random bits: a fast hash (SHA-256) is enough to store them,
// unlike passwords, because nobody can guess what was hashed.

/** What every API key starts with, so that a leaked key is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'trb_';
/** Characters of a key shown in listings and the audit log: `trb_` and 8 characters of the random part. */
export const API_KEY_SHOWN_LENGTH = API_KEY_PREFIX.length + 8;

const RANDOM_BYTES = 32;
/** 32 bytes in base64url without padding. */
const RANDOM_PART = /^[A-Za-z0-9_-]{43}$/;

/** A hex SHA-256 of a high-entropy secret, as the store keeps it. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new API key: the secret shown once, its hash for the store, and its shown prefix. */
export function generateApiKey(): { secret: string; secretHash: string; prefix: string } {
  const secret = `${API_KEY_PREFIX}${randomBytes(RANDOM_BYTES).toString('base64url')}`;
  return { secret, secretHash: hashSecret(secret), prefix: secret.slice(0, API_KEY_SHOWN_LENGTH) };
}

/** Whether a string has the shape of an API key (checked before any database look-up). */
export function isApiKeyShaped(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX) && RANDOM_PART.test(value.slice(API_KEY_PREFIX.length));
}

/** A new random token (a session's cookie value or its CSRF token): 43 characters of base64url. */
export function generateToken(): string {
  return randomBytes(RANDOM_BYTES).toString('base64url');
}

/** Whether a string has the shape of a token {@link generateToken} makes. */
export function isTokenShaped(value: string): boolean {
  return RANDOM_PART.test(value);
}
