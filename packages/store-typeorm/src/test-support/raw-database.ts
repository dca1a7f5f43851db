import Sqlite from 'better-sqlite3';
import pg from 'pg';
import type { TestDatabase } from '@tributary/testing';

/**
 * A connection of the test's own, beside the store's, so that assertions read the database
 * directly rather than through the code under test. SQL uses `?` placeholders on both dialects.
 */
export interface RawDatabase {
  readonly dialect: TestDatabase['dialect'];
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function openRawDatabase(database: TestDatabase): Promise<RawDatabase> {
  if (database.dialect === 'sqlite') {
    const db = new Sqlite(database.url.slice('sqlite:'.length));
    db.pragma('busy_timeout = 10000');
    return {
      dialect: 'sqlite',
      async query<T>(sql: string, params: readonly unknown[] = []) {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all(...params) as T[];
        statement.run(...params);
        return [];
      },
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return {
    dialect: 'postgres',
    async query<T>(sql: string, params: readonly unknown[] = []) {
      let n = 0;
      const result = await client.query(sql.replace(/\?/g, () => `$${++n}`), [...params]);
      return result.rows as T[];
    },
    async close() {
      await client.end();
    },
  };
}
