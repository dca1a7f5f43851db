// The JSON file that `npm run bench -- --json [path]` writes: every figure of the run together with the
// machine it ran on, so that a chart made from it later can say where its numbers came from.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';

export const FORMAT_VERSION = 1;

const figure = z.union([z.string(), z.number()]);
const load = z.tuple([z.number(), z.number(), z.number()]);

export const machineSchema = z.object({
  cpuModel: z.string(),
  cores: z.number().int().positive(),
  memoryBytes: z.number().nonnegative(),
  platform: z.string(),
  node: z.string(),
  postgres: z.string().nullable(),
  sqlite: z.string().nullable(),
  gitCommit: z.string().nullable(),
  gitDirty: z.boolean().nullable(),
});

export const resultsSchema = z.object({
  format: z.literal(FORMAT_VERSION),
  startedAt: z.string(),
  finishedAt: z.string(),
  command: z.string(),
  /** Benchmark sizes taken from the environment (BENCH_*), so a run can be repeated. */
  settings: z.record(z.string(), z.string()),
  machine: machineSchema,
  load: z.object({ start: load, end: load }),
  benchmarks: z.record(z.string(), z.array(z.record(z.string(), figure))),
});

export type Machine = z.infer<typeof machineSchema>;
export type BenchResults = z.infer<typeof resultsSchema>;
export type Figures = Record<string, string | number>;

export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [a, b, c].map((v) => Number(v.toFixed(2))) as [number, number, number];
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

// The drivers are loaded only here so that a run without --json does not need them.
async function postgresVersion(url: string): Promise<string | null> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>('SELECT version() AS version');
    return rows[0]?.version ?? null;
  } catch {
    // Not fatal: the file then says the version is unknown, rather than losing the run's figures.
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function sqliteVersion(): Promise<string | null> {
  try {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(':memory:');
    try {
      return (db.prepare('SELECT sqlite_version() AS version').get() as { version: string }).version;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** Describes this machine: CPU, memory, Node, the PostgreSQL server at `postgresUrl`, SQLite and the commit. */
export async function describeMachine(postgresUrl: string): Promise<Machine> {
  const cpu = cpus();
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown CPU',
    cores: Math.max(1, cpu.length),
    memoryBytes: totalmem(),
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    postgres: await postgresVersion(postgresUrl),
    sqlite: await sqliteVersion(),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
  };
}

/** The settings that shape a run: the BENCH_* variables, never anything else from the environment. */
export function benchSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => e[0].startsWith('BENCH_') && e[1] !== undefined)
      .toSorted(),
  );
}

export function buildResults(input: Omit<BenchResults, 'format'>): BenchResults {
  return resultsSchema.parse({ format: FORMAT_VERSION, ...input });
}

/** Where `--json` writes when it is given no path: bench/results/<UTC timestamp>.json. */
export function defaultResultsPath(root: string, at: Date): string {
  return `${root}/bench/results/${at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-')}.json`;
}

/** The file's text: indented so that two runs can be compared with a plain diff. */
export function serialiseResults(results: BenchResults): string {
  return `${JSON.stringify(resultsSchema.parse(results), null, 2)}\n`;
}

/** Reads a results file back, checked, since it may have been edited or written by an older version. */
export function parseResults(text: string, source: string): BenchResults {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${source} is not JSON (${(error as Error).message}); give the file written by \`npm run bench -- --json\`.`,
    );
  }
  const parsed = resultsSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `${source} is not a results file of \`npm run bench -- --json\` (format ${FORMAT_VERSION}): ${parsed.error.message}. Re-run the benchmark with --json.`,
    );
  }
  return parsed.data;
}

export function writeResults(path: string, results: BenchResults): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, serialiseResults(results));
}

export function readResults(path: string): BenchResults {
  return parseResults(readFileSync(path, 'utf8'), path);
}
