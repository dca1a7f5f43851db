import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPostgresTestDatabase, tributaryCliEntry } from '@tributary/testing';

// Four `tributary runner --distributed` processes started at the same instant on a fresh PostgreSQL
// database: all of them start (pg-boss's queue creation used to deadlock between them, printing
// "internal error" and hanging until SIGKILL) and each stops on one SIGTERM. `npm run chaos` does
// this ten times in a row.

const BIN = tributaryCliEntry();
const ROUNDS = 3;
const RUNNERS = 4;
const probe = await createPostgresTestDatabase('cli-runner-start-probe');
await probe?.drop();

interface Runner {
  output: () => string;
  kill: (signal: NodeJS.Signals) => void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function startRunner(url: string): Runner {
  const child = spawn(process.execPath, [BIN, 'runner', '--distributed'], {
    env: { ...process.env, TRIBUTARY_DATABASE_URL: url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { output: () => text, kill: (signal) => child.kill(signal), exited };
}

describe.runIf(probe)('runner --distributed started four times at once on a fresh database', () => {
  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))('round %i: every runner starts, and stops within seconds of SIGTERM', async () => {
    const database = (await createPostgresTestDatabase('cli-runner-start'))!;
    const runners = Array.from({ length: RUNNERS }, () => startRunner(database.url));
    try {
      await expect
        .poll(() => runners.filter((r) => /Runner started/.test(r.output())).length, { timeout: 60_000, interval: 100 })
        .toBe(RUNNERS);
      const signalledAt = Date.now();
      for (const runner of runners) runner.kill('SIGTERM');
      const exits = await Promise.all(runners.map((r) => r.exited));
      for (const [i, exit] of exits.entries()) {
        expect(exit, runners[i]!.output()).toMatchObject({ code: 0, signal: null });
        expect(exit.at - signalledAt).toBeLessThan(15_000);
        expect(runners[i]!.output()).not.toMatch(/internal error/i);
        expect(runners[i]!.output()).toMatch(/Runner stopped\.\n$/);
      }
    } finally {
      for (const runner of runners) runner.kill('SIGKILL');
      await database.drop();
    }
  }, 120_000);

  it('exits non-zero within seconds, without "internal error", when the queue cannot start', async () => {
    // A pg-boss schema that claims a newer version but lacks its tables: pg-boss starts its timers,
    // then the queue cannot be created. The process used to stay alive on those timers.
    const database = (await createPostgresTestDatabase('cli-runner-start-broken'))!;
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('CREATE SCHEMA tributary_boss');
      await client.query('CREATE TABLE tributary_boss.version (version int PRIMARY KEY, maintained_on timestamptz, cron_on timestamptz, monitored_on timestamptz)');
      await client.query('INSERT INTO tributary_boss.version (version) VALUES (999)');
      const started = Date.now();
      const runner = startRunner(database.url);
      const exit = await Promise.race([runner.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000))]);
      runner.kill('SIGKILL');
      expect(exit, runner.output()).toBeDefined();
      expect(exit!.code, runner.output()).toBe(4);
      expect(exit!.at - started).toBeLessThan(20_000);
      expect(runner.output()).toMatch(/QUEUE_START_FAILED/);
      expect(runner.output()).not.toMatch(/internal error/i);
    } finally {
      await client.end();
      await database.drop();
    }
  }, 60_000);
});
