import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { generateSecretKey } from '@tributary/store-typeorm';
import { tempDirectory, testDatabases, type TestDatabase } from '@tributary/testing';
import { keyIdOf, parseKeyFile } from './secret-key.js';
import { openRaw, runCli, type RawConnection } from './test-support/cli.js';

// Secrets at rest. First the proof that a token's plaintext reaches no log line (LOG_LEVEL=trace),
// no error message, no --json output and no byte of the database; then key rotation, with a key
// file and with environment variables.

const databases = await testDatabases('cli-secrets');
const DRIVER = fileURLToPath(new URL('./test-support/run-commands.ts', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runInChild(commands: string[][], env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', DRIVER, JSON.stringify(commands)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every text cell of every table the database holds (outside the system catalogs) that contains `needle`. */
async function cellsContaining(raw: RawConnection, database: TestDatabase, needle: string): Promise<string[]> {
  const hits: string[] = [];
  if (database.dialect === 'postgres') {
    const columns = await raw.query<{ table_schema: string; table_name: string; column_name: string }>(
      `SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
        WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    for (const c of columns) {
      const rows = await raw.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${c.table_schema}"."${c.table_name}" WHERE strpos("${c.column_name}"::text, ?) > 0`,
        [needle],
      );
      if (Number(rows[0]!.n) > 0) hits.push(`${c.table_schema}.${c.table_name}.${c.column_name}`);
    }
    return hits;
  }
  const tables = await raw.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`);
  for (const { name } of tables) {
    for (const { name: column } of await raw.query<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [name])) {
      const rows = await raw.query<{ n: number }>(`SELECT count(*) AS n FROM "${name}" WHERE instr(CAST("${column}" AS TEXT), ?) > 0`, [needle]);
      if (rows[0]!.n > 0) hits.push(`${name}.${column}`);
    }
  }
  return hits;
}

describe.each(databases)('secrets on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  let raw: RawConnection;
  const dir = tempDirectory(`secrets-${database.dialect}`);

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 40, spanDays: 10, seed: 21 });
    raw = await openRaw(database);
  });

  afterAll(async () => {
    await raw?.close();
    await sandbox?.close();
  });

  it('never lets a token reach a log line, an error, a --json output or the database', async () => {
    const keyFile = join(dir, 'leak-test.key');
    const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY_FILE: keyFile, LOG_LEVEL: 'trace' };
    const first = sandbox.issueToken({ expiresInDays: 30 });
    const second = sandbox.issueToken();
    const forged = sandbox.issueToken({ signingSecret: randomBytes(32).toString('base64url') });
    const malformed = `eyJ${randomBytes(12).toString('hex')}.not-a-payload`;
    const ws = 'leaks';
    const app = ['closealert', '--workspace', ws];
    const commands = [
      ['install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', first, '--api-url', sandbox.url, '--plan', 'yearly', '--po', 'PO-1'],
      ['sync', '--workspace', ws],
      ['apps', '--json'],
      ['apps'],
      ['logs', '--workspace', ws, '--json'],
      ['mappings', 'list', ...app, '--json'],
      ['doctor', '--json'],
      ['app', 'token', ...app, '--token', forged],
      ['app', 'token', ...app, '--token', malformed],
      ['install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', forged, '--api-url', sandbox.url],
      ['install', 'closealert', '--workspace', 'other', '--project', sandbox.projectKey, '--token', forged, '--api-url', sandbox.url],
      ['app', 'token', ...app, '--token', second],
      ['sync', '--workspace', ws],
      ['secrets', 'rotate'],
      ['secrets', 'status', '--json'],
      ['app', 'billing', ...app, '--plan', 'monthly'],
      ['invoices', '--workspace', ws, '--json'],
      ['remap', ...app],
      ['doctor'],
    ];
    const result = await runInChild(commands, env);
    const exits = [...result.stdout.matchAll(/@@ command (\d+) exited (\d+)/g)].map((m) => Number(m[2]));
    expect(exits, result.stderr.slice(-2000)).toEqual([0, 0, 0, 0, 0, 0, 0, 3, 2, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
    // The logger really ran at trace level: statements, requests and installs were logged.
    expect(result.stderr).toContain('"level":10');
    expect(result.stderr).toContain('app installed');
    // The positive control: the search finds what is there.
    const installation = (await raw.query<{ id: string }>(`SELECT id FROM ${raw.own('installations')} WHERE status = 'active'`))[0]!.id;
    expect(result.stdout).toContain(installation);
    expect(await cellsContaining(raw, database, sandbox.projectKey)).toContain(
      database.dialect === 'postgres' ? 'tributary.installations.config' : 'tributary_installations.config',
    );

    const output = `${result.stdout}\n${result.stderr}`;
    const files = [database.dialect === 'sqlite' ? database.url.slice('sqlite:'.length) : undefined]
      .filter((f): f is string => f !== undefined)
      .flatMap((f) => [f, `${f}-wal`, `${f}-shm`, `${f}-journal`])
      .filter((f) => existsSync(f));
    if (database.dialect === 'sqlite') expect(files.length).toBeGreaterThan(0);
    for (const token of [first, second, forged, malformed]) {
      const signature = token.split('.').at(-1)!;
      for (const needle of [token, signature]) {
        expect(output.includes(needle), `output holds ${needle === token ? 'a token' : 'a token signature'}`).toBe(false);
        expect(await cellsContaining(raw, database, needle)).toEqual([]);
        for (const file of files) expect(readFileSync(file).includes(Buffer.from(needle)), file).toBe(false);
        expect(readFileSync(keyFile).includes(Buffer.from(needle))).toBe(false);
      }
    }
    // The token in use is the second one, sealed with the rotated key beside its id.
    const secrets = await raw.query<{ key_id: string }>(`SELECT key_id FROM ${raw.own('installation_secrets')} WHERE installation_id = ?`, [installation]);
    expect(secrets).toEqual([{ key_id: keyIdOf(parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile)[0]!) }]);
    // Every secret of a database shares one key ring: the next tests start with none.
    expect((await runCli(['uninstall', 'closealert', '--workspace', ws], { ...env, LOG_LEVEL: 'silent' })).code).toBe(0);
  }, 60_000);

  it('rotates a key file safely: new key first, old ones kept until pruned, every secret readable at every step', async () => {
    const keyFile = join(dir, 'rotate', 'secret.key');
    const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY_FILE: keyFile, LOG_LEVEL: 'silent' };
    const ws = 'rotate-file';
    const install = await runCli(['install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url], env);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).toContain(`Created a new secret key in ${keyFile} (mode 0600)`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const [original] = parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile);
    const secretsOf = () => raw.query<{ key_id: string }>(`SELECT s.key_id FROM ${raw.own('installation_secrets')} s JOIN ${raw.own('installations')} i ON i.id = s.installation_id JOIN ${raw.own('workspaces')} w ON w.id = i.workspace_id WHERE w.name = ?`, [ws]);
    expect(await secretsOf()).toEqual([{ key_id: keyIdOf(original!) }]);

    const rotated = await runCli(['secrets', 'rotate'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const keys = parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toEqual(original);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(await secretsOf()).toEqual([{ key_id: keyIdOf(keys[0]!) }]);
    expect(rotated.stdout).toContain(`Wrote the new key ${keyIdOf(keys[0]!)}`);
    expect(rotated.stdout).not.toContain(keys[0]!.toString('base64'));
    expect((await runCli(['sync', '--workspace', ws], env)).code).toBe(0);

    // A crash right after the key file was written leaves the secret under the old key: still readable,
    // doctor says so, and rotating again finishes the job.
    const chosen = generateSecretKey();
    writeFileSync(keyFile, [chosen, ...keys].map((k) => k.toString('base64')).join('\n'), { mode: 0o600 });
    expect((await runCli(['sync', '--workspace', ws], env)).code).toBe(0);
    const doctor = await runCli(['doctor', '--workspace', ws], env);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toContain('still under an older key');
    const again = await runCli(['secrets', 'rotate', '--new-key', chosen.toString('hex')], env);
    expect(again.code, again.stderr).toBe(0);
    expect(parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile).map(keyIdOf)).toEqual([keyIdOf(chosen), ...keys.map(keyIdOf)]);
    expect(await secretsOf()).toEqual([{ key_id: keyIdOf(chosen) }]);

    const status = JSON.parse((await runCli(['secrets', 'status', '--json'], env)).stdout) as { keys: { id: string; current: boolean }[] };
    expect(status.keys.map((k) => k.id)).toEqual([keyIdOf(chosen), ...keys.map(keyIdOf)]);
    const pruned = await runCli(['secrets', 'prune'], env);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain('Removed 2 unused key(s)');
    expect(parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile).map(keyIdOf)).toEqual([keyIdOf(chosen)]);
    expect((await runCli(['sync', '--workspace', ws], env)).code).toBe(0);

    // A key file others can read is flagged.
    chmodSync(keyFile, 0o644);
    const loose = await runCli(['doctor', '--workspace', ws], env);
    expect(loose.code).toBe(1);
    expect(loose.stdout).toContain('is readable by others');
    chmodSync(keyFile, 0o600);
    expect((await runCli(['uninstall', 'closealert', '--workspace', ws], env)).code).toBe(0);
  });

  it('rotates with environment keys: the new key current, the old one previous, then the old one is no longer needed', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('hex');
    const ws = 'rotate-env';
    const base = { TRIBUTARY_DATABASE_URL: database.url, LOG_LEVEL: 'silent' };
    const installed = await runCli(
      ['install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url],
      { ...base, TRIBUTARY_SECRET_KEY: oldKey },
    );
    expect(installed.code, installed.stderr).toBe(0);

    // Without the old key the new one cannot read the token: doctor says which key is missing.
    const missing = await runCli(['doctor', '--workspace', ws], { ...base, TRIBUTARY_SECRET_KEY: newKey });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/secret\(s\) sealed with key [0-9a-f]{12}, which TRIBUTARY_SECRET_KEY does not hold/);
    const refusedRotate = await runCli(['secrets', 'rotate'], { ...base, TRIBUTARY_SECRET_KEY: newKey });
    expect(refusedRotate.code).toBe(2);
    expect(refusedRotate.stderr).toContain('SECRET_KEY_UNKNOWN');

    const refusedNewKey = await runCli(['secrets', 'rotate', '--new-key', newKey], { ...base, TRIBUTARY_SECRET_KEY: oldKey });
    expect(refusedNewKey.code).toBe(2);
    expect(refusedNewKey.stderr).toContain('TRIBUTARY_SECRET_KEY_PREVIOUS');
    expect(refusedNewKey.stderr).not.toContain(newKey);

    const both = { ...base, TRIBUTARY_SECRET_KEY: newKey, TRIBUTARY_SECRET_KEY_PREVIOUS: `${randomBytes(32).toString('base64')}, ${oldKey}` };
    const rotated = await runCli(['secrets', 'rotate'], both);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/Sealed [1-9]\d* secret\(s\) with key/);
    expect(rotated.stdout).toContain('TRIBUTARY_SECRET_KEY_PREVIOUS is no longer needed');
    const onlyNew = { ...base, TRIBUTARY_SECRET_KEY: newKey };
    expect((await runCli(['sync', '--workspace', ws], onlyNew)).code).toBe(0);
    const bad = await runCli(['apps'], { ...onlyNew, TRIBUTARY_SECRET_KEY_PREVIOUS: 'not-a-key' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TRIBUTARY_SECRET_KEY_PREVIOUS must be 32 bytes');
  });
});
