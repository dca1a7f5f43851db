import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createSecretCipher, createStore, generateSecretKey } from '@tributary/store-typeorm';
import { tempDirectory, testDatabases, type TestDatabase } from '@tributary/testing';
import { keyIdOf, parseKeyFile } from './secret-key.js';
import { openRaw, runCli } from './test-support/cli.js';

// What the CLI leaves on disk: the key file never depends on the working directory and is never
// made a second time over secrets it cannot open; commands that only read create nothing and never
// migrate; the SQLite file is private.

const databases = await testDatabases('cli-database-files');
const DRIVER = fileURLToPath(new URL('./test-support/run-commands.ts', import.meta.url));
// Absolute, so that the child finds the TypeScript loader from any working directory.
const TSX = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one `tributary` command in a child process started in `cwd`, with only `env` (and PATH). */
function runIn(cwd: string, args: string[], env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, DRIVER, JSON.stringify([args])], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      const code = /@@ command 0 exited (\d+)/.exec(stdout)?.[1];
      resolve({ code: code === undefined ? null : Number(code), stdout, stderr });
    });
  });
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** Every command that only reads, with arguments that would be valid on an existing database. */
const READ_ONLY: string[][] = [
  ['apps'],
  ['logs', '--workspace', 'acme'],
  ['invoices', '--workspace', 'acme'],
  ['profiles', 'list', '--workspace', 'acme'],
  ['profiles', 'show', 'Unhappy', '--workspace', 'acme'],
  ['profiles', 'run', 'Unhappy', '--workspace', 'acme'],
  ['profiles', 'forms', '--workspace', 'acme'],
  ['profiles', 'changes', 'Unhappy', '--workspace', 'acme'],
  ['mappings', 'list', 'closealert', '--workspace', 'acme'],
  ['workspace', 'admins', '--workspace', 'acme'],
  ['secrets', 'status'],
  ['runner', 'status'],
  ['doctor'],
  ['app', 'billing', 'closealert', '--workspace', 'acme'],
  // Not read-only, but about a database that must exist: in the wrong directory they create nothing.
  ['secrets', 'rotate'],
  ['secrets', 'prune'],
  ['uninstall', 'closealert', '--workspace', 'acme'],
  ['uninstall', 'closealert', '--workspace', 'acme', '--purge'],
];

