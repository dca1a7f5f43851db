import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tributary/core';
import { parseDatabaseUrl } from './url.js';

describe('parseDatabaseUrl', () => {
  it('reads SQLite file URLs, resolving relative paths', () => {
    expect(parseDatabaseUrl('sqlite:./data/tributary.db')).toMatchObject({ dialect: 'sqlite', path: resolve('data/tributary.db') });
    expect(parseDatabaseUrl('sqlite:/var/lib/tributary.db')).toMatchObject({ dialect: 'sqlite', path: '/var/lib/tributary.db' });
    expect(parseDatabaseUrl('sqlite:///var/lib/tributary.db')).toMatchObject({ dialect: 'sqlite', path: '/var/lib/tributary.db' });
    expect(parseDatabaseUrl('  sqlite:x.db ')).toMatchObject({ dialect: 'sqlite', path: resolve('x.db') });
  });

  it('reads the in-memory SQLite URL', () => {
    expect(parseDatabaseUrl('sqlite::memory:')).toMatchObject({ dialect: 'sqlite', path: ':memory:' });
  });

  it('reads PostgreSQL URLs and describes them without the password', () => {
    const target = parseDatabaseUrl('postgres://app:s3cr%40t@db.internal:6543/tributary?sslmode=require');
    expect(target).toMatchObject({ dialect: 'postgres', host: 'db.internal', port: 6543, database: 'tributary' });
    expect(target.description).toBe('PostgreSQL database "tributary" at db.internal:6543');
    expect(target.description).not.toContain('s3cr');
    expect(parseDatabaseUrl('postgresql://postgres@127.0.0.1')).toMatchObject({ port: 5432, database: 'postgres' });
    expect(parseDatabaseUrl('postgres://alice@127.0.0.1:5432')).toMatchObject({ database: 'alice' });
  });

  it.each([
    ['mysql://root:hunter2@localhost/db', /unsupported scheme \("mysql:"\)/],
    ['sqlite:', /names no SQLite file/],
    ['sqlite://', /names no SQLite file/],
    ['postgres://:hunter2@/db', /without a host|cannot be parsed/],
    ['', /empty/],
    ['just-a-path.db', /unsupported scheme \(no scheme\)/],
  ])('refuses %j with a ConfigError naming the expected forms', (url, reason) => {
    let error: unknown;
    try {
      parseDatabaseUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(reason);
    expect(message).toContain('TRIBUTARY_DATABASE_URL');
    expect(message).toContain('sqlite:<path>');
    expect(message).toContain('postgres://');
    expect(message).not.toContain('hunter2');
  });

  it('refuses a value that is not a string', () => {
    expect(() => parseDatabaseUrl(42)).toThrow(ConfigError);
  });
});
