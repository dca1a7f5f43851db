// `npm run bench [name ...]`: runs the benchmarks (never part of `npm test`) and prints their figures.
import { cpus } from 'node:os';
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
    benchBackfill(Number(process.env.BENCH_RESPONSES ?? 200_000), (process.env.BENCH_RSS_SIZES ?? '50000,500000').split(',').map(Number)),
  profiles: () => benchProfiles(Number(process.env.BENCH_PROFILES_RESPONSES ?? 1_000_000)),
  runner: () => benchRunner(Number(process.env.BENCH_RUNNER_INSTALLATIONS ?? 2000)),
  typeform: () => benchTypeform(Number(process.env.BENCH_TYPEFORM_RESPONSES ?? 200_000), Number(process.env.BENCH_TYPEFORM_PROFILE_RESPONSES ?? 1_000_000)),
  api: () => benchApi(Number(process.env.BENCH_API_RESPONSES ?? 1_000_000)),
  startup: () => benchStartup(Number(process.env.BENCH_STARTUP_RUNS ?? 10)),
};

const selected = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = selected.length > 0 ? selected : Object.keys(benchmarks);
console.log(`Tributary benchmarks on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`);
for (const name of names) {
  const bench = benchmarks[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  const result = await bench();
  for (const row of Array.isArray(result) ? result : [result]) console.log(JSON.stringify(row));
}
