import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { tempDirectory } from '@tributary/testing';
import { runCli } from './test-support/cli.js';

// An API that accepts the connection and never answers: the install check gives up within its own
// short budget, with the production retry settings, and says that nothing was installed.

describe('install against an API that never answers', () => {
  let server: Server;
  let sandbox: Sandbox;
  const sockets = new Set<Socket>();
  const env = {
    TRIBUTARY_DATABASE_URL: `sqlite:${join(tempDirectory('cli-install-timeout'), 'tributary.db')}`,
    TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
  };

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // Reads the request and never writes a byte back.
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sandbox = await startSandbox({ responses: 0 });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sandbox?.close();
  });

  it('gives up within 30 s and promises no next run', async () => {
    const { port } = server.address() as AddressInfo;
    const started = performance.now();
    const result = await runCli(
      ['install', 'closealert', '--workspace', 'silent-ws', '--project', 'company.com', '--token', sandbox.token, '--api-url', `http://127.0.0.1:${port}/v1`],
      env,
    );
    const elapsedMs = performance.now() - started;
    expect(result.code, result.stderr).toBe(3);
    expect(elapsedMs).toBeLessThan(30_000);
    expect(result.stderr).toContain('SOURCE_TIMEOUT');
    expect(result.stderr).toContain('nothing was installed');
    expect(result.stderr).not.toMatch(/next run/i);
    const apps = await runCli(['apps', '--workspace', 'silent-ws', '--json'], env);
    expect(apps.stdout).not.toContain('closealert');
  }, 60_000);
});
