import { z } from 'zod';
import { identifierSchema, type Logger } from '@tributary/core';
import type { SecretCipher } from './secrets.js';

// What createStore accepts, and the check of it: the options apart from the factory that uses them.

/** Options of {@link createStore}. */
export interface StoreOptions {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://user:password@host:port/database`. */
  url: string;
  /** PostgreSQL schema for every table Tributary owns; default `tributary`. */
  schema?: string;
  /** SQLite prefix of every table Tributary owns; default `tributary_`. */
  tablePrefix?: string;
  /** Encrypts installation secrets at rest. */
  cipher: SecretCipher;
  /** Defaults to a silent logger. */
  logger?: Logger;
  /** PostgreSQL connection pool size; default 10. */
  poolSize?: number;
  /**
   * Whether a missing SQLite file (and its directory) may be created; default true. With false a
   * missing file is a ConfigError `STORE_MISSING`, so that a command that only reads creates nothing.
   */
  create?: boolean;
}

/** Checks {@link StoreOptions} (all but the URL, which parseDatabaseUrl checks). */
export const optionsSchema = z.object({
  schema: identifierSchema.default('tributary'),
  tablePrefix: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,29}$/, 'must be 1-30 lower-case letters, digits or "_", starting with a letter')
    .default('tributary_'),
  cipher: z.custom<SecretCipher>(
    (v) => typeof v === 'object' && v !== null && typeof (v as SecretCipher).encrypt === 'function' && typeof (v as SecretCipher).decrypt === 'function',
    'must be a SecretCipher (see createSecretCipher)',
  ),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).child === 'function', 'must be a pino logger').optional(),
  poolSize: z.number().int().min(1).max(100).optional(),
  create: z.boolean().optional(),
});
