import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, isSafeIdentifier } from '@tributary/core';

// `tributary connectors new <id>`: a connector package that passes its own tests before its author
// changes a line, so that every later failure is theirs to read, not the template's. It imports only
// @tributary/sdk, and its test syncs two pages over real HTTP from a local server.

function displayNameOf(id: string): string {
  return id
    .split('_')
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join(' ');
}

/**
 * Where the new package gets the SDK: this checkout's copy. The SDK is not published to a registry,
 * and a bare name or a `*` range there could be answered by anybody's package of that name.
 */
export function sdkDependency(): string {
  return `file:${fileURLToPath(new URL('../../../packages/sdk', import.meta.url))}`;
}

/** The conformance kit, likewise from this checkout (a dev dependency: the connector never imports it). */
export function testingDependency(): string {
  return `file:${fileURLToPath(new URL('../../../packages/testing', import.meta.url))}`;
}

function packageJson(id: string): string {
  return `${JSON.stringify(
    {
      name: `tributary-connector-${id.replace(/_/g, '-')}`,
      version: '0.1.0',
      private: true,
      description: `Tributary connector for ${displayNameOf(id)}.`,
      type: 'module',
      exports: './src/index.ts',
      scripts: { test: 'vitest run', typecheck: 'tsc --noEmit' },
      dependencies: { '@tributary/sdk': sdkDependency() },
      devDependencies: { '@tributary/testing': testingDependency(), '@types/node': '^20', tsx: '^4', typescript: '^5.9', vitest: '^4' },
    },
    null,
    2,
  )}\n`;
}

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2023',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noUncheckedIndexedAccess: true,
      esModuleInterop: true,
      skipLibCheck: true,
      isolatedModules: true,
      verbatimModuleSyntax: true,
      experimentalDecorators: true,
      noEmit: true,
      types: ['node'],
    },
    include: ['src/**/*.ts'],
  },
  null,
  2,
)}\n`;

const CONFIG_TS = `import { z } from '@tributary/sdk';

/** What \`tributary install __ID__ --set key=value\` accepts; each description shows in \`install __ID__ --help\`. */
export const configSchema = z.object({
  baseUrl: z.url().describe('base URL of the API, e.g. https://api.example.com/v1'),
  apiKey: z.string().min(8).describe('API key of the account (secret)'),
  pageSize: z.number().int().min(1).max(500).default(100).describe('records per page'),
});

export type Config = z.infer<typeof configSchema>;
`;

const STREAM_TS = `import { HttpSourceClient, defineStream, pageNumberPaginator, validateRecords, z, type ReadContext } from '@tributary/sdk';
import type { Config } from './config.js';

/** One record as the API serves it. A record that does not match is set aside as rejected, never stored. */
export const itemSchema = z.object({
  id: z.number().int(),
  email: z.string(),
  comment: z.string(),
  created_at: z.iso.datetime({ offset: true }),
  /** What the customer answered: a score (a rating, NPS…) or a text, per question. */
  answers: z
    .array(z.object({ question: z.string(), score: z.number().nullable().default(null), text: z.string().nullable().default(null) }))
    .default([]),
});
export type Item = z.infer<typeof itemSchema>;

/** A page: records stay unknown until each is validated alone, so one bad record never costs its page. */
const pageSchema = z.object({ items: z.array(z.unknown()), total_pages: z.number().int().min(0) });

/** The highest id stored so far: the API lists records after it (\`since_id\`), oldest first. */
const checkpointSchema = z.object({ lastId: z.number().int() });
type Checkpoint = z.infer<typeof checkpointSchema>;

export function clientFor(config: Config, ctx: Pick<ReadContext<Config, Checkpoint>, 'logger' | 'onWait'>): HttpSourceClient {
  return new HttpSourceClient({
    baseUrl: config.baseUrl,
    source: '__NAME__',
    logName: '__ID__',
    auth: { type: 'bearer', token: config.apiKey },
    logger: ctx.logger,
    ...(ctx.onWait ? { onWait: ctx.onWait } : {}),
  });
}

