import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, StorageError } from '@tributary/core';

/** A secret sealed with AES-256-GCM; every field is base64 except the key id. */
export interface SealedSecret {
  /** Id of the key that sealed it, so that keys can be rotated. */
  keyId: string;
  /** 12-byte nonce, unique per encryption. */
  iv: string;
  ciphertext: string;
  /** 16-byte GCM authentication tag: any change to the other fields fails decryption. */
  tag: string;
}

/** Encrypts and decrypts secrets at rest. */
export interface SecretCipher {
  /** The key new secrets are sealed with. */
  readonly currentKeyId: string;
  /**
   * Seals `plaintext` with the current key. `context` (e.g. which installation and field the secret
   * belongs to) is authenticated but not stored: a sealed value copied to another row fails to open.
   */
  encrypt(plaintext: string, context?: string): SealedSecret;
  /** Opens a sealed secret; throws a ConfigError for an unknown key and a StorageError for a damaged value. */
  decrypt(sealed: SealedSecret, context?: string): string;
}

/** Options of {@link createSecretCipher}. */
export interface SecretCipherOptions {
  /** Every key that may have sealed a stored secret, by id; each 32 bytes. */
  keys: Record<string, Buffer>;
  /** The id of the key new secrets are sealed with. */
  currentKeyId: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

const keyIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"');

const optionsSchema = z
  .object({
    keys: z.record(
      keyIdSchema,
      z.instanceof(Buffer).refine((key) => key.length === KEY_BYTES, { message: `must be exactly ${KEY_BYTES} bytes` }),
    ),
    currentKeyId: keyIdSchema,
  })
  .refine((o) => Object.hasOwn(o.keys, o.currentKeyId), {
    message: 'the current key id must be one of the keys',
    path: ['currentKeyId'],
  });

const sealedSchema = z.object({
  keyId: z.string(),
  iv: z.base64(),
  ciphertext: z.base64(),
  tag: z.base64(),
});

function unreadable(cause?: unknown): StorageError {
  return new StorageError(
    'SECRET_UNREADABLE',
    'A stored secret failed its integrity check: it was altered, or sealed with a different key under the same key id.',
    { cause, hint: 'Restore the original secret key, or replace the API token without reinstalling (tributary app token --help).' },
  );
}

/** Creates an AES-256-GCM cipher over a key ring; old keys stay usable for reading after rotation. */
export function createSecretCipher(options: SecretCipherOptions): SecretCipher {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    // Key bytes never reach the message: only the paths and rules that failed.
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'options'}: ${i.message}`);
    throw new ConfigError('SECRET_KEY_INVALID', `Invalid secret keys: ${problems.join('; ')}`);
  }
  // Copies, so that a caller who later reuses or zeroes its buffers does not change our keys.
  const keys = new Map(Object.entries(parsed.data.keys).map(([id, key]) => [id, Buffer.from(key)]));
  const currentKeyId = parsed.data.currentKeyId;
  const currentKey = keys.get(currentKeyId)!;

  return {
    currentKeyId,
    encrypt(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, currentKey, iv, { authTagLength: TAG_BYTES });
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return {
        keyId: currentKeyId,
        iv: iv.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      };
    },
    decrypt(sealed, context) {
      const valid = sealedSchema.safeParse(sealed);
      if (!valid.success) throw unreadable();
      const key = keys.get(valid.data.keyId);
      if (!key) {
        throw new ConfigError(
          'SECRET_KEY_UNKNOWN',
          `A stored secret was sealed with key "${valid.data.keyId}", which is not among the configured secret keys.`,
          { hint: 'Configure that key next to the current one (TRIBUTARY_SECRET_KEY_PREVIOUS, or the key file): old keys stay needed until `tributary secrets rotate` has sealed every secret again.' },
        );
      }
      const iv = Buffer.from(valid.data.iv, 'base64');
      const tag = Buffer.from(valid.data.tag, 'base64');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw unreadable();
      try {
        const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
        if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag);
        const plaintext = Buffer.concat([decipher.update(Buffer.from(valid.data.ciphertext, 'base64')), decipher.final()]);
        return plaintext.toString('utf8');
      } catch (error) {
        // node:crypto's messages carry no key or plaintext, but keep only its class to be sure.
        throw unreadable(new Error((error as Error).name));
      }
    },
  };
}

/** A fresh random 32-byte key; write it down as base64 or hex, which {@link parseSecretKey} reads back. */
export function generateSecretKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Reads a 32-byte key written as 64 hex digits or as base64 (standard or URL-safe). */
export function parseSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new ConfigError(
    'SECRET_KEY_INVALID',
    `A secret key must be ${KEY_BYTES} bytes written as 64 hex digits or 44 base64 characters.`,
    { hint: 'Generate one with: openssl rand -base64 32' },
  );
}
