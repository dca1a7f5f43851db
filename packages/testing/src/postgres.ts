import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database created for one test file, dropped by {@link PostgresTestDatabase.drop}. */
export interface PostgresTestDatabase {
  /** Connection URL of the fresh database. */
  url: string;
  /** Database name. */
  name: string;
  /** Drops the database, ending any connection left open to it. */
  drop(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function adminUrl(): string {
  return process.env.TEST_POSTGRES_URL ?? DEFAULT_ADMIN_URL;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Creates a fresh PostgreSQL database for one test file. When PostgreSQL cannot be reached, a run
 * under `CI=true` fails (a storage test must run there, never skip) and a local run gets `null`
 * together with a loud warning, so that a laptop without PostgreSQL still runs the SQLite half.
 */
export async function createPostgresTestDatabase(label: string): Promise<PostgresTestDatabase | null> {
  const admin = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (error) {
    const message = `PostgreSQL is unreachable at ${new URL(adminUrl()).host} (${(error as Error).message})`;
    if (process.env.CI === 'true') {
      throw new Error(`${message}. CI must run the PostgreSQL tests: start PostgreSQL or set TEST_POSTGRES_URL.`);
    }
    console.warn(`\n!!! ${message}: SKIPPING the PostgreSQL tests of "${label}". Set TEST_POSTGRES_URL to run them.\n`);
    return null;
  }
  const safeLabel = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  const name = `trib_test_${safeLabel}_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl(), name),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