export const items = defineStream<Config, Item, Checkpoint>({
  name: 'items',
  recordSchema: itemSchema,
  checkpointSchema,
  async *read(ctx) {
    const http = clientFor(ctx.config, ctx);
    let lastId = ctx.checkpoint?.lastId ?? 0;
    const sinceId = lastId;
    try {
      const pages = pageNumberPaginator({
        start: 1,
        fetch: async (page) =>
          (await http.get('/items', { schema: pageSchema, query: { since_id: sinceId, page, per_page: ctx.config.pageSize }, signal: ctx.signal, expected: 'a page of items' })).data,
        hasMore: (page, number) => number < page.total_pages,
      });
      for await (const { page } of pages) {
        const { records, rejected } = validateRecords(page.items, itemSchema);
        for (const record of records) lastId = Math.max(lastId, record.id);
        yield { records, rejected, checkpoint: { lastId }, backfill: ctx.checkpoint === null };
      }
    } finally {
      await http.close();
    }
  },
  summarize: (item) => ({ key: String(item.id), email: item.email, comment: item.comment }),
});
`;

const CONNECTOR_TS = `import { defineConnector, z } from '@tributary/sdk';
import { configSchema } from './config.js';
import { dataModel, defaultMappings, sourceFields } from './model.js';
import { clientFor, items } from './stream.js';

export default defineConnector({
  id: '__ID__',
  version: '0.1.0',
  displayName: '__NAME__',
  configSchema,
  secrets: ['apiKey'],
  dataModel,
  sourceFields,
  defaultMappings,
  streams: [items],
  async check(ctx) {
    const http = clientFor(ctx.config, ctx);
    try {
      await http.get('/items', { schema: z.object({ items: z.array(z.unknown()) }), query: { page: 1, per_page: 1 }, signal: ctx.signal });
      return { notes: ['The API accepted the key.'] };
    } finally {
      await http.close();
    }
  },
});
`;

const MODEL_TS = `import type { DataModelInput, MappingInput, SourceFields } from '@tributary/sdk';

/** The tables a sync fills. Table names are stored as \`__ID___<table>\`. */
export const dataModel: DataModelInput = {
  primaryTable: 'items',
  customerEmailColumn: 'email',
  // Which columns are the feedback (who, when, which question, score, comment): profiles read these
  // roles, alone or across every feedback app of a workspace. Leave it out if the source holds no feedback.
  feedback: {
    responses: { table: 'items', id: 'item_id', time: 'created_at', email: 'email' },
    answers: { table: 'answers', response: 'item_id', question: 'question', score: 'score', comment: 'text', time: 'created_at' },
  },
  tables: [
    {
      name: 'items',
      rowsFrom: { kind: 'record' },
      key: ['item_id'],
      onConflict: 'ignore',
      columns: [
        { name: 'item_id', type: 'bigint', nullable: false, description: 'The id the API gives the item.' },
        { name: 'email', type: 'text', description: 'Who wrote it.' },
        { name: 'comment', type: 'text', description: 'What they wrote.' },
        { name: 'created_at', type: 'timestamp', description: 'When it was written (UTC).' },
      ],
      // Profiles: "responded within N days" and each customer's latest response.
      indexes: [['created_at'], ['email', 'created_at']],
    },
    {
      name: 'answers',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['item_id', 'question'],
      onConflict: 'ignore',
      columns: [
        { name: 'item_id', type: 'bigint', nullable: false, description: 'The item the answer belongs to.' },
        { name: 'question', type: 'text', nullable: false, description: 'Which question it answers.' },
        { name: 'score', type: 'numeric', description: 'The answer as a score, when it is one.' },
        { name: 'text', type: 'text', description: 'The answer as text, when it is one.' },
        { name: 'created_at', type: 'timestamp', description: "The item's time, repeated so profiles narrow answers without a join." },
      ],
      // Profiles: "question Q in the past N days with a score …" from this index alone.
      indexes: [['question', 'created_at', 'score', 'item_id'], ['score']],
    },
  ],
};

