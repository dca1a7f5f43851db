// docs/benchmarks.md and its charts, drawn from one results file of `npm run bench -- --json`.
import type { BenchResults, Figures } from './results.js';
import { renderLineChart, type ChartSeries } from './svg-chart.js';

export interface BackfillPoint {
  dialect: 'postgres' | 'sqlite';
  responses: number;
  responsesPerSecond: number;
  peakRssMb: number | null;
  startRssMb: number | null;
  cpuSeconds: number | null;
  load: number | null;
  benchmark: string;
}

const DIALECT_NAMES = { postgres: 'PostgreSQL', sqlite: 'SQLite' } as const;
// Issue 17's targets on 2 cores, drawn as reference lines.
const TARGETS = { postgres: 12_000, sqlite: 10_000, rssMb: 200 };

function num(value: string | number | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const n = Number.parseFloat(value);
  return Number.isFinite(n) ? n : null;
}

/** The end-to-end backfill measurements of a run, one per database and size. */
export function backfillPoints(results: BenchResults): BackfillPoint[] {
  const points: BackfillPoint[] = [];
  for (const row of results.benchmarks.backfill ?? []) {
    const name = String(row.benchmark ?? '');
    // Files written before the rows carried `dialect` still name it in the benchmark.
    const dialect = row.dialect ?? /^backfill (postgres|sqlite)\b/.exec(name)?.[1];
    if (dialect !== 'postgres' && dialect !== 'sqlite') continue;
    const responses = num(row.responses);
    const rate = num(row['responses/s']);
    if (responses === null || rate === null) continue;
    points.push({
      dialect,
      responses,
      responsesPerSecond: rate,
      peakRssMb: num(row['peak RSS MB']) ?? num(row['peak RSS']),
      startRssMb: num(row['RSS at start']),
      cpuSeconds: num(row['CPU s']),
      load: num(row.load),
      benchmark: name,
    });
  }
  return points.sort((a, b) => a.dialect.localeCompare(b.dialect) || a.responses - b.responses);
}

function series(points: readonly BackfillPoint[], y: (p: BackfillPoint) => number | null): ChartSeries[] {
  return (['postgres', 'sqlite'] as const).map((dialect) => ({
    name: DIALECT_NAMES[dialect],
    points: points
      .filter((p) => p.dialect === dialect && y(p) !== null)
      .map((p) => ({ x: p.responses, y: y(p)! })),
  }));
}

/** The machine and the load range of the run, under each chart's title. */
export function chartSubtitle(results: BenchResults): string {
  const loads = [
    ...results.load.start,
    ...results.load.end,
    ...backfillPoints(results).flatMap((p) => (p.load === null ? [] : [p.load])),
  ];
  const m = results.machine;
  const pg = m.postgres?.match(/^PostgreSQL \S+/)?.[0] ?? 'PostgreSQL ?';
  return `${m.cpuModel}, ${m.cores} cores · Node ${m.node} · ${pg} · SQLite ${m.sqlite ?? '?'} · load ${Math.min(...loads)}–${Math.max(...loads)} · ${results.startedAt.slice(0, 10)}`;
}

export function throughputChart(results: BenchResults): string {
  return renderLineChart({
    title: 'Backfill throughput against backfill size',
    subtitle: chartSubtitle(results),
    xLabel: 'responses backfilled',
    yLabel: 'responses per second (wall)',
    series: series(backfillPoints(results), (p) => p.responsesPerSecond),
    references: [
      { label: `PostgreSQL target ${TARGETS.postgres.toLocaleString('en-US')}/s`, y: TARGETS.postgres },
      { label: `SQLite target ${TARGETS.sqlite.toLocaleString('en-US')}/s`, y: TARGETS.sqlite },
    ],
  });
}

export function rssChart(results: BenchResults): string {
  return renderLineChart({
    title: 'Peak RSS against backfill size (Node default flags)',
    subtitle: chartSubtitle(results),
    xLabel: 'responses backfilled',
    yLabel: 'peak RSS of the sync process (MB)',
    series: series(backfillPoints(results), (p) => p.peakRssMb),
    references: [{ label: `target ${TARGETS.rssMb} MB`, y: TARGETS.rssMb }],
  });
}

function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return String(typeof value === 'number' ? value.toLocaleString('en-US') : value).replaceAll('|', '\\|');
}

function floorRow(results: BenchResults, overlapped = false): Figures | undefined {
  return (results.benchmarks.backfill ?? []).find(
    (r) => String(r.benchmark).startsWith('floor') && String(r.benchmark).includes('overlapped') === overlapped,
  );
}

