// One measurement of issue 4's benchmark, in a process of its own so that its peak RSS is its own:
//   sync  <database-url> <sandbox-json>   a full backfill through runSync into a fresh store
//   floor <database-url> <sandbox-json>   the floors: plain fetches of the same pages, then a COPY of the same rows;
//                                         and the same fetches again with each batch's COPY overlapping the next fetches
//
// bench/backfill.ts runs this file compiled (see compiledBenchScripts in support.ts), as a user runs the
// compiled CLI; pg, pg-copy-streams and undici are loaded by the runs that use them (the floor, a PostgreSQL
// sync) alone, so that a SQLite sync's RSS holds what a sync loads.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
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

const loadPg = async () => (await import('pg')).default;

/**
 * CPU seconds the PostgreSQL backends of this database spent, when the server runs on this machine
 * (read from /proc; 0 elsewhere): the database's share of the work, which the worker's own CPU
 * time leaves out. Backends are sampled while they live, so one that exits early still counts.
 */
/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ). */
const CLOCK_TICKS = 100;

function trackPostgresCpu(pg: Awaited<ReturnType<typeof loadPg>>, url: string): { stop(): Promise<number> } {
  const client = new pg.Client({ connectionString: url });
  const seen = new Map<number, number>();
  const sample = async () => {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    for (const { pid } of rows) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        seen.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
      } catch {
        // Not on this machine, or the backend has just exited.
      }
    }
  };
  const ready = client.connect().then(sample);
  let timer: NodeJS.Timeout | undefined;
  void ready.then(() => (timer = setInterval(() => void sample().catch(() => undefined), 250)));
  const before = ready.then(() => new Map(seen));
  return {
    async stop() {
      await ready;
      clearInterval(timer);
      await sample();
      await client.end();
      const start = await before;
      let total = 0;
      for (const [pid, cpu] of seen) total += cpu - (start.get(pid) ?? 0);
      return total;
    },
  };
}

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
  const postgresCpu = databaseUrl!.startsWith('postgres') ? trackPostgresCpu(await loadPg(), databaseUrl!) : undefined;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const batchRecords = process.env.BENCH_BATCH_RECORDS ? Number(process.env.BENCH_BATCH_RECORDS) : undefined;
  const result = await runSync({ store, connector, installation, now: () => now, maxListedCustomers: 100, ...(batchRecords ? { batchRecords } : {}) });
  const seconds = (performance.now() - started) / 1000;
  // This process's CPU time: on a shared machine it moves far less with the load than the wall time.
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const peakRss = rss.stop();
  const databaseCpuSeconds = (await postgresCpu?.stop()) ?? 0;
  if (result.status !== 'succeeded') throw new Error(`sync failed: ${result.error}`);
  const rows = Object.values(await store.countRows(installation.id)).reduce((a, b) => a + b, 0);
  await store.close();
  return { responses: result.inserted, rows, seconds, cpuSeconds, databaseCpuSeconds, startRss, peakRss };
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

/** The form_responses pages of the backfill's windows, fetched with nothing but HTTP and JSON.parse. */
async function* fetchPages(): AsyncGenerator<unknown[]> {
  const { request } = await import('undici');
  const path = `${sandbox.url}/${encodeURIComponent(sandbox.projectKey)}/form_responses`;
  const windowMs = 28 * 86_400_000;
  for (let since = now.getTime() - BACKFILL_DAYS * 86_400_000; since < now.getTime(); since += windowMs) {
    const until = Math.min(since + windowMs, now.getTime());
    for (let page = 0; ; page++) {
      const query = new URLSearchParams({ since: new Date(since).toISOString(), until: new Date(until).toISOString(), per_page: '250', page: String(page) });
      const response = await request(`${path}?${query}`, { headers: { authorization: `Bearer ${sandbox.token}` } });
      const body = (await response.body.json()) as { form_responses: unknown[]; meta: { total_pages: number } };
      yield body.form_responses;
      if (page + 1 >= body.meta.total_pages) break;
    }
  }
}

