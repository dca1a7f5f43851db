import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ConfigError, InternalError, type Logger, type Store } from '@tributary/core';
import type { TypeOrmStore } from '@tributary/store-typeorm';
import { readEnv, type Env } from './env.js';
import type { Io } from './io.js';
import { println } from './io.js';
import { createCliLogger } from './logger.js';
import { cipherFor, defaultKeyFile, legacyKeyFile, readSecretKeys, saveNewKeyFile, unsavedKeyRing, type SecretKeyRing } from './secret-key.js';

/** What a command works with: the validated environment, a logger, and the store, opened on demand. */
export interface CliContext {
  io: Io;
  env: Env;
  logger: Logger;
  /** Who runs the command: TRIBUTARY_USER, else the login name. Workspace administrator checks use it. */
  operator: string;
  /**
   * Opens the store on first use, creating the database (SQLite) and applying pending migrations:
   * for the commands that install, sync or otherwise change the schema. With `create: false` a
   * missing SQLite file is the ConfigError `DATABASE_MISSING` instead: for changes that only make
   * sense to a database that exists (uninstalling).
   */
  store(options?: { create?: boolean }): Promise<Store>;
  /**
   * Opens the store of an existing, up-to-date database and creates nothing (no file, directory,
   * table or key file): for the commands that only look. A missing SQLite file or pending
   * migrations are ConfigErrors that say to install an app or run `tributary migrate`.
   */
  existingStore(): Promise<Store>;
  /** The keys the store was opened with (after {@link store} or {@link existingStore}). */
  secretKeys(): SecretKeyRing;
  /** The migrations {@link store} applied, oldest first. */
  readonly appliedMigrations: readonly string[];
}

/** The SQLite file of a `sqlite:` URL (not in memory), for messages. */
function sqlitePathOf(url: string): string | undefined {
  const path = /^sqlite:(.+)$/.exec(url)?.[1];
  return path && path !== ':memory:' ? resolve(path.replace(/^\/\/(?=\/)/, '')) : undefined;
}

/** Sums the secrets per key id as `3 secret(s) sealed with key ab12cd34ef56`. */
function describeUsage(usage: Record<string, number>): string {
  return Object.entries(usage)
    .map(([id, n]) => `${n} secret(s) sealed with key ${id}`)
    .join(', ');
}

/** The login name, for an operator who did not set TRIBUTARY_USER. */
function loginName(): string {
  try {
    const name = userInfo().username.trim();
    if (name.length > 0) return name;
  } catch {
    // No entry in the password database (some containers): fall through.
  }
  return 'operator';
}

/** Runs a command with a context and always releases the store afterwards. */
export async function withContext<T>(io: Io, action: (ctx: CliContext) => Promise<T>): Promise<T> {
  const env = readEnv(io.env);
  const logger = createCliLogger(env, io.stderr);
  let opened: TypeOrmStore | undefined;
  let migrated = false;
  let keys: SecretKeyRing | undefined;
  const appliedMigrations: string[] = [];

  /**
   * Opens the store with the configured keys. Without a key file a new key is generated in memory;
   * it is written only by a migrating command and only when the database holds no secret: a second
   * key would seal new tokens while the old ones stay unreadable.
   */
  const open = async (migrate: boolean, create = migrate): Promise<TypeOrmStore> => {
    // TypeORM and the drivers load only for a command that opens the store, never for --help.
    const { createStore } = await import('@tributary/store-typeorm');
    const found = readSecretKeys(env);
    let ring = found ?? unsavedKeyRing(defaultKeyFile(env));
    let store: TypeOrmStore;
    try {
      store = await createStore({ url: env.TRIBUTARY_DATABASE_URL, cipher: cipherFor(ring), logger, create });
    } catch (error) {
      const path = sqlitePathOf(env.TRIBUTARY_DATABASE_URL);
      if ((error as { code?: unknown }).code === 'STORE_MISSING' && path) {
        throw new ConfigError('DATABASE_MISSING', `no database at ${path}; install an app first or run \`tributary migrate\``, { cause: error });
      }
      throw error;
    }
    try {
      if (migrate) {
        const pending = await store.pendingMigrations();
        await store.migrate();
        appliedMigrations.push(...pending);
      } else {
        const pending = await store.pendingMigrations();
        if (pending.length > 0) {
          throw new ConfigError(
            'DATABASE_OUTDATED',
            `The ${store.database} has ${pending.length} migration(s) this version of Tributary needs and has not applied (${pending.join(', ')}); run \`tributary migrate\` first.`,
            { hint: 'Commands that only read never change the schema; `tributary migrate` (or install, sync, the runner) applies the migrations.' },
          );
        }
      }
      if (!found) {
        const usage = await store.secretKeyUsage();
        if (Object.keys(usage).length > 0) {
          const legacy = legacyKeyFile();
          const seen = `no key file at ${ring.file} and TRIBUTARY_SECRET_KEY is not set`;
          const hint = `Point TRIBUTARY_SECRET_KEY_FILE at the key file that holds ${Object.keys(usage).length === 1 ? 'that key' : 'those keys'} (or set TRIBUTARY_SECRET_KEY)${
            existsSync(legacy) && legacy !== ring.file ? `; an earlier version kept it in the working directory: move ${legacy} to ${ring.file}` : ''
          }. If that key is lost for good, create a new key file yourself (\`mkdir -p ${dirname(ring.file ?? 'secret.key')} && (umask 077; openssl rand -base64 32 > ${ring.file})\`) and replace each token with \`tributary app token\`.`;
          if (migrate) {
            throw new ConfigError('SECRET_KEY_MISSING', `The database holds ${describeUsage(usage)}, but there is ${seen}; a new key would not open them, so none was created.`, { hint });
          }
          // A command that only looks goes on without the key: it says what it cannot open.
          println(io.stderr, `warning: the database holds ${describeUsage(usage)}, but there is ${seen}: those tokens cannot be read. ${hint}`);
        } else if (migrate) {
          ring = saveNewKeyFile(ring);
          if (ring.createdFile) println(io.stderr, `Created a new secret key in ${ring.createdFile} (mode 0600). Back it up: app tokens cannot be read without it.`);
          else {
            // Another process wrote the key file first: seal with its key, not ours.
            await store.close();
            store = await createStore({ url: env.TRIBUTARY_DATABASE_URL, cipher: cipherFor(ring), logger });
          }
        }
      }
    } catch (error) {
      await store.close();
      throw error;
    }
    keys = ring;
    return store;
  };

  const ctx: CliContext = {
    io,
    env,
    logger,
    operator: env.TRIBUTARY_USER ?? loginName(),
    appliedMigrations,
    async store(options = {}) {
      if (opened && !migrated) {
        // Opened to look first; this command also changes things: open again, migrating.
        await opened.close();
        opened = undefined;
      }
      opened ??= await open(true, options.create ?? true);
      migrated = true;
      return opened;
    },
    async existingStore() {
      opened ??= await open(false);
      return opened;
    },
    secretKeys() {
      if (!keys) throw new InternalError('INTERNAL', 'secretKeys() was called before the store was opened.');
      return keys;
    },
  };
  try {
    return await action(ctx);
  } finally {
    await opened?.close();
  }
}
