import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '@tributary/testing';
import { openRaw, runCli } from './test-support/cli.js';

// `tributary connectors new` writes a package outside the repository that passes its own test and
// type check at once and is found through TRIBUTARY_CONNECTORS, with no file of Tributary changed.

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const root = join(tmpdir(), `tributary-scaffold-${randomBytes(6).toString('hex')}`);
const dir = join(root, 'acme-reviews');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const databases = await testDatabases('cli-scaffold');

/** The API shape the scaffold's stream expects: pages of items after `since_id`, behind a bearer key. */
async function startItemsApi(key: string, items: unknown[]): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.headers.authorization !== `Bearer ${key}`) return void response.writeHead(401).end();
    const after = items.filter((r) => (r as { id: number }).id > Number(url.searchParams.get('since_id') ?? 0));
    const perPage = Number(url.searchParams.get('per_page'));
    const page = Number(url.searchParams.get('page'));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ items: after.slice((page - 1) * perPage, page * perPage), total_pages: Math.ceil(after.length / perPage) }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => new Promise((done) => server.close(() => done())) };
}

/** Resolves what an `npm install` of the package would bring: the SDK, vitest and Node's types, from this repository. */
function linkDependencies(target: string): void {
  mkdirSync(join(target, 'node_modules/@tributary'), { recursive: true });
  mkdirSync(join(target, 'node_modules/@types'), { recursive: true });
  symlinkSync(join(repo, 'packages/sdk'), join(target, 'node_modules/@tributary/sdk'));
  symlinkSync(join(repo, 'packages/testing'), join(target, 'node_modules/@tributary/testing'));
  symlinkSync(join(repo, 'node_modules/vitest'), join(target, 'node_modules/vitest'));
  symlinkSync(join(repo, 'node_modules/tsx'), join(target, 'node_modules/tsx'));
  symlinkSync(join(repo, 'node_modules/@types/node'), join(target, 'node_modules/@types/node'));
}

