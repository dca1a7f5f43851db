// Issue 4's benchmark: backfill N sandbox responses into PostgreSQL and into SQLite through the whole
// pipeline (HTTP, validation, mapping, set-based writes, checkpoints), against a floor of plain
// fetches plus a COPY of the same rows; and peak RSS at two sizes to show it does not grow with N.
// Targets on 2 cores (issue 17): PostgreSQL >= 12,000 responses/s and within 1.5x of the floor,
// SQLite >= 10,000 responses/s, peak RSS <= 200 MB on both, flat from 50,000 to 500,000 responses,
// with Node's default flags. Each figure carries the worker's CPU seconds and the machine's load:
// on a shared machine the wall time moves with the load, the CPU time far less.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPostgresTestDatabase } from '@tributary/testing';
import { compiledBenchScripts, mb, startSandboxProcess } from './support.js';

const run = promisify(execFile);

async function worker(mode: 'sync' | 'floor', url: string, sandbox: object): Promise<Record<string, number>> {
  // Compiled JavaScript with Node's default flags: what a user's `tributary` runs. Only the worker's
  // own RSS is measured (process.memoryUsage in the worker); the sandbox serves from another process.
  const [script] = await compiledBenchScripts(['backfill-worker.ts']);
  const { stdout } = await run(process.execPath, [script!, mode, url, JSON.stringify(sandbox)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
}

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
  if (!db) throw new Error('the backfill benchmark needs PostgreSQL');
  try {
    return await action(db.url);
  } finally {
    await db.drop();
  }
}

function describeSync(dialect: string, responses: number, m: Record<string, number>): Record<string, string | number> {
  return {
    benchmark: `backfill ${dialect}`,
    dialect,
    responses: m.responses!,
    rows: m.rows!,
    seconds: Number(m.seconds!.toFixed(2)),
    'CPU s': Number(m.cpuSeconds!.toFixed(2)),
    // The PostgreSQL backends' CPU seconds for the same backfill (0 when the server is elsewhere, or SQLite).
    'database CPU s': Number((m.databaseCpuSeconds ?? 0).toFixed(2)),
    'responses/s': Math.round(m.responses! / m.seconds!),
    'rows/s': Math.round(m.rows! / m.seconds!),
    'RSS at start': mb(m.startRss!),
    'peak RSS': mb(m.peakRss!),
    // The same figure as a number, for the charts of bench/report.
    'peak RSS MB': Number((m.peakRss! / 1024 / 1024).toFixed(1)),
    sandbox: responses,
    load: Number(loadavg()[0]!.toFixed(2)),
  };
}

/**
 * The backfill at `size` on both databases against the floor; then peak RSS at `rssSizes`; then
 * throughput at each of `sweepSizes` not measured already, so that the figures cover a range of sizes.
 */
export async function benchBackfill(
  size = 200_000,
  rssSizes: readonly number[] = [50_000, 500_000],
  sweepSizes: readonly number[] = [],
): Promise<Record<string, string | number>[]> {
  const results: Record<string, string | number>[] = [];
  // BENCH_DATABASES=postgres measures one database (and the floor) when only its write path changed.
  const databases = (process.env.BENCH_DATABASES ?? 'postgres,sqlite').split(',').filter((d): d is 'postgres' | 'sqlite' => d === 'postgres' || d === 'sqlite');
  const sandbox = await startSandboxProcess(size, 365);
  const info = { url: sandbox.url, token: sandbox.token, projectKey: sandbox.projectKey, now: sandbox.now.toISOString() };
  try {
    const postgres = await withDatabase('postgres', (url) => worker('sync', url, info));
    results.push(describeSync('postgres', size, postgres));
    if (databases.includes('sqlite')) {
      const sqlite = await withDatabase('sqlite', (url) => worker('sync', url, info));
      results.push(describeSync('sqlite', size, sqlite));
    }
    const floor = await withDatabase('postgres', (url) => worker('floor', url, info));
    results.push({
      benchmark: 'floor postgres (plain fetch + COPY)',
      responses: floor.responses!,
      rows: floor.rows!,
      'fetch s': Number(floor.fetchSeconds!.toFixed(2)),
      'COPY s': Number(floor.copySeconds!.toFixed(2)),
      seconds: Number(floor.seconds!.toFixed(2)),
      'responses/s': Math.round(floor.responses! / floor.seconds!),
      'end-to-end / floor': Number((postgres.seconds! / floor.seconds!).toFixed(2)),
      load: Number(loadavg()[0]!.toFixed(2)),
    });
    // The same fetches with each 1,000-record batch COPYed while the next pages are fetched: what a
    // pipeline that overlaps HTTP and the database could reach at best, beside the serial floor.
    results.push({
      benchmark: 'floor postgres (fetch overlapped with COPY)',
      responses: floor.responses!,
      rows: floor.rows!,
      seconds: Number(floor.overlapSeconds!.toFixed(2)),
      'responses/s': Math.round(floor.responses! / floor.overlapSeconds!),
      'end-to-end / floor': Number((postgres.seconds! / floor.overlapSeconds!).toFixed(2)),
      load: Number(loadavg()[0]!.toFixed(2)),
    });
  } finally {
    await sandbox.stop();
  }
  const runs = [
    // An empty BENCH_RSS_SIZES (or BENCH_SIZES) reads as 0: no run.
    ...rssSizes.filter((n) => n > 0).map((n) => ({ n, label: `RSS at ${n} (default flags)` })),
    ...[...new Set(sweepSizes)].filter((n) => n > 0 && n !== size && !rssSizes.includes(n)).map((n) => ({ n, label: `at ${n}` })),
  ];
  for (const { n, label } of runs) {
    const small = await startSandboxProcess(n, 365);
    const info = { url: small.url, token: small.token, projectKey: small.projectKey, now: small.now.toISOString() };
    try {
      for (const dialect of databases) {
        const m = await withDatabase(dialect, (url) => worker('sync', url, info));
        results.push({ ...describeSync(dialect, n, m), benchmark: `backfill ${dialect} ${label}` });
      }
    } finally {
      await small.stop();
    }
  }
  return results;
}
