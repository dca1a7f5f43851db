import { userInfo } from 'node:os';
import type { Logger, Store } from '@tributary/core';
import { createStore } from '@tributary/store-typeorm';
import { readEnv, type Env } from './env.js';
import type { Io } from './io.js';
import { println } from './io.js';
import { createCliLogger } from './logger.js';
import { cipherFor, loadSecretKeys } from './secret-key.js';

/** What a command works with: the validated environment, a logger, and the store, opened on demand. */
export interface CliContext {
  io: Io;
  env: Env;
  logger: Logger;
  /** Who runs the command: TRIBUTARY_USER, else the login name. Workspace administrator checks use it. */
  operator: string;
  /** Opens (and migrates) the store on first use. */
  store(): Promise<Store>;
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
  let opened: Store | undefined;
  const ctx: CliContext = {
    io,
    env,
    logger,
    operator: env.TRIBUTARY_USER ?? loginName(),
    async store() {
      if (opened) return opened;
      const keys = loadSecretKeys(env);
      if (keys.createdFile) println(io.stderr, `Created a new secret key in ${keys.createdFile} (mode 0600). Back it up: app tokens cannot be read without it.`);
      const cipher = cipherFor(keys);
      const store = await createStore({ url: env.TRIBUTARY_DATABASE_URL, cipher, logger });
      await store.migrate();
      opened = store;
      return store;
    },
  };
  try {
    return await action(ctx);
  } finally {
    await opened?.close();
  }
}