/** The record fields a mapping may read. */
export const sourceFields: SourceFields = {
  record: ['id', 'email', 'comment', 'created_at', 'answers'],
  each: { answers: ['question', 'score', 'text'] },
};

/** How a record becomes a row until a user remaps it (\`tributary mappings\`). */
export const defaultMappings: MappingInput[] = [
  { source: 'id', target: { table: 'items', column: 'item_id' }, transform: 'integer' },
  { source: 'email', target: { table: 'items', column: 'email' }, transform: 'email' },
  { source: 'comment', target: { table: 'items', column: 'comment' } },
  { source: 'created_at', target: { table: 'items', column: 'created_at' }, transform: 'timestamp' },
  { source: '$record.id', target: { table: 'answers', column: 'item_id' }, transform: 'integer' },
  { source: 'question', target: { table: 'answers', column: 'question' }, transform: 'string' },
  { source: 'score', target: { table: 'answers', column: 'score' }, transform: 'number' },
  { source: 'text', target: { table: 'answers', column: 'text' }, transform: 'string' },
  { source: '$record.created_at', target: { table: 'answers', column: 'created_at' }, transform: 'timestamp' },
];
`;

const INDEX_TS = `export { default } from './connector.js';
export { configSchema, type Config } from './config.js';
export { items, itemSchema, type Item } from './stream.js';
`;

const TEST_TS = `import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@tributary/sdk';
import connector from './index.js';
import { items, type Item } from './stream.js';

// A local HTTP server that serves the API's shape: the stream is read over real HTTP, so the test
// covers the client, the paginator, validation and the checkpoint together.

const KEY = 'test-key-123456';
const RECORDS: unknown[] = [
  { id: 1, email: 'ada@example.com', comment: 'great', created_at: '2026-01-01T10:00:00Z', answers: [{ question: 'rating', score: 5 }, { question: 'why', text: 'great' }] },
  { id: 2, email: 'bob@example.com', comment: 'slow', created_at: '2026-01-02T10:00:00Z', answers: [{ question: 'rating', score: 2 }] },
  { id: 3, email: 'cy@example.com', comment: 'fine', created_at: '2026-01-03T10:00:00Z' },
  { id: 4, comment: 'no email' },
];

let server: Server;
let baseUrl: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    seen.push(url.pathname + url.search);
    if (request.headers.authorization !== 'Bearer ' + KEY) {
      response.writeHead(401).end();
      return;
    }
    const since = Number(url.searchParams.get('since_id') ?? 0);
    const perPage = Number(url.searchParams.get('per_page'));
    const page = Number(url.searchParams.get('page'));
    const after = RECORDS.filter((r) => (r as { id: number }).id > since);
    const body = { items: after.slice((page - 1) * perPage, page * perPage), total_pages: Math.ceil(after.length / perPage) };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  baseUrl = 'http://127.0.0.1:' + (server.address() as AddressInfo).port + '/v1';
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

async function readAll(checkpoint: { lastId: number } | null) {
  const config = connector.configSchema.parse({ baseUrl, apiKey: KEY, pageSize: 2 });
  const pages = [];
  for await (const page of items.read({ config, checkpoint, now: new Date(), logger: silentLogger() })) pages.push(page);
  return pages;
}

