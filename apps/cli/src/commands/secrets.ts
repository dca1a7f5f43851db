import type { Command } from 'commander';
import { ConfigError } from '@tributary/core';
import { generateSecretKey, parseSecretKey } from '@tributary/store-typeorm/secrets';
import { withContext, type CliContext } from '../context.js';
import { println, type Io } from '../io.js';
import { jsonFlag, outputFor } from '../cli-options.js';
import { readSecretInput } from '../token-option.js';
import { cipherFor, keyIdOf, writeKeyFile, type SecretKeyRing } from '../secret-key.js';

function unknownKeys(ring: SecretKeyRing, usage: Record<string, number>): string[] {
  const known = new Set(ring.keys.map(keyIdOf));
  return Object.keys(usage).filter((id) => !known.has(id));
}

function refuseUnknownKeys(ring: SecretKeyRing, usage: Record<string, number>): void {
  const missing = unknownKeys(ring, usage);
  if (missing.length === 0) return;
  throw new ConfigError('SECRET_KEY_UNKNOWN', `Some secrets are sealed with key(s) ${missing.join(', ')}, which are not configured; nothing was changed.`, {
    hint: 'Add those keys (TRIBUTARY_SECRET_KEY_PREVIOUS, or the key file) first, or replace the affected tokens with `tributary app token`.',
  });
}

/**
 * Rotates the key that seals secrets at rest, safely at every step. With a key file: the new key
 * (given, or generated) is written first, in front of the old ones, atomically; then every secret is
 * sealed again under it in one transaction. A crash in between leaves every secret readable, and
 * running the command again finishes the job. With TRIBUTARY_SECRET_KEY the operator swaps the
 * variables (new key current, old one in TRIBUTARY_SECRET_KEY_PREVIOUS) and this re-seals.
 */
export async function rotateSecrets(ctx: CliContext, options: { newKey?: string; newKeyFile?: string; json?: boolean }): Promise<void> {
  const out = outputFor(ctx.io, options);
  const newKey = await readSecretInput(
    { value: options.newKey, file: options.newKeyFile },
    {
      what: 'the new key',
      flag: '--new-key',
      fileFlag: '--new-key-file',
      envName: 'TRIBUTARY_NEW_SECRET_KEY',
      envValue: ctx.env.TRIBUTARY_NEW_SECRET_KEY,
      stdin: ctx.io.stdin,
    },
  );
  // Keys belong to a database that exists: rotating in the wrong directory must not make a new one.
  const store = await ctx.existingStore();
  const ring = ctx.secretKeys();
  refuseUnknownKeys(ring, await store.secretKeyUsage());
  let target = ring;
  if (ring.source === 'env') {
    if (newKey !== undefined) {
      throw new ConfigError('SECRET_KEY_FROM_ENV', 'TRIBUTARY_SECRET_KEY is set, so the new key must be given the same way; nothing was changed.', {
        hint: 'Set TRIBUTARY_SECRET_KEY to the new key and TRIBUTARY_SECRET_KEY_PREVIOUS to the old one, then run `tributary secrets rotate`.',
      });
    }
  } else {
    const key = newKey === undefined ? generateSecretKey() : parseSecretKey(newKey);
    const id = keyIdOf(key);
    const keys = [key, ...ring.keys.filter((k) => keyIdOf(k) !== id)];
    // The key file first: a secret is never sealed with a key that is not written down yet.
    writeKeyFile(ring.file!, keys);
    target = { ...ring, keys, currentKeyId: id };
    out.say(`Wrote the new key ${id} to ${ring.file} (mode 0600), in front of ${ring.keys.length} earlier key(s).`);
  }
  const { createStore } = await import('@tributary/store-typeorm');
  const resealer = await createStore({ url: ctx.env.TRIBUTARY_DATABASE_URL, cipher: cipherFor(target), logger: ctx.logger });
  let resealed: { resealed: number; keyId: string };
  try {
    const result = await resealer.resealSecrets();
    resealed = { resealed: result.resealed, keyId: result.keyId };
    out.say(`Sealed ${result.resealed} secret(s) with key ${result.keyId}; every stored secret now uses it.`);
  } finally {
    await resealer.close();
  }
  if (target.source === 'file' && target.keys.length > 1) {
    out.say(
      'The earlier key(s) stay in the key file so that nothing becomes unreadable. Restart every Tributary process using this file, then remove them with `tributary secrets prune`.',
    );
  } else if (target.source === 'env' && target.keys.length > 1) {
    out.say('TRIBUTARY_SECRET_KEY_PREVIOUS is no longer needed: remove it once every Tributary process uses the new key.');
  }
  out.result({ source: target.source, file: target.file ?? null, currentKeyId: resealed.keyId, resealed: resealed.resealed, keys: target.keys.map(keyIdOf) });
}

