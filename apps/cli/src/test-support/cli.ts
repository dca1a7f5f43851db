import { closeSync, existsSync, openSync } from 'node:fs';
import { Readable } from 'node:stream';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import type { TestDatabase } from '@tributary/testing';
import type { Io } from '../io.js';
import { main } from '../program.js';

/** What one in-process run of the CLI printed, and how it ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tributary <args>` in this process with captured output, the given environment and, optionally, standard input. */
export async function runCli(args: readonly string[], env: Record<string, string | undefined>, stdin?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/**
 * The test's own connection to the database, beside the CLI's, so that assertions read what was
 * stored rather than what the code under test reports. SQL uses `?` placeholders on both.
 */
export interface RawConnection {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Quoted name of a table Tributary owns, by its bare name. */
  own(bare: string): string;
  close(): Promise<void>;
}

export async function openRaw(database: TestDatabase): Promise<RawConnection> {
  if (database.dialect === 'sqlite') {
    const path = database.url.slice('sqlite:'.length);
    // Private, as Tributary creates it: `doctor` flags a database file that others can read.
    if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600));
    const db = new Sqlite(path);
    db.pragma('busy_timeout = 10000');
    return {
      async query<T>(sql: string, params: readonly unknown[] = []) {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all(...params) as T[];
        statement.run(...params);
        return [];
      },
      own: (bare) => `"tributary_${bare}"`,
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      let n = 0;
      return (await client.query(sql.replace(/\?/g, () => `$${++n}`), [...params])).rows as T[];
    },
    own: (bare) => `"tributary"."${bare}"`,
    async close() {
      await client.end();
    },
  };
}
