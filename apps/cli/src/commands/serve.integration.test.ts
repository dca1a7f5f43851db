import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuthService } from '@tributary/auth';
import { startSandbox } from '@tributary/closealert-sandbox';
import { installConnector, readQueueStatus } from '@tributary/runner';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { createPostgresTestDatabase, testDatabases, tributaryCliEntry } from '@tributary/testing';
import pg from 'pg';
import { CONNECTORS } from '../connectors.js';
import { keyIdOf } from '../secret-key.js';

// `tributary serve` and `tributary runner --metrics-port` as processes on both databases: they
// serve health, readiness, metrics and the API to a user created in the same database, and stop
// cleanly on SIGTERM.

const BIN = tributaryCliEntry();
const databases = await testDatabases('cli-serve');

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { stdout: () => out, stderr: () => err, kill: (s: NodeJS.Signals) => child.kill(s), exited };
}

describe.each(databases)('tributary serve on $dialect', (db) => {
  const key = randomBytes(32);
  const env = { TRIBUTARY_DATABASE_URL: db.url, TRIBUTARY_SECRET_KEY: key.toString('base64') };

  it('serves the API with the runner, signs in a user, and stops on SIGTERM', async () => {
    const store = await createStore({
      url: db.url,
      cipher: createSecretCipher({ keys: { k1: key }, currentKeyId: 'k1' }),
    });
    await store.migrate();
    const password = 'a long enough password';
    await createAuthService({ store }).createUser({
      email: 'admin@example.com',
      workspace: 'acme',
      role: 'admin',
      password,
      actor: 'cli:test',
    });
    await store.close();

    const server = start(['serve', '--port', '0', '--with-runner'], env);
    try {
      await expect
        .poll(() => /on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())?.[1], {
          timeout: 60_000,
          interval: 100,
        })
        .toBeDefined();
      expect(server.stdout()).toContain(
        db.dialect === 'postgres' ? 'with the runner (distributed over PostgreSQL' : 'with the runner (embedded)',
      );
      // The first process on this database: the server itself created pg-boss's queue.
      if (db.dialect === 'postgres') expect(await readQueueStatus({ connectionString: db.url })).toBeDefined();
      const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())![1]!;
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
      await expect
        .poll(async () => ((await (await fetch(`${url}/readyz`)).json()) as { status: string }).status, {
          timeout: 30_000,
        })
        .toBe('ready');
      const ready = (await (await fetch(`${url}/readyz`)).json()) as { checks: { name: string }[] };
      expect(ready.checks.map((c) => c.name)).toEqual(['database', 'migrations', 'runner']);
      const login = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@example.com', password }),
      });
      expect(login.status).toBe(200);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const me = (await (await fetch(`${url}/auth/me`, { headers: { cookie } })).json()) as {
        memberships: unknown;
      };
      expect(me.memberships).toEqual([{ workspace: 'acme', role: 'admin' }]);
      expect(await (await fetch(`${url}/metrics`)).text()).toContain(
        'tributary_http_request_duration_seconds',
      );
      expect((await fetch(`${url}/openapi.json`)).status).toBe(200);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await server.exited, server.stderr()).toBe(0);
    expect(server.stdout()).toMatch(/Stopped\.\n$/);
    // Access logs with request ids, and never the password or the session cookie.
    expect(server.stderr()).toMatch(/"reqId":/);
    expect(server.stderr()).not.toContain(password);
    expect(server.stderr()).not.toMatch(/tributary_session=/);
  });

  it.runIf(db.dialect === 'postgres')(
    'on PostgreSQL shares the syncs with runner --distributed through pg-boss: a due app syncs once',
    async () => {
      const sandbox = await startSandbox({ responses: 40, spanDays: 10, seed: 5 });
      const store = await createStore({
        url: db.url,
        cipher: createSecretCipher({ keys: { [keyIdOf(key)]: key }, currentKeyId: keyIdOf(key) }),
      });
      const processes: ReturnType<typeof start>[] = [];
      try {
        await store.migrate();
        const { installation } = await installConnector({
          store,
          connector: CONNECTORS.get('closealert')!,
          workspace: 'shared',
          config: { projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url, backfillDays: 30 },
          billing: { plan: 'monthly' },
        });
        // Both have made their first pass over the schedules once they say they started.
        processes.push(start(['serve', '--port', '0', '--with-runner'], env));
        processes.push(start(['runner', '--distributed'], env));
        await expect
          .poll(() => /Serving/.test(processes[0]!.stdout()) && /Runner started/.test(processes[1]!.stdout()), {
            timeout: 60_000,
            interval: 100,
          })
          .toBe(true);
        await expect
          .poll(async () => (await store.listRuns({ workspace: 'shared', limit: 10 })).map((r) => r.status), {
            timeout: 60_000,
            interval: 200,
          })
          .toEqual(['succeeded']);
        const queue = await readQueueStatus({ connectionString: db.url });
        expect(queue).toMatchObject({ queued: 0, running: 0, failed: 0 });
        expect(queue!.completed).toBeGreaterThanOrEqual(1);
        const [run] = await store.listRuns({ workspace: 'shared', limit: 10 });
        expect(run!.installationId).toBe(installation.id);
        expect(run!.inserted).toBe(40);
      } finally {
        for (const p of processes) p.kill('SIGTERM');
        const exits = await Promise.all(processes.map((p) => p.exited));
        await store.close();
        await sandbox.close();
        expect(exits).toEqual([0, 0]);
      }
    },
    120_000,
  );

  it.runIf(db.dialect === 'postgres')('exits 4 with the queue\'s error when its pg-boss queue cannot start', async () => {
    // A pg-boss schema that claims a newer version but lacks its tables: the queue cannot start.
    const broken = (await createPostgresTestDatabase('cli-serve-broken-queue'))!;
    const client = new pg.Client({ connectionString: broken.url });
    await client.connect();
    try {
      await client.query('CREATE SCHEMA tributary_boss');
      await client.query(
        'CREATE TABLE tributary_boss.version (version int PRIMARY KEY, maintained_on timestamptz, cron_on timestamptz, monitored_on timestamptz)',
      );
      await client.query('INSERT INTO tributary_boss.version (version) VALUES (999)');
      const server = start(['serve', '--port', '0', '--with-runner'], { ...env, TRIBUTARY_DATABASE_URL: broken.url });
      const code = await Promise.race([server.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 60_000))]);
      server.kill('SIGKILL');
      expect(code, server.stderr()).toBe(4);
      expect(server.stderr()).toMatch(/QUEUE_START_FAILED/);
      expect(server.stdout()).not.toMatch(/Serving/);
    } finally {
      await client.end();
      await broken.drop();
    }
  }, 90_000);

  it('runner --metrics-port serves the metrics', async () => {
    const runner = start(['runner', '--metrics-port', '0'], env);
    try {
      await expect
        .poll(() => /Metrics at (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.stdout())?.[1], {
          timeout: 60_000,
          interval: 100,
        })
        .toBeDefined();
      const url = /Metrics at (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.stdout())![1]!;
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toContain('tributary_queue_depth');
      expect(text).toContain('tributary_runs_total');
    } finally {
      runner.kill('SIGTERM');
    }
    expect(await runner.exited, runner.stderr()).toBe(0);
  });
});