/** The Markdown page; `charts` are the chart paths relative to the page, `source` the results file's. */
export function benchmarksPage(
  results: BenchResults,
  charts: { throughput: string; rss: string },
  source: string,
): string {
  const m = results.machine;
  const points = backfillPoints(results);
  const sizes = [...new Set(points.map((p) => p.responses))].sort((a, b) => a - b);
  const peakLoad = Math.max(...results.load.start, ...results.load.end);
  const lines: string[] = [];
  lines.push('# Benchmarks');
  lines.push('');
  lines.push(
    '<!-- Generated by `npm run bench:report -- <results.json>` from a run of `npm run bench -- --json`; edit bench/report/page.ts, not this file. -->',
  );
  lines.push('');
  lines.push(
    `Backfill of the CloseAlert sandbox into a fresh store, end to end (HTTP, validation, mapping, writes, checkpoints), at ${sizes.map((s) => s.toLocaleString('en-US')).join(', ')} responses on each database.`,
  );
  lines.push('Dashed lines are the targets of issue 17 on 2 cores.');
  lines.push('');
  if (peakLoad > m.cores / 2) {
    lines.push(
      `> **Shared machine.** The load average reached ${peakLoad} on ${m.cores} cores during this run, so wall-clock throughput is lower than on a quiet machine; the CPU seconds in the table move far less with the load. Regenerate on a quiet machine with the command below.`,
    );
    lines.push('');
  }
  lines.push(`![${'Backfill throughput against size, PostgreSQL and SQLite'}](${charts.throughput})`);
  lines.push('');
  lines.push(`![${'Peak RSS against backfill size, PostgreSQL and SQLite'}](${charts.rss})`);
  lines.push('');
  lines.push('## Machine and run');
  lines.push('');
  lines.push('| | |');
  lines.push('|---|---|');
  lines.push(`| CPU | ${cell(m.cpuModel)}, ${m.cores} cores |`);
  lines.push(`| memory | ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB |`);
  lines.push(`| platform | ${cell(m.platform)} |`);
  lines.push(`| Node | ${cell(m.node)} |`);
  lines.push(
    `| PostgreSQL | ${cell(m.postgres ?? 'unknown (server unreachable when the file was written)')} |`,
  );
  lines.push(`| SQLite | ${cell(m.sqlite ?? 'unknown')} |`);
  lines.push(
    `| commit | ${cell(m.gitCommit ?? 'unknown')}${m.gitDirty ? ' (with uncommitted changes)' : ''} |`,
  );
  lines.push(`| run | ${cell(results.startedAt)} to ${cell(results.finishedAt)} |`);
  lines.push(
    `| load average (1, 5, 15 min) | start ${results.load.start.join(', ')}; end ${results.load.end.join(', ')} |`,
  );
  const env = Object.entries(results.settings).map(([k, v]) => `${k}=${v}`);
  lines.push(`| command | \`${cell([...env, results.command].join(' '))}\` |`);
  lines.push(`| figures | [${cell(source)}](${source}) |`);
  lines.push('');
  lines.push('## Backfill figures');
  lines.push('');
  lines.push(
    '| database | responses | responses/s | CPU s (sync process) | RSS at start (MB) | peak RSS (MB) | load (1 min) |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of points) {
    lines.push(
      `| ${DIALECT_NAMES[p.dialect]} | ${cell(p.responses)} | ${cell(p.responsesPerSecond)} | ${cell(p.cpuSeconds)} | ${cell(p.startRssMb)} | ${cell(p.peakRssMb)} | ${cell(p.load)} |`,
    );
  }
  const floor = floorRow(results);
  if (floor) {
    lines.push('');
    lines.push(
      `Floor (plain fetches of the same pages, then one COPY of the same rows into PostgreSQL) at ${cell(floor.responses)} responses: ${cell(floor['responses/s'])} responses/s; the end-to-end PostgreSQL backfill took ${cell(floor['end-to-end / floor'])}× the floor's time (target ≤ 1.5×).`,
    );
  }
  const overlapped = floorRow(results, true);
  if (overlapped) {
    lines.push('');
    lines.push(
      `Overlapped floor (the same fetches, each batch of 1,000 records COPYed while the next pages are fetched): ${cell(overlapped['responses/s'])} responses/s; the end-to-end PostgreSQL backfill took ${cell(overlapped['end-to-end / floor'])}× its time.`,
    );
  }
  lines.push('');
  lines.push('## Regenerating');
  lines.push('');
  lines.push('```sh');
  lines.push(
    '# on a quiet machine; sizes from BENCH_RESPONSES, BENCH_RSS_SIZES (default 50000,500000) and BENCH_SIZES',
  );
  lines.push('npm run bench -- backfill --json docs/benchmarks/results.json');
  lines.push(
    'npm run bench:report -- docs/benchmarks/results.json   # writes this page and docs/benchmarks/*.svg',
  );
  lines.push('```');
  lines.push('');
  return lines.join('\n');
}