/** The environment without this test run's own vitest variables, so that the package's vitest starts as a fresh one. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_OPTIONS' && key !== 'TEST'));
}

describe('tributary connectors new', () => {
  it('writes a package that imports only the SDK, passes its own test and type check, and is listed as a connector', async () => {
    const created = await runCli(['connectors', 'new', 'acme_reviews', '--dir', dir, '--json'], { LOG_LEVEL: 'silent' });
    expect(created.code, created.stderr).toBe(0);
    const { files } = JSON.parse(created.stdout) as { files: string[] };
    expect(files).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'src/config.ts', 'src/stream.ts', 'src/model.ts', 'src/connector.ts', 'src/connector.test.ts', 'src/sandbox.ts', 'src/conformance.test.ts']),
    );
    const packagesImported = new Set(
      files
        .filter((f) => f.endsWith('.ts'))
        .flatMap((file) => [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!))
        .filter((i) => !i.startsWith('./') && !i.startsWith('node:')),
    );
    // The connector imports only the SDK; its tests add vitest and the conformance kit.
    expect([...packagesImported].sort()).toEqual(['@tributary/sdk', '@tributary/testing', 'vitest', 'vitest/config']);
    const connectorImports = files
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f.startsWith('src/'))
      .flatMap((file) => [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!))
      .filter((i) => !i.startsWith('./') && !i.startsWith('node:'));
    expect([...new Set(connectorImports)]).toEqual(['@tributary/sdk']);
    // The SDK comes from this checkout (it is not published): never a bare range a registry could answer.
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(manifest.dependencies).toEqual({ '@tributary/sdk': `file:${join(repo, 'packages/sdk')}` });
    expect(manifest.devDependencies['@tributary/testing']).toBe(`file:${join(repo, 'packages/testing')}`);
    linkDependencies(dir);

    const tsc = await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json'), '--noEmit'], { cwd: dir, env: cleanEnv() }).catch((e: { stdout: string; code: number }) => e);
    expect(tsc.stdout, 'tsc --noEmit').toBe('');

    const vitest = await run(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--reporter', 'json'], { cwd: dir, env: cleanEnv() }).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    const report = JSON.parse(vitest.stdout) as { success: boolean; numPassedTests: number; numFailedTests: number };
    expect(report, vitest.stderr).toMatchObject({ success: true, numFailedTests: 0 });
    // Its own three tests, and the conformance kit's checks (per database: kills, resume, rejects,
    // three faults, secrets), which fail rather than skip.
    expect(report.numPassedTests).toBeGreaterThanOrEqual(3 + 7);

    const listed = await runCli(['connectors', '--json'], { LOG_LEVEL: 'silent', TRIBUTARY_CONNECTORS: dir });
    expect(listed.code, listed.stderr).toBe(0);
    const ours = (JSON.parse(listed.stdout) as { id: string; package: string; streams: string[]; config: { name: string; secret: boolean }[] }[]).find((c) => c.id === 'acme_reviews');
    expect(ours).toMatchObject({ package: dir, streams: ['items'] });
    expect(ours!.config.map((f) => [f.name, f.secret])).toEqual([
      ['baseUrl', false],
      ['apiKey', true],
      ['pageSize', false],
    ]);

    // The same through the user's entry, from another directory: once built (as after `npm ci`), that
    // is the compiled CLI, where Node alone cannot load the package's TypeScript.
    const fromBin = await run(process.execPath, [join(repo, 'apps/cli/bin/tributary.js'), 'connectors', '--json'], {
      cwd: root,
      env: { ...cleanEnv(), LOG_LEVEL: 'silent', TRIBUTARY_CONNECTORS: dir },
    });
    expect((JSON.parse(fromBin.stdout) as { id: string }[]).map((c) => c.id)).toContain('acme_reviews');
  }, 900_000);

  it('refuses an id that cannot name tables, and a directory that is not empty', async () => {
    const bad = await runCli(['connectors', 'new', 'Acme-Reviews', '--dir', join(root, 'bad')], { LOG_LEVEL: 'silent' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/cannot be a connector id/);
    expect(bad.stderr).toContain('For example: tributary connectors new acme_reviews');
    const taken = join(root, 'taken');
    mkdirSync(taken, { recursive: true });
    writeFileSync(join(taken, 'keep.txt'), 'mine');
    const refused = await runCli(['connectors', 'new', 'other', '--dir', taken], { LOG_LEVEL: 'silent' });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/not empty/);
    expect(readdirSync(taken)).toEqual(['keep.txt']);
  });
});

describe.each(databases)('a scaffolded connector through the CLI on $dialect', (db) => {
  // Run alone (a name filter), the package the first test writes is not there yet.
  beforeAll(async () => {
    if (existsSync(dir)) return;
    expect((await runCli(['connectors', 'new', 'acme_reviews', '--dir', dir], { LOG_LEVEL: 'silent' })).code).toBe(0);
    linkDependencies(dir);
  });

  it('installs with --set, syncs its pages into its table, resumes from its checkpoint, and is profiled through its feedback view', async () => {
    const key = 'scaffold-key-9876';
    const api = await startItemsApi(key, [
      { id: 1, email: 'ada@example.com', comment: 'great', created_at: '2026-01-01T10:00:00Z', answers: [{ question: 'rating', score: 5 }, { question: 'why', text: 'Great service' }] },
      { id: 2, email: 'bob@example.com', comment: 'slow', created_at: '2026-01-02T10:00:00Z', answers: [{ question: 'rating', score: 2 }] },
      { id: 3, email: 'cy@example.com', comment: 'fine', created_at: '2026-01-03T10:00:00Z' },
      { id: 4, comment: 'no email' },
    ]);
    try {
      const env = { TRIBUTARY_DATABASE_URL: db.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent', TRIBUTARY_CONNECTORS: dir };
      expect((await runCli(['migrate'], env)).code).toBe(0);
      const install = await runCli(['install', 'acme_reviews', '--workspace', 'acme', '--set', `baseUrl=${api.url}`, '--set', `apiKey=${key}`, '--set', 'pageSize=2'], env);
      expect(install.code, install.stderr).toBe(0);
      const sync = await runCli(['sync', 'acme_reviews', '--workspace', 'acme', '--json'], env);
      expect(sync.code, sync.stderr).toBe(0);
      expect(JSON.parse(sync.stdout)).toMatchObject([{ app: 'acme_reviews', status: 'succeeded', inserted: 3, rejected: 1 }]);
      const again = await runCli(['sync', 'acme_reviews', '--workspace', 'acme', '--json'], env);
      expect(JSON.parse(again.stdout)).toMatchObject([{ status: 'succeeded', inserted: 0 }]);
      // The generated feedback view is what profiles read: question and score on one answer, and comments.
      const created = await runCli(['profiles', 'create', 'Fans', '--workspace', 'acme', '--question', 'rating', '--score', '>=4'], env);
      expect(created.code, created.stderr).toBe(0);
      const fans = await runCli(['profiles', 'run', 'Fans', '--workspace', 'acme', '--format', 'csv'], env);
      expect(fans.code, fans.stderr).toBe(0);
      expect(fans.stdout.split('\r\n').slice(1, -1).map((line) => line.split(',')).map((f) => [f[0], f[3], f[5], f[7]])).toEqual([['ada@example.com', '1', '5', 'acme_reviews']]);
      expect((await runCli(['profiles', 'create', 'Praise', '--workspace', 'acme', '--comment', 'great SERVICE'], env)).code).toBe(0);
      const praise = await runCli(['profiles', 'run', 'Praise', '--workspace', 'acme', '--json'], env);
      expect((JSON.parse(praise.stdout) as { email: string }[]).map((m) => m.email)).toEqual(['ada@example.com']);
      const raw = await openRaw(db);
      try {
        const rows = await raw.query<{ item_id: number | string; email: string }>(`SELECT item_id, email FROM ${raw.own('acme_reviews_items')} ORDER BY item_id`);
        expect(rows.map((r) => [Number(r.item_id), r.email])).toEqual([
          [1, 'ada@example.com'],
          [2, 'bob@example.com'],
          [3, 'cy@example.com'],
        ]);
      } finally {
        await raw.close();
      }
    } finally {
      await api.close();
    }
  });
});
