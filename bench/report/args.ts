// The command line of `npm run bench`: benchmark names, and `--json` with an optional `.json` path.

export interface BenchArgs {
  names: string[];
  /** undefined: no --json; '': --json without a path (the default path is used); else the path. */
  json: string | undefined;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const names: string[] = [];
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--json=')) json = arg.slice('--json='.length);
    else if (arg === '--json') {
      // Only a .json argument is taken as the path, so `--json backfill` still means the benchmark.
      const next = argv[i + 1];
      if (next !== undefined && next.endsWith('.json')) {
        json = next;
        i++;
      } else json = '';
    } else if (!arg.startsWith('-')) names.push(arg);
  }
  return { names, json };
}
