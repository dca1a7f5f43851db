import { describe, expect, it } from 'vitest';
import { CommandFailed, describeFailure, EXIT, exitCodeFor } from './exit-codes.js';
import type { Io } from './io.js';
import { main } from './program.js';
import { ConfigError, InternalError, SourceApiError, StorageError } from '@tributary/core';
import { readEnv } from './env.js';

// A key in the environment: a test that reached the store by mistake would write no key file.
const KEY = Buffer.alloc(32, 7).toString('base64');

function capture(env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  };
  return { io, out: () => stdout, err: () => stderr };
}

describe('tributary', () => {
  it('lists its commands in --help', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(EXIT.ok);
    for (const command of ['install', 'sync', 'logs', 'sandbox', 'demo']) expect(c.out()).toMatch(new RegExp(`\\n  ${command}\\b`));
  });

  it('refuses `install <unknown> --help` as a usage error, printing no help', async () => {
    const c = capture();
    expect(await main(['install', 'nosuchapp', '--workspace', 'acme', '--help'], c.io)).toBe(EXIT.usage);
    expect(c.err()).toContain('error [APP_UNKNOWN]: There is no app "nosuchapp".');
    expect(c.err()).toMatch(/hint: Known apps: .*closealert/);
    expect(c.out()).toBe('');
    const known = capture();
    expect(await main(['install', 'closealert', '--help'], known.io)).toBe(EXIT.ok);
    expect(known.out()).toContain('Settings of CloseAlert');
    const bare = capture();
    expect(await main(['install', '--help'], bare.io)).toBe(EXIT.ok);
    expect(bare.out()).toContain('`tributary install <app> --help` lists them');
  });

  it('prints its version', async () => {
    const c = capture();
    expect(await main(['--version'], c.io)).toBe(EXIT.ok);
    expect(c.out().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on a bad TRIBUTARY_DATABASE_URL and names the variable', async () => {
    const c = capture({ TRIBUTARY_DATABASE_URL: 'mysql://localhost/db' });
    expect(await main(['logs', '--workspace', 'acme'], c.io)).toBe(EXIT.usage);
    expect(c.err()).toMatch(/TRIBUTARY_DATABASE_URL: must be postgres:\/\/.* or sqlite:<path>/);
  });

  it('prints its help to stdout when run without a command', async () => {
    const c = capture();
    expect(await main([], c.io)).toBe(EXIT.ok);
    expect(c.out()).toMatch(/^Usage: tributary/);
    expect(c.err()).toBe('');
  });

  it('says what is wrong with a flag in a sentence that names it, before opening any database', async () => {
    for (const args of [['logs', '--workspace', ''], ['sync', 'closealert', '--workspace', ''], ['profiles', 'list', '--workspace', '']]) {
      const c = capture({ TRIBUTARY_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', TRIBUTARY_SECRET_KEY: KEY });
      expect(await main(args, c.io)).toBe(EXIT.usage);
      expect(c.err()).toContain('--workspace must not be empty.');
      expect(c.err()).not.toMatch(/Too small|expected string|>=1/);
    }
    const limit = capture({ TRIBUTARY_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', TRIBUTARY_SECRET_KEY: KEY });
    expect(await main(['logs', '--workspace', 'acme', '--limit', '0'], limit.io)).toBe(EXIT.usage);
    expect(limit.err()).toContain('--limit must be at least 1.');
  });

  it('refuses an app named twice in different ways', async () => {
    const c = capture({ TRIBUTARY_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', TRIBUTARY_SECRET_KEY: KEY });
    expect(await main(['sync', 'closealert', '--app', 'typeform', '--workspace', 'acme'], c.io)).toBe(EXIT.usage);
    expect(c.err()).toContain('The app is named twice');
  });

  it('exits 2 on unknown commands and missing options', async () => {
    expect(await main(['nope'], capture().io)).toBe(EXIT.usage);
    const c = capture();
    expect(await main(['sync'], c.io)).toBe(EXIT.usage);
    expect(c.err()).toMatch(/--workspace/);
  });
});

describe('environment', () => {
  it('defaults to the embedded SQLite store', () => {
    expect(readEnv({})).toMatchObject({ TRIBUTARY_DATABASE_URL: 'sqlite:./.tributary/tributary.db', LOG_LEVEL: 'warn' });
  });

  it('names each bad variable', () => {
    expect(() => readEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});

describe('exit codes', () => {
  it('maps each kind of failure to its own code', () => {
    expect(exitCodeFor(new CommandFailed('x'))).toBe(1);
    expect(exitCodeFor(new ConfigError('USAGE', 'x'))).toBe(2);
    expect(exitCodeFor(new SourceApiError('SOURCE_UNAVAILABLE', 'x', { retryable: false }))).toBe(3);
    expect(exitCodeFor(new StorageError('STORE_QUERY_FAILED', 'x'))).toBe(4);
    expect(exitCodeFor(new InternalError('INTERNAL', 'x'))).toBe(70);
    expect(exitCodeFor(new TypeError('x'))).toBe(70);
  });

  it('asks for a bug report only for bugs', () => {
    expect(describeFailure(new TypeError('boom'))).toMatch(/please report/);
    expect(describeFailure(new ConfigError('CONFIG_INVALID', 'bad', { hint: 'fix it' }))).toBe('error [CONFIG_INVALID]: bad\nhint: fix it');
  });
});
