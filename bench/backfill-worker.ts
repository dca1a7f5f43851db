// One measurement of issue 4's benchmark, in a process of its own so that its peak RSS is its own:
//   sync  <database-url> <sandbox-json>   a full backfill through runSync into a fresh store
//   floor <database-url> <sandbox-json>   the floor: plain fetches of the same pages, then a COPY of the same rows
//
// bench/backfill.ts runs this file compiled (see compiledBenchScripts in support.ts), as a user runs the
// compiled CLI; what only the floor uses (pg, pg-copy-streams, undici) is loaded by the floor alone, so
// that a sync's RSS holds what a sync loads.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { applyMappings, compileMappings, type ColumnType, type ConnectorDefinition, type Row } from '@tributary/core';
import { runSync } from '@tributary/runner';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { trackPeakRss } from './support.js';

const [mode, databaseUrl, sandboxJson] = process.argv.slice(2);
const sandbox = JSON.parse(sandboxJson ?? '{}') as { url: string; token: string; projectKey: string; now: string };
const now = new Date(sandbox.now);
const connector = closeAlertConnector as unknown as ConnectorDefinition;
const BACKFILL_DAYS = 366;

async function measureSync(): Promise<Record<string, number>> {
  const key = randomBytes(32);
  const store = await createStore({ url: databaseUrl!, cipher: createSecretCipher({ keys: { k: key }, currentKeyId: 'k' }) });
  await store.migrate();
  const installation = await store.install({
    workspace: 'bench',
    app: 'closealert',
    config: connector.configSchema.parse({
      projectKey: sandbox.projectKey,
      apiToken: sandbox.token,
      baseUrl: sandbox.url,
      backfillDays: BACKFILL_DAYS,
    }) as Record<string, unknown>,
    secretFields: connector.secrets,
    mappings: [...connector.defaultMappings],
    dataModel: connector.dataModel,
  });
  const startRss = process.memoryUsage.rss();
  const rss = trackPeakRss();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const batchRecords = process.env.BENCH_BATCH_RECORDS ? Number(process.env.BENCH_BATCH_RECORDS) : undefined;
  const result = await runSync({ store, connector, installation, now: () => now, maxListedCustomers: 100, ...(batchRecords ? { batchRecords } : {}) });
  const seconds = (performance.now() - started) / 1000;
  // This process's CPU time: on a shared machine it moves far less with the load than the wall time.
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const peakRss = rss.stop();
  if (result.status !== 'succeeded') throw new Error(`sync failed: ${result.error}`);
  const rows = Object.values(await store.countRows(installation.id)).reduce((a, b) => a + b, 0);
  await store.close();
  return { responses: result.inserted, rows, seconds, cpuSeconds, startRss, peakRss };
}

const PG_TYPES: Record<ColumnType, string> = {
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  numeric: 'numeric',
  boolean: 'boolean',
  timestamp: 'timestamptz',
  json: 'jsonb',
};

function csvCell(value: Row[string]): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) || text === '' ? `"${text.replaceAll('"', '""')}"` : text;
}

async function measureFloor(): Promise<Record<string, number>> {
  const [{ default: pg }, { from: copyFrom }, { request }] = await Promise.all([import('pg'), import('pg-copy-streams'), import('undici')]);
  // Fetch: the same month-sized windows and 250-record pages, with nothing but HTTP and JSON.parse.
  const fetchStarted = performance.now();
  const records: unknown[] = [];
  const path = `${sandbox.url}/${encodeURIComponent(sandbox.projectKey)}/form_responses`;
  const windowMs = 28 * 86_400_000;
  for (let since = now.getTime() - BACKFILL_DAYS * 86_400_000; since < now.getTime(); since += windowMs) {
    const until = Math.min(since + windowMs, now.getTime());
    for (let page = 0; ; page++) {
      const query = new URLSearchParams({ since: new Date(since).toISOString(), until: new Date(until).toISOString(), per_page: '250', page: String(page) });
      const response = await request(`${path}?${query}`, { headers: { authorization: `Bearer ${sandbox.token}` } });
      const body = (await response.body.json()) as { form_responses: unknown[]; meta: { total_pages: number } };
      records.push(...body.form_responses);
      if (page + 1 >= body.meta.total_pages) break;
    }
  }
  const fetchSeconds = (performance.now() - fetchStarted) / 1000;
  const unique = [...new Map(records.map((r) => [(r as { id: number }).id, r])).values()];

  // The rows are mapped outside the timer: the floor is the cost of moving them, not of making them.
  const model = connector.dataModel;
  const rows = applyMappings(unique, compileMappings(connector.defaultMappings, model), { backfill: true, timeZone: 'UTC' });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('CREATE SCHEMA IF NOT EXISTS bench_floor');
  for (const table of model.tables) {
    const columns = table.columns.map((c) => `"${c.name}" ${PG_TYPES[c.type]}`).join(', ');
    await client.query(`CREATE TABLE bench_floor."${table.name}" (installation_id text, ${columns})`);
  }
  const copyStarted = performance.now();
  let rowCount = 0;
  for (const table of model.tables) {
    const tableRows = rows[table.name] ?? [];
    rowCount += tableRows.length;
    const names = table.columns.map((c) => c.name);
    const copy = client.query(copyFrom(`COPY bench_floor."${table.name}" (installation_id, ${names.map((n) => `"${n}"`).join(', ')}) FROM STDIN WITH (FORMAT csv)`));
    const lines = function* () {
      for (const row of tableRows) yield `bench,${names.map((n) => csvCell(row[n] ?? null)).join(',')}\n`;
    };
    await pipeline(Readable.from(lines()), copy);
  }
  const copySeconds = (performance.now() - copyStarted) / 1000;
  await client.end();
  return { responses: unique.length, rows: rowCount, fetchSeconds, copySeconds, seconds: fetchSeconds + copySeconds };
}

const result = mode === 'floor' ? await measureFloor() : await measureSync();
process.stdout.write(`${JSON.stringify(result)}\n`);