async function copyRows(client: Client, schema: string, rows: Record<string, Row[]>): Promise<void> {
  const { from: copyFrom } = await import('pg-copy-streams');
  for (const table of connector.dataModel.tables) {
    const tableRows = rows[table.name] ?? [];
    if (tableRows.length === 0) continue;
    const names = table.columns.map((c) => c.name);
    const copy = client.query(copyFrom(`COPY ${schema}."${table.name}" (installation_id, ${names.map((n) => `"${n}"`).join(', ')}) FROM STDIN WITH (FORMAT csv)`));
    const lines = function* () {
      for (const row of tableRows) yield `bench,${names.map((n) => csvCell(row[n] ?? null)).join(',')}\n`;
    };
    await pipeline(Readable.from(lines()), copy);
  }
}

async function createFloorTables(client: Client, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  for (const table of connector.dataModel.tables) {
    const columns = table.columns.map((c) => `"${c.name}" ${PG_TYPES[c.type]}`).join(', ');
    await client.query(`CREATE TABLE ${schema}."${table.name}" (installation_id text, ${columns})`);
  }
}

/** Records per COPY in the overlapped floor: the runner's batch (run-sync's default batchRecords). */
const FLOOR_BATCH = 1000;

async function measureFloor(): Promise<Record<string, number>> {
  // Serial: fetch the same month-sized windows and 250-record pages, then COPY every row at once.
  const fetchStarted = performance.now();
  const pages: unknown[][] = [];
  for await (const page of fetchPages()) pages.push(page);
  const fetchSeconds = (performance.now() - fetchStarted) / 1000;
  // Each record once, in the pages it came in (a window's edge may repeat one).
  const seen = new Set<number>();
  const uniquePages = pages.map((page) =>
    page.filter((r) => {
      const id = (r as { id: number }).id;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    }),
  );
  const unique = uniquePages.flat();

  // The rows are mapped outside the timer: the floor is the cost of moving them, not of making them.
  const model = connector.dataModel;
  const compiled = compileMappings(connector.defaultMappings, model);
  const meta = { backfill: true, timeZone: 'UTC' };
  const rows = applyMappings(unique, compiled, meta);
  const pg = await loadPg();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await createFloorTables(client, 'bench_floor');
  const copyStarted = performance.now();
  await copyRows(client, 'bench_floor', rows);
  const copySeconds = (performance.now() - copyStarted) / 1000;
  let rowCount = 0;
  for (const table of model.tables) rowCount += rows[table.name]?.length ?? 0;

  // Overlapped: the same fetches again, and as soon as the pages of a batch have arrived, its rows
  // (mapped beforehand, like the serial floor's) are COPYed while the next pages are fetched. At
  // most one COPY runs at a time, on one connection, as the runner writes one batch at a time.
  // Pages are grouped into batches of at least FLOOR_BATCH records, as the runner's pipeline does.
  const pagesPerBatch: number[] = [];
  const batches: Record<string, Row[]>[] = [];
  for (let i = 0, count = 0, records: unknown[] = []; i < uniquePages.length; i++) {
    count += 1;
    records.push(...uniquePages[i]!);
    if (records.length >= FLOOR_BATCH || i === uniquePages.length - 1) {
      pagesPerBatch.push(count);
      batches.push(applyMappings(records, compiled, meta));
      count = 0;
      records = [];
    }
  }
  await createFloorTables(client, 'bench_floor_overlap');
  const overlapStarted = performance.now();
  let copying: Promise<void> = Promise.resolve();
  let batch = 0;
  let fetched = 0;
  for await (const _page of fetchPages()) {
    fetched += 1;
    if (batch < batches.length && fetched === pagesPerBatch[batch]) {
      const rowsOfBatch = batches[batch]!;
      copying = copying.then(() => copyRows(client, 'bench_floor_overlap', rowsOfBatch));
      batch += 1;
      fetched = 0;
    }
  }
  await copying;
  const overlapSeconds = (performance.now() - overlapStarted) / 1000;
  await client.end();
  return { responses: unique.length, rows: rowCount, fetchSeconds, copySeconds, seconds: fetchSeconds + copySeconds, overlapSeconds };
}

const result = mode === 'floor' ? await measureFloor() : await measureSync();
process.stdout.write(`${JSON.stringify(result)}\n`);
