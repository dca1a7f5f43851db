// `npm run bench:report -- <results.json> [docs-dir]`: draws docs/benchmarks.md and its SVG charts
// (docs/benchmarks/*.svg) from a results file of `npm run bench -- --json`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchmarksPage, backfillPoints, rssChart, throughputChart } from './report/page.js';
import { readResults } from './report/results.js';

const [file, docsArg] = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (!file) {
  console.error(
    'usage: npm run bench:report -- <results.json> [docs-dir]; make the file with `npm run bench -- backfill --json <results.json>`',
  );
  process.exit(2);
}
const docs = resolve(docsArg ?? fileURLToPath(new URL('../docs', import.meta.url)));
const results = readResults(resolve(file));
if (backfillPoints(results).length === 0) {
  console.error(`${file} holds no backfill figures: run \`npm run bench -- backfill --json ${file}\` first.`);
  process.exit(2);
}
mkdirSync(join(docs, 'benchmarks'), { recursive: true });
writeFileSync(join(docs, 'benchmarks', 'backfill-throughput.svg'), throughputChart(results));
writeFileSync(join(docs, 'benchmarks', 'backfill-rss.svg'), rssChart(results));
const source = relative(docs, resolve(file)).split('\\').join('/');
writeFileSync(
  join(docs, 'benchmarks.md'),
  benchmarksPage(
    results,
    { throughput: 'benchmarks/backfill-throughput.svg', rss: 'benchmarks/backfill-rss.svg' },
    source,
  ),
);
console.log(`wrote ${join(docs, 'benchmarks.md')} and its charts in ${join(docs, 'benchmarks')}`);