describe('__ID__ connector', () => {
  it('reads two pages over HTTP, sets the malformed record aside and checkpoints the last id', async () => {
    const pages = await readAll(null);
    expect(pages).toHaveLength(2);
    expect(pages.flatMap((p) => p.records).map((r: Item) => r.id)).toEqual([1, 2, 3]);
    expect(pages.flatMap((p) => p.rejected).map((r) => r.sourceId)).toEqual(['4']);
    expect(pages.map((p) => p.checkpoint)).toEqual([{ lastId: 2 }, { lastId: 3 }]);
    expect(seen).toContain('/v1/items?since_id=0&page=2&per_page=2');
  });

  it('resumes after its checkpoint', async () => {
    const pages = await readAll({ lastId: 3 });
    expect(pages.flatMap((p) => p.records)).toEqual([]);
    expect(pages.flatMap((p) => p.rejected).map((r) => r.sourceId)).toEqual(['4']);
  });

  it('checks the key against the API', async () => {
    const config = connector.configSchema.parse({ baseUrl, apiKey: KEY });
    await expect(connector.check({ config, now: new Date(), logger: silentLogger() })).resolves.toEqual({ notes: ['The API accepted the key.'] });
    const wrong = connector.configSchema.parse({ baseUrl, apiKey: 'wrong-key-123' });
    await expect(connector.check({ config: wrong, now: new Date(), logger: silentLogger() })).rejects.toMatchObject({ code: 'SOURCE_AUTH_FAILED' });
  });
});
`;

const SANDBOX_TS = `import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the sandbox can make the next request suffer. */
export type Fault = 'rate-limited' | 'truncated-json' | 'connection-reset' | 'bad-record';

/**
 * A local fake of the API over real HTTP, whose records and faults a test controls: pages of items
 * after \`since_id\`, behind a bearer key. Adapt it with the stream when the API differs.
 */
export async function startSandbox(options: { records: number; key?: string }) {
  const key = options.key ?? 'sandbox-key-' + Math.random().toString(36).slice(2, 12);
  const items: Record<string, unknown>[] = [];
  let valid = 0;
  const faults: Fault[] = [];
  const add = (count: number) => {
    for (let i = 0; i < count; i++) {
      const id = items.length + 1;
      items.push({ id, email: 'customer' + (id % 50) + '@example.com', comment: 'comment ' + id, created_at: new Date(Date.UTC(2026, 0, 1) + id * 60_000).toISOString(), answers: [{ question: 'rating', score: id % 6 }] });
      valid += 1;
    }
  };
  add(options.records);
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.headers.authorization !== 'Bearer ' + key) return void response.writeHead(401).end();
    const fault = faults.shift();
    if (fault === 'connection-reset') return void request.socket.destroy();
    if (fault === 'rate-limited') return void response.writeHead(429, { 'retry-after': '1' }).end();
    const since = Number(url.searchParams.get('since_id') ?? 0);
    const perPage = Number(url.searchParams.get('per_page') ?? 100);
    const page = Number(url.searchParams.get('page') ?? 1);
    const after = items.filter((item) => (item.id as number) > since);
    const body = JSON.stringify({ items: after.slice((page - 1) * perPage, page * perPage), total_pages: Math.ceil(after.length / perPage) });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(fault === 'truncated-json' ? body.slice(0, Math.floor(body.length / 2)) : body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: 'http://127.0.0.1:' + (server.address() as AddressInfo).port + '/v1',
    key,
    /** Valid records served: each must be stored exactly once. */
    recordCount: () => valid,
    addRecords: add,
    injectFault(fault: Fault) {
      // A malformed record is new data (never stored); the others hit the next request.
      if (fault === 'bad-record') items.push({ id: items.length + 1, comment: 'no email, no date' });
      else faults.push(fault);
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
`;

const CONFORMANCE_TEST_TS = `import { fileURLToPath } from 'node:url';
import { describeConnectorConformance, tributaryCliEntry } from '@tributary/testing';
import connector from './index.js';
import { startSandbox } from './sandbox.js';

// The standard connector checks through Tributary's real CLI, against the local sandbox, on SQLite
// and PostgreSQL: exactly once after SIGKILLs, each fault survived and resumed, a malformed record
// set aside and logged, checkpoint resume, and no secret in any output.

// The CLI finds this package as a connector, as an operator's TRIBUTARY_CONNECTORS would name it.
process.env['TRIBUTARY_CONNECTORS'] = fileURLToPath(new URL('..', import.meta.url));

await describeConnectorConformance({
  connector,
  cliEntry: tributaryCliEntry(),
  requestLogMessage: '__ID__ request',
  faults: ['rate-limited', 'truncated-json', 'connection-reset'],
  badRecordFault: 'bad-record',
  records: 300,
  kills: 3,
  async startSandbox({ records }) {
    const sandbox = await startSandbox({ records });
    return {
      url: sandbox.url,
      installArgs: ['--set', 'baseUrl=' + sandbox.url, '--set', 'apiKey=' + sandbox.key, '--set', 'pageSize=20'],
      secrets: [sandbox.key],
      recordCount: sandbox.recordCount,
      addRecords: sandbox.addRecords,
      injectFault: sandbox.injectFault,
      close: sandbox.close,
    };
  },
});
`;

// The conformance kit runs the CLI in child processes, killed and restarted: minutes, not seconds.
const VITEST_CONFIG_TS = `import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { testTimeout: 180_000, hookTimeout: 180_000 } });
`;

const README_MD = `# __NAME__ connector for Tributary

