import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createPostgresTestDatabase } from './postgres.js';

/** A database a storage test runs against. */
export interface TestDatabase {
  /** `sqlite` or `postgres`, for test names. */
  dialect: 'sqlite' | 'postgres';
  /** A Tributary database URL: `sqlite:<path>` or `postgres://…`. */
  url: string;
}

/**
 * The databases a storage test file runs on: a fresh SQLite file always, and a fresh PostgreSQL
 * database when PostgreSQL is reachable (required under CI). Everything is removed after the file.
 * Call it at the top level of a test file: `const databases = await testDatabases('store');`
 */
export async function testDatabases(label: string): Promise<TestDatabase[]> {
  const dir = mkdtempSync(join(tmpdir(), `tributary-${label}-`));
  const postgres = await createPostgresTestDatabase(label);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await postgres?.drop();
  });
  const databases: TestDatabase[] = [{ dialect: 'sqlite', url: `sqlite:${join(dir, 'tributary.db')}` }];
  if (postgres) databases.push({ dialect: 'postgres', url: postgres.url });
  return databases;
}

/** A fresh empty directory removed after the test file. */
export function tempDirectory(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tributary-${label}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
