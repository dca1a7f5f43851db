// Issue 13's benchmark: backfill N Typeform sandbox responses into PostgreSQL and into SQLite through
// the whole pipeline (HTTP, validation, mapping, set-based writes, checkpoints): at Typeform's pace
// of 2 requests per second (what production gets: 1,000 responses per request), and unthrottled
// (what the pipeline itself can take). Peak RSS of each run's own process.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPostgresTestDatabase } from '@tributary/testing';
import { mb } from './support.js';
import { benchTypeformProfiles } from './typeform-profiles.js';

const run = promisify(execFile);
const WORKER = fileURLToPath(new URL('./typeform-worker.ts', import.meta.url));
const SANDBOX = fileURLToPath(new URL('./typeform-sandbox-process.ts', import.meta.url));
const NOW = new Date('2026-06-01T00:00:00Z');

async function withDatabase<T>(dialect: 'postgres' | 'sqlite', action: (url: string) => Promise<T>): Promise<T> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    try {
      return await action(`sqlite:${join(dir, 'bench.db')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const db = await createPostgresTestDatabase('bench');
  if (!db) throw new Error('the typeform benchmark needs PostgreSQL');
  try {
    return await action(db.url);
  } finally {
    await db.drop();
  }
}

async function startSandboxProcess(responses: number): Promise<{ info: { url: string; token: string; now: string }; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SANDBOX, String(responses), NOW.toISOString()], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`typeform sandbox process exited with ${code}`)));
  });
  return {
    info: { ...(JSON.parse(line) as { url: string; token: string }), now: NOW.toISOString() },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      await exited;
    },
  };
}

/** The backfill at `size` responses, then the cross-source profile on `profileResponses` split over both apps. */
export async function benchTypeform(size = 200_000, profileResponses = 1_000_000): Promise<Record<string, string | number>[]> {
  const results: Record<string, string | number>[] = [];
  if (process.env.BENCH_TYPEFORM_SKIP_BACKFILL !== '1') results.push(...(await benchTypeformBackfill(size)));
  if (profileResponses > 0) results.push(...(await benchTypeformProfiles(profileResponses)));
  return results;
}

async function benchTypeformBackfill(size: number): Promise<Record<string, string | number>[]> {
  const results: Record<string, string | number>[] = [];
  const sandbox = await startSandboxProcess(size);
  try {
    for (const mode of ['paced', 'unthrottled'] as const) {
      for (const dialect of ['postgres', 'sqlite'] as const) {
        const m = await withDatabase(dialect, async (url) => {
          const { stdout } = await run(process.execPath, ['--import', 'tsx', WORKER, mode, url, JSON.stringify(sandbox.info)], { maxBuffer: 1 << 20 });
          return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
        });
        const row = {
          benchmark: `typeform backfill ${dialect} (${mode === 'paced' ? '2 requests/s' : 'unthrottled'})`,
          responses: m.responses!,
          rows: m.rows!,
          seconds: Number(m.seconds!.toFixed(2)),
          'responses/s': Math.round(m.responses! / m.seconds!),
          'peak RSS': mb(m.peakRss!),
        };
        // Each figure as soon as it is measured: a run of several minutes should not lose what it found.
        console.error(JSON.stringify(row));
        results.push(row);
      }
    }
  } finally {
    await sandbox.stop();
  }
  return results;
}
