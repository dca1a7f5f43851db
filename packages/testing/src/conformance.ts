import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases, type TestDatabase } from './databases.js';

/**
 * What the conformance kit needs of a connector's sandbox: a local fake of the source, over real
 * HTTP, whose data and faults the test controls.
 */
export interface ConformanceSandbox<Fault extends string = string> {
  /** Base URL the connector is installed against. */
  url: string;
  /** Arguments after `tributary install <app> --workspace <ws>` that install the connector against this sandbox. */
  installArgs: readonly string[];
  /** Secret values (tokens, keys) that must never appear in a log line or an output. */
  secrets: readonly string[];
  /** How many records the sandbox serves now; each must end up stored exactly once. */
  recordCount(): number;
  /** Adds `count` records newer than every record served so far. */
  addRecords(count: number): void | Promise<void>;
  /** Makes the next request(s) of a sync fail in the named way. */
  injectFault(fault: Fault): void;
  close(): Promise<void>;
}

/** The part of a connector the kit reads: its id and where its records are stored. */
export interface ConformanceConnector {
  id: string;
  dataModel: { primaryTable: string; tables: readonly { name: string; key: readonly string[] }[] };
}

export interface ConformanceOptions<Fault extends string> {
  connector: ConformanceConnector;
  /** The CLI entry ({@link tributaryCliEntry}; a `.ts` entry runs through tsx), in a child process so that it can be SIGKILLed. */
  cliEntry: string;
  /** Starts a sandbox serving `records` records; called once per database. */
  startSandbox(options: { records: number }): Promise<ConformanceSandbox<Fault>>;
  /** Every fault the sandbox supports: each is injected once, and the sync must survive or fail cleanly and resume. */
  faults: readonly Fault[];
  /** The fault that serves one malformed record, which must be set aside and logged as rejected. */
  badRecordFault: Fault;
  /** Message of the connector's debug log line per source request (kills are placed by request count). */
  requestLogMessage: string;
  /** Records at start (default 300) and SIGKILLs (default 3). */
  records?: number;
  kills?: number;
  /** Seed of the kill moments, so that a failure replays. */
  seed?: number;
}

/**
 * The entry of Tributary's CLI in this checkout, for {@link ConformanceOptions.cliEntry}: what a
 * connector package outside the repository (one `tributary connectors new` wrote) runs the kit with.
 */
export function tributaryCliEntry(): string {
  // The user's own entry: it runs the compiled CLI when the build is current and the source through
  // tsx otherwise, so a test never runs stale code and, after a build, skips compiling TypeScript at
  // every one of the many processes the kit starts.
  return fileURLToPath(new URL('../../../apps/cli/bin/tributary.js', import.meta.url));
}

