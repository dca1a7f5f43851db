import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { testDatabases } from '@tributary/testing';
import { runCli } from './test-support/cli.js';

// "Which customers did run X save?": the run log keeps every one of them, not the first thousand.
// The summary names how many more there are and the exact command that lists them, a page at a time.

const databases = await testDatabases('cli-logs-run');

interface SavedPage {
  run: { id: string; status: string; inserted: number; savedTotal: number };
  total: number;
  customers: { seq: number; key: string; contact?: string }[];
  next: number | null;
}

describe.each(databases)('tributary logs --run on $dialect', (db) => {
  let sandbox: Sandbox;
  const env = { TRIBUTARY_DATABASE_URL: db.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' };

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 1234, spanDays: 30, seed: 13 });
    const install = await runCli(['install', 'closealert', '--workspace', 'acme', '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url], env);
    expect(install.code, install.stderr).toBe(0);
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('lists every customer a run saved, paged, from the command the summary names', async () => {
    const sync = await runCli(['sync', '--workspace', 'acme'], env);
    expect(sync.code, sync.stderr).toBe(0);
    const summary = await runCli(['logs', '--workspace', 'acme'], env);
    const more = summary.stdout.match(/, … and (\d+) more \(all of them: (tributary logs --workspace acme --run ([0-9a-f-]{36}))\)/);
    expect(more, summary.stdout).not.toBeNull();
    expect(Number(more![1])).toBe(1234 - 20);
    const command = more![2]!.split(' ').slice(1);

    // Text: a page, then the command for the next one.
    const first = await runCli([...command, '--limit', '1000'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/records saved: 1234 \(listed from #\d+\)/);
    const next = first.stdout.match(/more: (tributary logs --workspace acme --run \S+ --after (\d+))/);
    expect(next, first.stdout).not.toBeNull();
    const rest = await runCli(next![1]!.split(' ').slice(1), env);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).not.toMatch(/more: /);
    const lines = (text: string) => text.split('\n').filter((line) => /^ {4}\d+ {2}/.test(line));
    expect(lines(first.stdout)).toHaveLength(1000);
    expect(lines(rest.stdout)).toHaveLength(234);

    // JSON: pages of 500 until `next` is null, every customer exactly once.
    const listed: string[] = [];
    let after: number | null = null;
    do {
      const page = await runCli([...command, '--json', '--limit', '500', ...(after === null ? [] : ['--after', String(after)])], env);
      expect(page.code, page.stderr).toBe(0);
      const parsed = JSON.parse(page.stdout) as SavedPage;
      expect(parsed.total).toBe(1234);
      expect(parsed.run).toMatchObject({ id: more![3], status: 'succeeded', inserted: 1234, savedTotal: 1234 });
      listed.push(...parsed.customers.map((c) => `${c.key} ${c.contact ?? '(no contact)'}`));
      after = parsed.next;
    } while (after !== null);
    const expected = sandbox.responses().map((r) => `${r.id} ${r.email?.trim().toLowerCase() || '(no contact)'}`);
    expect(listed.sort()).toEqual(expected.sort());

    // A run of another workspace, or no run at all, is a usage error naming the workspace.
    const unknown = await runCli(['logs', '--workspace', 'other', '--run', more![3]!], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no workspace "other"; workspaces: acme/);
    const missing = await runCli(['logs', '--workspace', 'acme', '--run', '00000000-0000-4000-8000-000000000000'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Workspace "acme" has no run 00000000-0000-4000-8000-000000000000/);
    expect((await runCli(['logs', '--workspace', 'acme', '--after', '5'], env)).code).toBe(2);
  });
});