describe('read-only commands on a missing SQLite file', () => {
  const dir = tempDirectory('cli-missing-db');

  it.each(READ_ONLY.map((args) => [args.join(' '), args]))('%s exits 2 and creates no directory, database or key', async (_name, args) => {
    const path = join(dir, 'nested', 'tributary.db');
    const run = await runCli(args as string[], { TRIBUTARY_DATABASE_URL: `sqlite:${path}`, LOG_LEVEL: 'silent' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`no database at ${path}; install an app first or run \`tributary migrate\``);
    expect(existsSync(join(dir, 'nested'))).toBe(false);
  });
});

describe('the SQLite file', () => {
  const dir = tempDirectory('cli-sqlite-file');
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 30, spanDays: 5, seed: 3 });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('is created 0600 in a 0700 directory, with its -wal and -shm files, and doctor flags one that others can read', async () => {
    const path = join(dir, 'data', 'tributary.db');
    const env = { TRIBUTARY_DATABASE_URL: `sqlite:${path}`, LOG_LEVEL: 'silent' };
    const install = await runCli(['install', 'closealert', '--workspace', 'acme', '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url], env);
    expect(install.code, install.stderr).toBe(0);
    expect((await runCli(['sync', '--workspace', 'acme'], env)).code).toBe(0);
    expect(mode(dirname(path))).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    // A child process keeps the database open while we look, so that its WAL files exist.
    const child = spawn(process.execPath, ['-e', `const D=require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});const d=new D(${JSON.stringify(path)});d.prepare('SELECT 1').get();process.stdout.write('open\\n');setTimeout(()=>d.close(),60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      for (const suffix of ['-wal', '-shm']) {
        expect(existsSync(`${path}${suffix}`), suffix).toBe(true);
        expect(mode(`${path}${suffix}`), suffix).toBe(0o600);
      }
    } finally {
      child.kill();
    }
    expect((await runCli(['doctor'], env)).code).toBe(0);

    chmodSync(path, 0o644);
    const doctor = await runCli(['doctor'], env);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`The database file ${path} is readable by others (mode 0644)`);
    expect(doctor.stdout).toContain(`run: chmod 600 ${path}`);
    chmodSync(path, 0o600);
    expect((await runCli(['doctor'], env)).code).toBe(0);
  });
});

describe.each(databases)('keys and migrations on $dialect', (database: TestDatabase) => {
  const dir = tempDirectory(`cli-keys-${database.dialect}`);
  const pg = database.dialect === 'postgres';
  const home = join(dir, 'home');
  const [cwdA, cwdB, cwdC] = ['a', 'b', 'c'].map((name) => join(dir, 'cwd', name));
  let sandbox: Sandbox;
  // PostgreSQL keeps the key in the user's config directory; SQLite beside its file.
  const keyFile = pg ? join(home, '.config', 'tributary', 'secret.key') : join(dirname(database.url.slice('sqlite:'.length)), 'secret.key');
  const env = { TRIBUTARY_DATABASE_URL: database.url, HOME: home, LOG_LEVEL: 'silent' };
  const installIn = (cwd: string, ws: string, extra: Record<string, string> = {}) =>
    runIn(cwd, ['install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url], { ...env, ...extra });

  beforeAll(async () => {
    for (const cwd of [cwdA!, cwdB!, cwdC!, home]) mkdirSync(cwd, { recursive: true });
    sandbox = await startSandbox({ responses: 20, spanDays: 5, seed: 4 });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('a read-only command on a database with pending migrations says to run `tributary migrate`, which applies them', async () => {
    if (!pg) expect((await runCli(['migrate'], env)).code).toBe(0);
    // One migration reverted stands for a database an older version left behind: the newest, whichever
    // it is (on PostgreSQL, a fresh database has all of them pending).
    let newest = '[A-Za-z]+\\d{13}';
    if (!pg) {
      const store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k: generateSecretKey() }, currentKeyId: 'k' }) });
      await store.revertLastMigration();
      newest = (await store.pendingMigrations())[0]!;
      await store.close();
    }
    const apps = await runCli(['apps'], env);
    expect(apps.code).toBe(2);
    if (pg) expect(existsSync(keyFile)).toBe(false);
    expect(apps.stderr).toMatch(new RegExp(`migration\\(s\\) this version of Tributary needs and has not applied \\(.*${newest}.*\\); run \`tributary migrate\` first`));
    const migrate = await runCli(['migrate'], env);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toMatch(new RegExp(`Applied \\d+ migration\\(s\\): .*${newest}`));
    expect((await runCli(['migrate'], env)).stdout).toContain('The database is up to date');
    // For scripts: one JSON document on stdout, the sentence on stderr.
    const json = await runCli(['migrate', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ applied: [], upToDate: true });
    expect(json.stderr).toContain('The database is up to date');
    if (!pg) {
      const store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k: generateSecretKey() }, currentKeyId: 'k' }) });
      await store.revertLastMigration();
      await store.close();
      const applied = await runCli(['migrate', '--json'], env);
      expect(JSON.parse(applied.stdout)).toEqual({ applied: [newest], upToDate: true });
    }
    const again = await runCli(['apps'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No apps installed.');
    // migrate sets the database up, its key file included (no secret exists that another key sealed).
    expect(mode(keyFile)).toBe(0o600);
  });

  it('finds the key whatever the working directory, and never makes a second one over stored secrets', async () => {
    const install = await installIn(cwdA!, 'acme');
    expect(install.code, install.stderr).toBe(0);
    expect(existsSync(join(cwdA!, '.tributary'))).toBe(false);
    expect(mode(keyFile)).toBe(0o600);
    const [key] = parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile);
    const keyId = keyIdOf(key!);

    // Another directory: the same key, so the token opens.
    const apps = await runIn(cwdB!, ['apps'], env);
    expect(apps.code, apps.stderr).toBe(0);
    expect(apps.stdout).toContain('acme/closealert  ACTIVE');
    expect(apps.stdout).not.toContain('unreadable');
    expect(existsSync(join(cwdB!, '.tributary'))).toBe(false);

    // XDG_CONFIG_HOME names the config directory when set.
    if (pg) {
      const xdg = join(dir, 'xdg');
      mkdirSync(join(xdg, 'tributary'), { recursive: true });
      writeFileSync(join(xdg, 'tributary', 'secret.key'), readFileSync(keyFile), { mode: 0o600 });
      const fromXdg = await runIn(cwdC!, ['apps'], { ...env, XDG_CONFIG_HOME: xdg });
      expect(fromXdg.code, fromXdg.stderr).toBe(0);
      expect(fromXdg.stdout).not.toContain('unreadable');
    }

    // The key file is gone (another machine, another user): nothing that would seal a token makes a new one.
    const away = `${keyFile}.away`;
    renameSync(keyFile, away);
    try {
      const refused = await installIn(cwdC!, 'other');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`The database holds 1 secret(s) sealed with key ${keyId}, but there is no key file at ${keyFile}`);
      expect(refused.stderr).toContain('so none was created');
      const sync = await runIn(cwdC!, ['sync', '--workspace', 'acme'], env);
      expect(sync.code).toBe(2);
      expect(sync.stderr).toContain(`sealed with key ${keyId}`);
      // A command that only looks still lists the apps, says which key is missing, and exits 2.
      const looking = await runIn(cwdC!, ['apps'], env);
      expect(looking.code).toBe(2);
      expect(looking.stdout).toContain('acme/closealert  ACTIVE');
      expect(looking.stdout).toContain(`sealed with key "${keyId}", which is not among the configured secret keys`);
      expect(looking.stderr).toContain(`no key file at ${keyFile}`);
      expect(existsSync(keyFile)).toBe(false);
      expect(existsSync(join(cwdC!, '.tributary'))).toBe(false);
    } finally {
      renameSync(away, keyFile);
    }
  });

  it('apps lists every app when the secret of one cannot be opened, says which, and exits 2', async () => {
    expect((await installIn(cwdA!, 'second')).code).toBe(0);
    // The token of "second" sealed with a key this machine does not have.
    const raw = await openRaw(database);
    try {
      await raw.query(
        `UPDATE ${raw.own('installation_secrets')} SET key_id = ? WHERE installation_id IN (SELECT i.id FROM ${raw.own('installations')} i JOIN ${raw.own('workspaces')} w ON w.id = i.workspace_id WHERE w.name = ?)`,
        ['0123456789ab', 'second'],
      );
    } finally {
      await raw.close();
    }
    const apps = await runIn(cwdB!, ['apps'], env);
    expect(apps.code).toBe(2);
    expect(apps.stdout).toContain('acme/closealert  ACTIVE');
    expect(apps.stdout).toContain('second/closealert  ACTIVE');
    expect(apps.stdout).toContain('sealed with key "0123456789ab", which is not among the configured secret keys');
    expect(apps.stderr).toContain(`The token of second/closealert cannot be opened: the key that sealed it is not in the key file ${keyFile}`);
    const json = await runIn(cwdB!, ['apps', '--json'], env);
    expect(json.code).toBe(2);
    const listed = JSON.parse(json.stdout.replace(/\n@@ command 0 exited \d+\n$/, '')) as { workspace: string; token: { state: string } }[];
    expect(listed.map((a) => [a.workspace, a.token.state]).sort()).toEqual([
      ['acme', 'no-expiry'],
      ['second', 'unreadable'],
    ]);
  });

  it('lets a lost key be replaced on purpose: a new key file made by hand, then each token replaced', async () => {
    const refused = await runIn(cwdA!, ['sync', '--workspace', 'acme'], { ...env, TRIBUTARY_SECRET_KEY_FILE: join(dir, 'lost', 'secret.key') });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('create a new key file yourself');
    expect(existsSync(join(dir, 'lost'))).toBe(false);
    writeFileSync(keyFile, `${generateSecretKey().toString('base64')}\n`, { mode: 0o600 });
    for (const ws of ['acme', 'second']) {
      const replaced = await runIn(cwdB!, ['app', 'token', 'closealert', '--workspace', ws, '--token', sandbox.token], env);
      expect(replaced.code, replaced.stderr).toBe(0);
    }
    const apps = await runIn(cwdC!, ['apps'], env);
    expect(apps.code, apps.stderr).toBe(0);
    expect(apps.stdout).not.toContain('unreadable');
  });
});