/** Node's arguments that run `entry`: JavaScript as it is, TypeScript through tsx. */
function entryArguments(entry: string): string[] {
  return /\.[cm]?ts$/.test(entry) ? ['--import', 'tsx', entry] : [entry];
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** A small seeded PRNG so that a failure can be replayed with the same kill moments. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Total rows and distinct keys of the connector's primary table: equal, and equal to the sandbox's count, means exactly once. */
async function storedCounts(db: TestDatabase, connector: ConformanceConnector): Promise<{ rows: number; distinct: number }> {
  const table = connector.dataModel.tables.find((t) => t.name === connector.dataModel.primaryTable);
  if (!table) throw new Error(`${connector.id}: primaryTable ${connector.dataModel.primaryTable} is not among its tables`);
  const bare = `${connector.id}_${table.name}`;
  const name = db.dialect === 'postgres' ? `tributary.${quoted(bare)}` : quoted(`tributary_${bare}`);
  const key = ['installation_id', ...table.key].map(quoted).join(', ');
  const sql = `SELECT COUNT(*) AS rows, (SELECT COUNT(*) FROM (SELECT DISTINCT ${key} FROM ${name}) d) AS distinct_keys FROM ${name}`;
  if (db.dialect === 'sqlite') {
    const sqlite = new Sqlite(db.url.slice('sqlite:'.length), { readonly: true });
    try {
      const row = sqlite.prepare(sql).get() as { rows: number; distinct_keys: number };
      return { rows: Number(row.rows), distinct: Number(row.distinct_keys) };
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const row = (await client.query<{ rows: string; distinct_keys: string }>(sql)).rows[0]!;
    return { rows: Number(row.rows), distinct: Number(row.distinct_keys) };
  } finally {
    await client.end();
  }
}

/**
 * Registers the standard checks of a connector against its sandbox, on SQLite and (when reachable)
 * PostgreSQL, through the real CLI in a child process: exactly once after SIGKILLs at random
 * moments, every fault survived and resumed, rejected records logged, checkpoint resume, and no
 * secret in any output at debug level. Call it at the top level of a test file (it awaits the databases).
 */
export async function describeConnectorConformance<Fault extends string>(options: ConformanceOptions<Fault>): Promise<void> {
  const { connector, cliEntry, faults, badRecordFault, requestLogMessage } = options;
  const databases = await testDatabases(`conformance-${connector.id}`);
  const app = connector.id;

  describe.each(databases)(`connector ${app} conformance on $dialect`, (db) => {
    let sandbox: ConformanceSandbox<Fault>;
    const outputs: string[] = [];
    const env = {
      TRIBUTARY_DATABASE_URL: db.url,
      TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'),
    };

    /** Runs the CLI at debug level; with `killAfterRequests`, SIGKILLs it once it logged that many source requests. */
    function cli(args: readonly string[], killAfterRequests?: number): Promise<Exit> {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [...entryArguments(cliEntry), ...args], {
          env: { ...process.env, ...env, LOG_LEVEL: 'debug' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        let requests = 0;
        const collect = (chunk: Buffer) => {
          const text = chunk.toString();
          output += text;
          requests += text.split(`"${requestLogMessage}"`).length - 1;
          if (killAfterRequests !== undefined && requests >= killAfterRequests) child.kill('SIGKILL');
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        child.on('exit', (code, signal) => {
          outputs.push(output);
          resolve({ code, signal, output });
        });
      });
    }

    async function syncJson(): Promise<{ status: string; inserted: number; rejected: number }> {
      const exit = await cli(['sync', app, '--workspace', 'conf', '--json']);
      expect(exit.code, exit.output).toBe(0);
      const start = exit.output.indexOf('[\n');
      const runs = JSON.parse(exit.output.slice(start, exit.output.lastIndexOf(']') + 1)) as { status: string; inserted: number; rejected: number }[];
      return runs[0]!;
    }

    async function expectExactlyOnce(): Promise<void> {
      const counts = await storedCounts(db, connector);
      expect(counts.distinct).toBe(counts.rows);
      expect(counts.rows).toBe(sandbox.recordCount());
    }

    beforeAll(async () => {
      sandbox = await options.startSandbox({ records: options.records ?? 300 });
      const install = await cli(['install', app, '--workspace', 'conf', ...sandbox.installArgs]);
      expect(install.code, install.output).toBe(0);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('stores every record exactly once after SIGKILLs at random moments', async () => {
      const random = prng(options.seed ?? (db.dialect === 'sqlite' ? 1 : 2));
      const planned = options.kills ?? 3;
      let kills = 0;
      for (let attempt = 0; attempt < planned; attempt++) {
        const exit = await cli(['sync', app, '--workspace', 'conf'], 2 + Math.floor(random() * 6));
        if (exit.signal === 'SIGKILL') kills += 1;
      }
      expect(kills).toBe(planned);
      const finished = await syncJson();
      expect(finished.status).toBe('succeeded');
      await expectExactlyOnce();
    });

    it('resumes from its checkpoint: a second run inserts nothing, a run after new data only the new', async () => {
      expect((await syncJson()).inserted).toBe(0);
      await sandbox.addRecords(3);
      const next = await syncJson();
      expect(next).toMatchObject({ status: 'succeeded', inserted: 3 });
      await expectExactlyOnce();
    });

    it('sets a malformed record aside and logs it as rejected', async () => {
      await sandbox.addRecords(4);
      sandbox.injectFault(badRecordFault);
      const run = await syncJson();
      expect(run.rejected).toBe(1);
      const logs = await cli(['logs', app, '--workspace', 'conf', '--limit', '1', '--json']);
      expect(logs.code, logs.output).toBe(0);
      const [last] = JSON.parse(logs.output.slice(logs.output.indexOf('[\n'), logs.output.lastIndexOf(']') + 1)) as { rejected: number; rejectedRecords: { reason: string }[] }[];
      expect(last!.rejected).toBe(1);
      expect(last!.rejectedRecords).toHaveLength(1);
      expect(last!.rejectedRecords[0]!.reason).not.toBe('');
    });

    it.each(faults.map((fault) => ({ fault })))('survives fault $fault and resumes', async ({ fault }) => {
      await sandbox.addRecords(2);
      sandbox.injectFault(fault);
      const faulted = await cli(['sync', app, '--workspace', 'conf']);
      // A fault may be retried away or fail the run, but always as a handled exit, never a crash.
      expect(faulted.signal, faulted.output).toBeNull();
      expect(faulted.output).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
      const after = await syncJson();
      expect(after.status).toBe('succeeded');
      await expectExactlyOnce();
    });

    it('writes no secret into any output or log line at debug level', () => {
      expect(outputs.length).toBeGreaterThan(5);
      for (const secret of sandbox.secrets) {
        expect(secret.length).toBeGreaterThan(0);
        for (const output of outputs) expect(output.includes(secret), `a secret appeared in:\n${output.slice(0, 2000)}`).toBe(false);
      }
    });
  });
}
