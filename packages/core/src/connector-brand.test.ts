import { describe, expect, it, vi } from 'vitest';
import type * as ConnectorModuleNamespace from './connector.js';

type ConnectorModule = typeof ConnectorModuleNamespace;
import { z } from 'zod';
import { configFieldsOf, defineConnector, defineStream, isConnector } from './connector.js';

const stream = defineStream({
  name: 'items',
  recordSchema: z.object({ id: z.number() }),
  checkpointSchema: z.object({ cursor: z.string() }),
  async *read() {
    yield { records: [], rejected: [], checkpoint: { cursor: 'x' }, backfill: false };
  },
});

const spec = {
  id: 'demo',
  version: '1.0.0',
  displayName: 'Demo',
  configSchema: z.object({
    token: z.string().describe('the API key'),
    url: z.string().default('https://example.com').describe('base URL'),
    pages: z.number().int().optional(),
    verbose: z.boolean().default(false),
  }),
  secrets: ['token'] as const,
  dataModel: {
    primaryTable: 'items',
    tables: [{ name: 'items', rowsFrom: { kind: 'record' as const }, key: ['item_id'], onConflict: 'ignore' as const, columns: [{ name: 'item_id', type: 'bigint' as const, nullable: false }] }],
  },
  sourceFields: { record: ['id'] },
  defaultMappings: [{ source: 'id', target: { table: 'items', column: 'item_id' } }],
  streams: [stream],
  check: async () => ({ notes: [] }),
  installFlags: [{ field: 'url', flags: '--url <url>', description: 'base URL' }],
};


/** The specifier of a fresh instance of a module: what a package with its own copy of core loads. */
const secondCopy = (path: string): string => `${path}?second-copy`;
describe('the connector brand', () => {
  it('marks what defineConnector returns, also when another copy of core made it', async () => {
    expect(isConnector(defineConnector(spec))).toBe(true);
    vi.resetModules();
    const copy = (await import(/* @vite-ignore */ secondCopy('./connector.js'))) as ConnectorModule;
    expect(isConnector(copy.defineConnector(spec))).toBe(true);
  });

  it('is not fooled by an object of the same shape that defineConnector never checked', () => {
    expect(isConnector({ ...spec })).toBe(false);
    expect(isConnector(null)).toBe(false);
    expect(isConnector('demo')).toBe(false);
  });

  it('refuses an install flag for a field the config lacks', () => {
    expect(() => defineConnector({ ...spec, installFlags: [{ field: 'nope', flags: '--nope <x>', description: '' }] })).toThrow(/install flag --nope <x> sets "nope"/);
  });
});

describe('configFieldsOf', () => {
  it('reads names, types, descriptions, defaults, optionality, secrets and flags from the zod shape', () => {
    expect(configFieldsOf(defineConnector(spec))).toEqual([
      { name: 'token', type: 'string', description: 'the API key', required: true, secret: true },
      { name: 'url', type: 'string', description: 'base URL', default: 'https://example.com', required: false, secret: false, flag: '--url' },
      { name: 'pages', type: 'number', required: false, secret: false },
      { name: 'verbose', type: 'boolean', default: false, required: false, secret: false },
    ]);
  });
});
