import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConnector, defineStream, maskSecrets, type ConnectorSpec } from './connector.js';
import type { DataModelInput } from './data-model.js';
import { ConfigError } from './errors.js';

const dataModel: DataModelInput = {
  primaryTable: 'items',
  customerEmailColumn: 'email',
  tables: [
    {
      name: 'items',
      rowsFrom: { kind: 'record' },
      key: ['item_id'],
      onConflict: 'ignore',
      columns: [
        { name: 'item_id', type: 'bigint', nullable: false },
        { name: 'email', type: 'text' },
      ],
    },
  ],
};

const stream = defineStream({
  name: 'items',
  recordSchema: z.object({ id: z.number(), email: z.string() }),
  checkpointSchema: z.object({ cursor: z.string() }),
  async *read() {
    yield { records: [], rejected: [], checkpoint: { cursor: 'x' }, backfill: false };
  },
});

function spec(overrides: Partial<ConnectorSpec<z.ZodObject<{ token: z.ZodString; url: z.ZodString }>>> = {}) {
  return {
    id: 'demo',
    version: '1.0.0',
    displayName: 'Demo',
    configSchema: z.object({ token: z.string(), url: z.string() }),
    secrets: ['token'] as const,
    dataModel,
    sourceFields: { record: ['id', 'email'] },
    defaultMappings: [
      { source: 'id', target: { table: 'items', column: 'item_id' }, transform: 'integer' as const },
      { source: 'email', target: { table: 'items', column: 'email' }, transform: 'email' as const },
    ],
    streams: [stream],
    check: async () => ({ notes: [] }),
    ...overrides,
  };
}

describe('defineConnector', () => {
  it('accepts a consistent connector and fills defaults', () => {
    const connector = defineConnector(spec());
    expect(connector.id).toBe('demo');
    expect(connector.defaultMappings[0]).toMatchObject({ enabled: true, transform: 'integer' });
    expect(connector.dataModel.tables[0]?.indexes).toEqual([]);
    expect(Object.isFrozen(connector)).toBe(true);
  });

  it('rejects default mappings that point at a column the data model lacks', () => {
    const bad = spec({
      defaultMappings: [
        { source: 'id', target: { table: 'items', column: 'item_id' } },
        { source: 'email', target: { table: 'items', column: 'mail' } },
      ],
    });
    expect(() => defineConnector(bad)).toThrow(ConfigError);
    expect(() => defineConnector(bad)).toThrow(/table "items" has no column "mail"/);
  });

  it('rejects default mappings that point at a table the data model lacks', () => {
    const bad = spec({
      defaultMappings: [
        { source: 'id', target: { table: 'items', column: 'item_id' } },
        { source: 'email', target: { table: 'people', column: 'email' } },
      ],
    });
    expect(() => defineConnector(bad)).toThrow(/no table "people"/);
  });

  it('rejects a secret that is not a config field', () => {
    expect(() => defineConnector(spec({ secrets: ['password' as 'token'] }))).toThrow(/secret "password"/);
  });

  it('rejects an invalid data model with the field named', () => {
    const broken = { ...dataModel, primaryTable: 'nothing' };
    expect(() => defineConnector(spec({ dataModel: broken }))).toThrow(/primaryTable: primary table "nothing" is not declared/);
  });

  it('rejects duplicate streams and bad ids', () => {
    expect(() => defineConnector(spec({ streams: [stream, stream] }))).toThrow(/declared twice/);
    expect(() => defineConnector(spec({ id: 'Bad Id' }))).toThrow(/id must be/);
    expect(() => defineConnector(spec({ version: 'latest' }))).toThrow(/semantic version/);
  });

  it('rejects a stream name that is no identifier', () => {
    expect(() => defineStream({ ...stream, name: 'drop table' })).toThrow(/Stream name/);
  });
});

describe('maskSecrets', () => {
  it('masks exactly the secret fields', () => {
    expect(maskSecrets({ token: 'abc', url: 'u' }, ['token'])).toEqual({ token: '***', url: 'u' });
  });
});
