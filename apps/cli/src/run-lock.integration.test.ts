import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { createSecretCipher, createStore, parseSecretKey, type TypeOrmStore } from '@tributary/store-typeorm';
import { keyIdOf } from './secret-key.js';
import { tempDirectory, testDatabases } from '@tributary/testing';
import { runCli } from './test-support/cli.js';

// A manual `tributary sync` or `remap` takes the same run lock as the runner: while another process
// holds it, the command refuses (exit 1) instead of writing the installation's data alongside it.

const databases = await testDatabases('cli-run-lock');

describe.each(databases)('the run lock of manual commands on $dialect', (db) => {
  let sandbox: Sandbox;
  let other: TypeOrmStore;
  const key = randomBytes(32).toString('base64');
  const env = { TRIBUTARY_DATABASE_URL: db.url, TRIBUTARY_SECRET_KEY: key, LOG_LEVEL: 'silent' };

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 50, spanDays: 10, seed: 2 });
    // The token comes from a file here, the way an operator keeps it out of shell history.
    const tokenFile = join(tempDirectory('cli-run-lock'), 'token');
    writeFileSync(tokenFile, `${sandbox.token}\n`, { mode: 0o600 });
    const install = await runCli(['install', 'closealert', '--workspace', 'acme', '--project', sandbox.projectKey, '--token-file', tokenFile, '--api-url', sandbox.url], env);
    expect(install.code, install.stderr).toBe(0);
    const secret = parseSecretKey(key);
    other = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { [keyIdOf(secret)]: secret }, currentKeyId: keyIdOf(secret) }) });
  });
  afterAll(async () => {
    await other?.close();
    await sandbox?.close();
  });

  it('refuses to sync or remap while another process holds the installation, and works once it is free', async () => {
    const installation = (await other.findInstallation('acme', 'closealert'))!;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const holder = other.withRunLock(installation.id, async () => {
      holding = true;
      await held;
    });
    await expect.poll(() => holding).toBe(true);

    for (const args of [['sync', '--workspace', 'acme'], ['remap', 'closealert', '--workspace', 'acme']]) {
      const busy = await runCli(args, env);
      expect(busy.code).toBe(2);
      expect(busy.stderr).toMatch(/^error \[INSTALLATION_BUSY\]: closealert in workspace "acme" is being synced by another process right now/m);
      // Which process: the holder here is this test's own store.
      expect(busy.stderr).toContain(`(process ${process.pid} on ${hostname()}, since `);
      expect(busy.stderr).not.toMatch(/runner status/);
    }
    // `runner status` shows the sync in progress, whoever started it (here: no runner at all).
    const status = await runCli(['runner', 'status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const [entry] = (JSON.parse(status.stdout) as { installations: { running: { pid: number; host: string } | null }[] }).installations;
    expect(entry?.running).toMatchObject({ pid: process.pid, host: hostname() });
    expect((await runCli(['runner', 'status'], env)).stdout).toMatch(new RegExp(`running since \\S+ \\(process ${process.pid} on `));
    const runs = JSON.parse((await runCli(['logs', '--workspace', 'acme', '--json'], env)).stdout) as unknown[];
    expect(runs).toEqual([]);

    release();
    await holder;
    const sync = await runCli(['sync', '--workspace', 'acme'], env);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/50 new/);
    // The manual sync is the installation's last run in `runner status`, though no runner made it.
    const after = await runCli(['runner', 'status', '--json'], env);
    const [synced] = (JSON.parse(after.stdout) as { installations: { lastRun: { status: string } | null; lastStatus: string | null; running: unknown }[] })
      .installations;
    expect(synced).toMatchObject({ lastRun: { status: 'succeeded' }, lastStatus: null, running: null });
    expect((await runCli(['runner', 'status'], env)).stdout).toMatch(/acme\/closealert\s+\S+Z\s+succeeded\s/);
  });
});
