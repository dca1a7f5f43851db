// Start-up of the CLI: `tributary --version`, `--help` and `apps --help`, each started cold in a new
// process `runs` times; wall time from spawn to exit and the process's peak RSS (median and worst).
// The bin is the one under test (BENCH_STARTUP_BIN, by default this clone's), so that another checkout
// can be measured the same way for a before/after; `source` rows run the TypeScript through tsx, as a
// start does when the build is missing or older than the source.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN =
  process.env.BENCH_STARTUP_BIN ?? fileURLToPath(new URL('../apps/cli/bin/tributary.js', import.meta.url));
const SOURCE = fileURLToPath(new URL('../apps/cli/src/bin.ts', import.meta.url));
const COMMANDS: readonly (readonly string[])[] = [['--version'], ['--help'], ['apps', '--help']];

// Loaded before the CLI: on exit it writes the process's peak RSS (KB) where the benchmark reads it.
const RSS_PROBE = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));",
)}`;

async function once(
  nodeArgs: readonly string[],
  args: readonly string[],
  rssFile: string,
): Promise<{ ms: number; rssMb: number }> {
  const started = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', RSS_PROBE, ...nodeArgs, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, BENCH_RSS_FILE: rssFile },
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`tributary ${args.join(' ')} exited with ${code}`);
  return { ms, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchStartup(runs: number): Promise<Record<string, string | number>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-startup-'));
  const rssFile = join(dir, 'rss');
  const modes: [string, string[]][] = [
    ['bin', [BIN]],
    ['source', ['--import', 'tsx', SOURCE]],
  ];
  const rows: Record<string, string | number>[] = [];
  try {
    for (const [mode, nodeArgs] of modes) {
      for (const args of COMMANDS) {
        // One unmeasured start warms the file cache, as for anyone who ran the command before.
        await once(nodeArgs, args, rssFile);
        const samples = [];
        for (let i = 0; i < runs; i++) samples.push(await once(nodeArgs, args, rssFile));
        const ms = samples.map((s) => s.ms);
        const rss = samples.map((s) => s.rssMb);
        rows.push({
          benchmark: 'startup',
          mode,
          command: `tributary ${args.join(' ')}`,
          runs,
          medianMs: Math.round(median(ms)),
          maxMs: Math.round(Math.max(...ms)),
          medianRssMb: Math.round(median(rss)),
          maxRssMb: Math.round(Math.max(...rss)),
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
