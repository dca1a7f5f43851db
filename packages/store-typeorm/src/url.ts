import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '@tributary/core';

/** Where the store lives, parsed from a Tributary database URL. */
export type DatabaseTarget =
  | {
      dialect: 'sqlite';
      /** Absolute file path, or `:memory:` for a private in-memory database. */
      path: string;
      /** Names the database without secrets, for messages. */
      description: string;
    }
  | {
      dialect: 'postgres';
      /** The URL as given, password included: only the driver ever sees it. */
      url: string;
      host: string;
      port: number;
      /** Database name; PostgreSQL defaults it to the user name when the URL has none. */
      database: string;
      /** Names the database without secrets, for messages. */
      description: string;
    };

/** The forms a database URL may take, quoted in every error about one. */
export const DATABASE_URL_FORMS =
  'sqlite:<path> (e.g. sqlite:./data/tributary.db), sqlite::memory:, or postgres://user:password@host:5432/database';

const fail = (problem: string): never => {
  throw new ConfigError('DATABASE_URL_INVALID', `TRIBUTARY_DATABASE_URL ${problem}. Expected ${DATABASE_URL_FORMS}.`, {
    hint: 'Set TRIBUTARY_DATABASE_URL to one of the forms above.',
  });
};

// A URL may carry a password, so an error only ever repeats its scheme.
function schemeOf(text: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  return match ? `"${match[1]}:"` : 'no scheme';
}

const urlTextSchema = z.string().trim().min(1);

function parseSqlite(rest: string): DatabaseTarget {
  if (rest === ':memory:') return { dialect: 'sqlite', path: ':memory:', description: 'in-memory SQLite database' };
  // `sqlite:///abs/file.db` is a common spelling of `sqlite:/abs/file.db`.
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path.length === 0) fail('names no SQLite file after "sqlite:"');
  if (path.includes('\u0000')) fail('holds a NUL character in its SQLite path');
  const absolute = resolve(path);
  return { dialect: 'sqlite', path: absolute, description: `SQLite database file ${absolute}` };
}

function parsePostgres(text: string): DatabaseTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('is a postgres:// URL that cannot be parsed');
  }
  if (!url.hostname) fail('is a postgres:// URL without a host');
  const port = url.port ? Number(url.port) : 5432;
  const user = decodeURIComponent(url.username) || 'postgres';
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || user;
  if (database.includes('/')) fail('names a PostgreSQL database containing "/"');
  const host = url.hostname;
  return {
    dialect: 'postgres',
    url: text,
    host,
    port,
    database,
    description: `PostgreSQL database "${database}" at ${host}:${port}`,
  };
}

/**
 * Parses a Tributary database URL: `sqlite:<path>`, `sqlite::memory:`, or `postgres://…`
 * (`postgresql://` too). A relative SQLite path is resolved against the working directory.
 * Throws a ConfigError naming the accepted forms, and never repeating the URL (it may hold a password).
 */
export function parseDatabaseUrl(input: unknown): DatabaseTarget {
  const parsed = urlTextSchema.safeParse(input);
  if (!parsed.success) return fail('is empty or not a string');
  const text = parsed.data;
  if (text.startsWith('sqlite:')) return parseSqlite(text.slice('sqlite:'.length));
  if (text.startsWith('postgres://') || text.startsWith('postgresql://')) return parsePostgres(text);
  return fail(`has an unsupported scheme (${schemeOf(text)})`);
}