A Tributary connector package: \`src/config.ts\` (settings), \`src/stream.ts\` (the \`items\` stream on
the SDK's HTTP client and page-number paginator), \`src/model.ts\` (tables, default mappings, and the
feedback view that profiles read),
\`src/connector.ts\` (the definition), \`src/connector.test.ts\` (a sync over a local HTTP server),
\`src/sandbox.ts\` and \`src/conformance.test.ts\` (Tributary's standard connector checks through its CLI
against that local sandbox, with faults and kills, on SQLite and PostgreSQL when it is reachable).

\`\`\`sh
npm test && npm run typecheck
TRIBUTARY_CONNECTORS=$PWD tributary connectors            # listed with its settings
TRIBUTARY_CONNECTORS=$PWD tributary install __ID__ --workspace acme --set baseUrl=https://api.example.com/v1 --set apiKey=@key.txt
TRIBUTARY_CONNECTORS=$PWD tributary sync __ID__ --workspace acme
\`\`\`

Adapt \`itemSchema\`, the \`/items\` request and its paging to your API, then the tables and mappings.
`;

/** The files of a new connector package, by path relative to its directory. */
export function connectorTemplate(id: string): Record<string, string> {
  const fill = (text: string) => text.replaceAll('__ID__', id).replaceAll('__NAME__', displayNameOf(id));
  return {
    'package.json': packageJson(id),
    'tsconfig.json': TSCONFIG,
    'README.md': fill(README_MD),
    'src/index.ts': INDEX_TS,
    'src/config.ts': fill(CONFIG_TS),
    'src/stream.ts': fill(STREAM_TS),
    'src/model.ts': fill(MODEL_TS),
    'src/connector.ts': fill(CONNECTOR_TS),
    'src/connector.test.ts': fill(TEST_TS),
    'src/sandbox.ts': SANDBOX_TS,
    'src/conformance.test.ts': fill(CONFORMANCE_TEST_TS),
    'vitest.config.ts': VITEST_CONFIG_TS,
  };
}

/** Writes a new connector package for `id` into `dir` (default `./tributary-connector-<id>`), which must be new or empty. */
export function scaffoldConnector(id: string, dir?: string): { dir: string; files: string[] } {
  if (!isSafeIdentifier(id)) {
    const suggestion = id.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^[^a-z]+/, '');
    throw new ConfigError('USAGE', `"${id}" cannot be a connector id: use lower-case letters, digits and _, starting with a letter (it prefixes table names).`, {
      hint: isSafeIdentifier(suggestion) ? `For example: tributary connectors new ${suggestion}` : 'For example: tributary connectors new my_source',
    });
  }
  const target = resolve(dir ?? `tributary-connector-${id.replace(/_/g, '-')}`);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new ConfigError('USAGE', `${target} already exists and is not empty.`, { hint: 'Name a new or empty directory with --dir.' });
  }
  const files = connectorTemplate(id);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(target, path)), { recursive: true });
    writeFileSync(join(target, path), text);
  }
  return { dir: target, files: Object.keys(files) };
}
