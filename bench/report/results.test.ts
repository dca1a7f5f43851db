import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.js';
import { backfillPoints, benchmarksPage, rssChart, throughputChart } from './page.js';
import {
  benchSettings,
  buildResults,
  defaultResultsPath,
  parseResults,
  serialiseResults,
  type BenchResults,
} from './results.js';

const machine = {
  cpuModel: 'Example CPU',
  cores: 2,
  memoryBytes: 8 * 1024 ** 3,
  platform: 'linux x64',
  node: 'v20.20.2',
  postgres: 'PostgreSQL 16.4 on x86_64-pc-linux-gnu',
  sqlite: '3.46.1',
  gitCommit: '0123456789abcdef0123456789abcdef01234567',
  gitDirty: false,
};

function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return buildResults({
    startedAt: '2026-12-01T01:00:00.000Z',
    finishedAt: '2026-12-01T01:05:00.000Z',
    command: 'npm run bench -- backfill --json',
    settings: { BENCH_RESPONSES: '50000' },
    machine,
    load: { start: [3.1, 3.5, 4], end: [4.2, 3.9, 4.1] },
    benchmarks: {
      backfill: [
        {
          benchmark: 'backfill postgres',
          dialect: 'postgres',
          responses: 50_000,
          'responses/s': 6_000,
          'CPU s': 7.1,
          'peak RSS': '150.0 MB',
          'peak RSS MB': 150,
          load: 3.2,
        },
        {
          benchmark: 'backfill sqlite',
          dialect: 'sqlite',
          responses: 50_000,
          'responses/s': 7_000,
          'CPU s': 6.5,
          'peak RSS': '170.0 MB',
          'peak RSS MB': 170,
          load: 3.3,
        },
        {
          benchmark: 'floor postgres (plain fetch + COPY)',
          responses: 50_000,
          'responses/s': 13_000,
          'end-to-end / floor': 2.17,
          load: 3.4,
        },
        {
          benchmark: 'floor postgres (fetch overlapped with COPY)',
          responses: 50_000,
          'responses/s': 19_000,
          'end-to-end / floor': 3.17,
          load: 3.4,
        },
        // Written before rows carried `dialect` and the numeric RSS: still read from the name and the text.
        {
          benchmark: 'backfill postgres RSS at 10000 (default flags)',
          responses: 10_000,
          'responses/s': 4_000,
          'peak RSS': '120.5 MB',
          load: 3.5,
        },
      ],
    },
    ...overrides,
  });
}

describe('the results file', () => {
  it('holds the run, the machine, the load at start and end, and the figures per benchmark', () => {
    const text = serialiseResults(results());
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([
      'format',
      'startedAt',
      'finishedAt',
      'command',
      'settings',
      'machine',
      'load',
      'benchmarks',
    ]);
    expect(json.format).toBe(1);
    expect(json.machine).toEqual(machine);
    expect(json.load).toEqual({ start: [3.1, 3.5, 4], end: [4.2, 3.9, 4.1] });
    expect((json.benchmarks as Record<string, unknown[]>).backfill).toHaveLength(5);
    expect(text.endsWith('}\n')).toBe(true);
    expect(parseResults(text, 'run.json')).toEqual(results());
  });

  it('refuses a file that is not one, saying what to do', () => {
    expect(() => parseResults('{"format":1}', 'old.json')).toThrow(
      /old\.json is not a results file.*Re-run the benchmark with --json/s,
    );
    expect(() => parseResults('not json', 'x.json')).toThrow(/x\.json is not JSON/);
    expect(() => buildResults({ ...results(), machine: { ...machine, cores: 0 } })).toThrow();
  });

  it('keeps only the BENCH_* settings of the environment, so no secret reaches the file', () => {
    expect(
      benchSettings({ BENCH_SIZES: '1,2', PGPASSWORD: 'hunter2', BENCH_RESPONSES: '10', API_TOKEN: 't' }),
    ).toEqual({ BENCH_RESPONSES: '10', BENCH_SIZES: '1,2' });
  });

  it('goes by default to bench/results/<UTC time>.json with a name every file system accepts', () => {
    expect(defaultResultsPath('/repo', new Date('2026-12-01T01:02:03.456Z'))).toBe(
      '/repo/bench/results/2026-12-01T01-02-03Z.json',
    );
  });
});

describe('parseBenchArgs', () => {
  it('takes benchmark names and --json with or without a path', () => {
    expect(parseBenchArgs(['backfill'])).toEqual({ names: ['backfill'], json: undefined });
    expect(parseBenchArgs(['--json'])).toEqual({ names: [], json: '' });
    expect(parseBenchArgs(['--json', 'backfill'])).toEqual({ names: ['backfill'], json: '' });
    expect(parseBenchArgs(['backfill', '--json', 'out/run.json', 'startup'])).toEqual({
      names: ['backfill', 'startup'],
      json: 'out/run.json',
    });
    expect(parseBenchArgs(['--json=x.json', 'api'])).toEqual({ names: ['api'], json: 'x.json' });
  });
});

describe('the benchmarks page', () => {
  it('takes one point per database and size from the backfill rows, not the floor', () => {
    expect(
      backfillPoints(results()).map((p) => [p.dialect, p.responses, p.responsesPerSecond, p.peakRssMb]),
    ).toEqual([
      ['postgres', 10_000, 4_000, 120.5],
      ['postgres', 50_000, 6_000, 150],
      ['sqlite', 50_000, 7_000, 170],
    ]);
  });

  it('charts both databases with the targets', () => {
    const throughput = throughputChart(results());
    expect(throughput).toContain('>PostgreSQL</text>');
    expect(throughput).toContain('>SQLite</text>');
    expect(throughput).toContain('PostgreSQL target 12,000/s');
    expect(throughput.match(/<circle class="point"/g)).toHaveLength(3);
    expect(rssChart(results())).toContain('target 200 MB');
    // The load range covers the start, the end and every row: 3.1 to 4.2.
    expect(throughput).toContain(
      'Example CPU, 2 cores · Node v20.20.2 · PostgreSQL 16.4 · SQLite 3.46.1 · load 3.1–4.2 · 2026-12-01',
    );
  });

  it('names the machine, versions, load, commit and sizes, and says when the machine was shared', () => {
    const page = benchmarksPage(
      results(),
      { throughput: 'benchmarks/t.svg', rss: 'benchmarks/r.svg' },
      'benchmarks/results.json',
    );
    for (const text of [
      'Example CPU, 2 cores',
      'v20.20.2',
      'PostgreSQL 16.4',
      '3.46.1',
      machine.gitCommit,
      'start 3.1, 3.5, 4; end 4.2, 3.9, 4.1',
      'at 10,000, 50,000 responses',
      '](benchmarks/t.svg)',
      '](benchmarks/r.svg)',
      '**Shared machine.**',
      '`BENCH_RESPONSES=50000 npm run bench -- backfill --json`',
      '2.17× the floor',
      'Overlapped floor',
      '3.17× its time',
    ]) {
      expect(page).toContain(text);
    }
    const quiet = benchmarksPage(
      results({ load: { start: [0.2, 0.3, 0.4], end: [0.5, 0.4, 0.4] } }),
      { throughput: 't', rss: 'r' },
      'f',
    );
    expect(quiet).not.toContain('Shared machine');
  });
});