/** Removes keys no stored secret needs from the key file (the current key always stays). */
export async function pruneSecretKeys(ctx: CliContext, options: { json?: boolean } = {}): Promise<void> {
  const out = outputFor(ctx.io, options);
  // Keys belong to a database that exists: rotating in the wrong directory must not make a new one.
  const store = await ctx.existingStore();
  const ring = ctx.secretKeys();
  const usage = await store.secretKeyUsage();
  refuseUnknownKeys(ring, usage);
  const unused = ring.keys.filter((k) => keyIdOf(k) !== ring.currentKeyId && !usage[keyIdOf(k)]);
  const needed = ring.keys.filter((k) => keyIdOf(k) !== ring.currentKeyId && usage[keyIdOf(k)]);
  if (ring.source === 'env') {
    out.say(unused.length === 0 ? 'Every configured key is in use.' : `Unused keys in TRIBUTARY_SECRET_KEY_PREVIOUS: ${unused.map(keyIdOf).join(', ')}; remove them from the environment.`);
  } else if (unused.length > 0) {
    writeKeyFile(ring.file!, ring.keys.filter((k) => !unused.includes(k)));
    out.say(`Removed ${unused.length} unused key(s) from ${ring.file}: ${unused.map(keyIdOf).join(', ')}.`);
  } else {
    out.say('No unused key to remove.');
  }
  if (needed.length > 0) {
    out.say(`Still needed: ${needed.map((k) => `${keyIdOf(k)} (${usage[keyIdOf(k)]} secret(s))`).join(', ')}; run \`tributary secrets rotate\` first.`);
  }
  out.result({
    source: ring.source,
    file: ring.file ?? null,
    removed: ring.source === 'file' ? unused.map(keyIdOf) : [],
    unused: ring.source === 'env' ? unused.map(keyIdOf) : [],
    stillNeeded: needed.map((k) => ({ id: keyIdOf(k), secrets: usage[keyIdOf(k)] ?? 0 })),
  });
}

/** Shows which keys are configured and how many secrets each seals; never a key itself. */
export async function secretsStatus(ctx: CliContext, options: { json?: boolean }): Promise<void> {
  const store = await ctx.existingStore();
  const ring = ctx.secretKeys();
  const usage = await store.secretKeyUsage();
  const keys = ring.keys.map((k) => ({ id: keyIdOf(k), current: keyIdOf(k) === ring.currentKeyId, secrets: usage[keyIdOf(k)] ?? 0 }));
  const missing = unknownKeys(ring, usage).map((id) => ({ id, secrets: usage[id] ?? 0 }));
  if (options.json) {
    println(ctx.io.stdout, JSON.stringify({ source: ring.source, file: ring.file ?? null, keys, missing }, null, 2));
    return;
  }
  println(ctx.io.stdout, `Secret keys from ${ring.source === 'env' ? 'TRIBUTARY_SECRET_KEY / TRIBUTARY_SECRET_KEY_PREVIOUS' : ring.file}:`);
  for (const key of keys) println(ctx.io.stdout, `  ${key.id}${key.current ? '  (current)' : ''}  seals ${key.secrets} secret(s)`);
  for (const key of missing) println(ctx.io.stdout, `  ${key.id}  NOT CONFIGURED  seals ${key.secrets} secret(s) that cannot be read`);
}

/** Registers `tributary secrets rotate|prune|status`. */
export function registerSecrets(program: Command, io: Io): void {
  const secrets = program.command('secrets').description('the keys that encrypt app tokens at rest');
  secrets
    .command('rotate')
    .description('seal every stored secret with a new key; with a key file the new key is added in front of the old ones')
    .option('--new-key <key>', 'the new key, 32 bytes as base64 or hex, or - to read it from standard input (else TRIBUTARY_NEW_SECRET_KEY; default: generate one into the key file)')
    .option('--new-key-file <path>', 'read the new key from a file (keeps it out of shell history and the process list)')
    .addOption(jsonFlag())
    .action(async (options: { newKey?: string; newKeyFile?: string; json?: boolean }) => {
      await withContext(io, (ctx) => rotateSecrets(ctx, options));
    });
  secrets
    .command('prune')
    .description('remove keys that no stored secret needs any more from the key file')
    .addOption(jsonFlag())
    .action(async (options: { json?: boolean }) => {
      await withContext(io, (ctx) => pruneSecretKeys(ctx, options));
    });
  secrets
    .command('status')
    .description('show the configured keys (by id) and how many secrets each seals')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { json?: boolean }) => {
      await withContext(io, (ctx) => secretsStatus(ctx, options));
    });
}
