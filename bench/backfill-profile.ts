// One backfill measurement on its own, to profile it: starts a sandbox and a fresh database, then runs
// the worker of bench/backfill.ts once with extra Node flags, e.g.
//   BENCH_RESPONSES=50000 BENCH_DB=postgres BENCH_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx bench/backfill-profile.ts
// BENCH_DB is postgres or sqlite; BENCH_MODE is sync or floor.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresTestDatabase } from '@tributary/testing';
import { compiledBenchScripts, startSandboxProcess } from './support.js';
const run = promisify(execFile);
// The compiled worker, as bench/backfill.ts runs it; BENCH_TSX=1 runs the TypeScript through tsx instead.
const tsx = process.env.BENCH_TSX === '1';
const [WORKER] = tsx ? [fileURLToPath(new URL('./backfill-worker.ts', import.meta.url))] : await compiledBenchScripts(['backfill-worker.ts']);
const n = Number(process.env.BENCH_RESPONSES ?? 50_000);
const dialect = process.env.BENCH_DB ?? 'postgres';
const mode = process.env.BENCH_MODE ?? 'sync';
const flags = (process.env.BENCH_FLAGS ?? '').split(' ').filter(Boolean);
const sandbox = await startSandboxProcess(n, 365);
const info = { url: sandbox.url, token: sandbox.token, projectKey: sandbox.projectKey, now: sandbox.now.toISOString() };
const db = dialect === 'postgres' ? await createPostgresTestDatabase('bench') : undefined;
const url = db ? db.url : `sqlite:${join(mkdtempSync(join(tmpdir(), 'tb-')), 'b.db')}`;
try {
  const { stdout, stderr } = await run(process.execPath, [...flags, ...(tsx ? ['--import', 'tsx'] : []), WORKER!, mode, url, JSON.stringify(info)], { maxBuffer: 1 << 20 });
  if (stderr.trim()) console.error(stderr.trim());
  console.log(stdout.trim());
} finally {
  await db?.drop();
  await sandbox.stop();
}
