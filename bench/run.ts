// `npm run bench [name ...] [--json [path.json]]`: runs the benchmarks (never part of `npm test`) and prints
// their figures; with --json also writes them, with the machine and its load, to a file (by default
// bench/results/<time>.json) that `npm run bench:report -- <file>` turns into docs/benchmarks.md.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchSettings, buildResults, defaultResultsPath, describeMachine, loadAverage, writeResults, type Figures } from './report/results.js';
import { parseBenchArgs } from './report/args.js';
import { benchBackfill } from './backfill.js';
import { benchConnectorRead } from './connector-read.js';
import { benchProfiles } from './profiles.js';
import { benchRunner } from './runner.js';
import { benchTypeform } from './typeform.js';
import { benchApi } from './api.js';
import { benchStartup } from './startup.js';

const benchmarks: Record<string, () => Promise<Record<string, string | number> | Record<string, string | number>[]>> = {
  'connector-read': () => benchConnectorRead(Number(process.env.BENCH_RESPONSES ?? 100_000)),
  backfill: () =>
    benchBackfill(
      Number(process.env.BENCH_RESPONSES ?? 200_000),
      (process.env.BENCH_RSS_SIZES ?? '50000,500000').split(',').map(Number),
      // Throughput against size for the report's chart; sizes already measured above are not run twice.
      (process.env.BENCH_SIZES ?? '25000,50000,100000,200000').split(',').filter(Boolean).map(Number),
    ),
  profiles: () => benchProfiles(Number(process.env.BENCH_PROFILES_RESPONSES ?? 1_000_000)),
  runner: () => benchRunner(Number(process.env.BENCH_RUNNER_INSTALLATIONS ?? 2000)),
  typeform: () => benchTypeform(Number(process.env.BENCH_TYPEFORM_RESPONSES ?? 200_000), Number(process.env.BENCH_TYPEFORM_PROFILE_RESPONSES ?? 1_000_000)),
  api: () => benchApi(Number(process.env.BENCH_API_RESPONSES ?? 1_000_000)),
  startup: () => benchStartup(Number(process.env.BENCH_STARTUP_RUNS ?? 10)),
};

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const args = parseBenchArgs(process.argv.slice(2));
const names = args.names.length > 0 ? args.names : Object.keys(benchmarks);
const startedAt = new Date();
const loadAtStart = loadAverage();
// Described before the run, so that the commit and its clean/dirty state are those of the code measured.
const machine = args.json === undefined ? undefined : await describeMachine(process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const figures: Record<string, Figures[]> = {};
console.log(`Tributary benchmarks on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`);
for (const name of names) {
  const bench = benchmarks[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  const result = await bench();
  figures[name] = Array.isArray(result) ? result : [result];
  for (const row of figures[name]) console.log(JSON.stringify(row));
}
if (args.json !== undefined && machine) {
  const path = args.json || defaultResultsPath(ROOT, startedAt);
  const results = buildResults({
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    settings: benchSettings(process.env),
    machine,
    load: { start: loadAtStart, end: loadAverage() },
    benchmarks: figures,
  });
  writeResults(path, results);
  console.log(`figures written to ${path}; \`npm run bench:report -- ${path}\` draws docs/benchmarks.md from them`);
}
