import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { testDatabases, type TestDatabase, tributaryCliEntry } from '@tributary/testing';

// A backfill whose sync process is SIGKILLed at random moments and rerun until one run finishes by
// itself. Afterwards every response must be stored exactly once and every answer must belong to a
// stored response: a page and its checkpoint commit together or not at all.

const BIN = tributaryCliEntry();
const databases = await testDatabases('sync-kill');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI. With `killAfterRequests`, the process is SIGKILLed right after it logged that many
 * CloseAlert requests: kills follow the sync's progress rather than the clock, so they land
 * mid-sync on a slow machine as on a fast one.
 */
function runCli(args: string[], env: Record<string, string>, killAfterRequests?: number): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: killAfterRequests === undefined ? 'silent' : 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let requests = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      requests += text.split('"closealert request"').length - 1;
      if (killAfterRequests !== undefined && requests >= killAfterRequests) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
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

async function storedCounts(db: TestDatabase): Promise<{ responses: number; distinct: number; answers: number; orphans: number; ids: number[] }> {
  const responses = db.dialect === 'postgres' ? 'tributary.closealert_form_responses' : 'tributary_closealert_form_responses';
  const answers = db.dialect === 'postgres' ? 'tributary.closealert_answers' : 'tributary_closealert_answers';
  const queries = {
    responses: `SELECT COUNT(*) AS n FROM ${responses}`,
    distinct: `SELECT COUNT(DISTINCT response_id) AS n FROM ${responses}`,
    answers: `SELECT COUNT(*) AS n FROM ${answers}`,
    orphans: `SELECT COUNT(*) AS n FROM ${answers} a WHERE NOT EXISTS (SELECT 1 FROM ${responses} r WHERE r.installation_id = a.installation_id AND r.response_id = a.response_id)`,
    ids: `SELECT response_id AS id FROM ${responses} ORDER BY response_id`,
  };
  if (db.dialect === 'sqlite') {
    const sqlite = new Database(db.url.slice('sqlite:'.length), { readonly: true });
    try {
      const one = (sql: string) => Number((sqlite.prepare(sql).get() as { n: number }).n);
      return {
        responses: one(queries.responses),
        distinct: one(queries.distinct),
        answers: one(queries.answers),
        orphans: one(queries.orphans),
        ids: (sqlite.prepare(queries.ids).all() as { id: number }[]).map((r) => Number(r.id)),
      };
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const one = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
    return {
      responses: await one(queries.responses),
      distinct: await one(queries.distinct),
      answers: await one(queries.answers),
      orphans: await one(queries.orphans),
      ids: (await client.query<{ id: string }>(queries.ids)).rows.map((r) => Number(r.id)),
    };
  } finally {
    await client.end();
  }
}

describe.each(databases)('a sync killed at random moments on $dialect', (db) => {
  let sandbox: Sandbox;
  const env = {
    TRIBUTARY_DATABASE_URL: db.url,
    TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'),
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 6000, spanDays: 80, seed: 11, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('stores every response exactly once, and every answer with its response', async () => {
    const install = await runCli(
      ['install', 'closealert', '--workspace', 'acme', '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--page-size', '20'],
      env,
    );
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);

    const random = prng(db.dialect === 'sqlite' ? 1 : 2);
    const plannedKills = 8;
    let kills = 0;
    for (let attempt = 0; attempt < plannedKills; attempt++) {
      const exit = await runCli(['sync', '--workspace', 'acme'], env, 2 + Math.floor(random() * 30));
      if (exit.signal === 'SIGKILL') kills += 1;
    }
    expect(kills).toBe(plannedKills);
    const finished = await runCli(['sync', '--workspace', 'acme'], env);
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toMatch(/SUCCEEDED/);

    const rerun = await runCli(['sync', '--workspace', 'acme'], env);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/ 0 new,/);

    const expected = sandbox.responses();
    const counts = await storedCounts(db);
    expect(counts.responses).toBe(expected.length);
    expect(counts.distinct).toBe(expected.length);
    expect(counts.ids).toEqual(expected.map((r) => r.id).sort((a, b) => a - b));
    expect(counts.answers).toBe(expected.reduce((sum, r) => sum + new Set(r.answers.map((a) => a.question_index)).size, 0));
    expect(counts.orphans).toBe(0);
  });
});
