import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { testDatabases, type TestDatabase, tributaryCliEntry } from '@tributary/testing';
import type { Io } from './io.js';
import { main } from './program.js';
import { runCli } from './test-support/cli.js';

// The CLI as people use it: piped into `head`, with the app named like every other command, an
// unknown workspace or app named back with the ones that exist, --json on every result, progress
// and waits on stderr, and each warning said once, in words.

const BIN = tributaryCliEntry();
const databases = await testDatabases('cli-usage');

/** Runs the real process with its stdout read end closed at once, as `| head -1` leaves it. */
function runIntoClosedPipe(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** Runs the CLI in this process with a terminal (or not) on stderr, the logger's lines included. */
async function runOnTerminal(args: string[], env: Record<string, string>, tty: boolean) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { isTTY: tty, write: (text: string) => (stdout += text) },
    stderr: { isTTY: tty, write: (text: string) => (stderr += text) },
    env,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe.each(databases)('the CLI as people use it on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  let expiring: string;
  const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' };
  const cli = (...args: string[]) => runCli(args, env);
  const install = (ws: string, token: string, ...extra: string[]) =>
    cli('install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', token, '--api-url', sandbox.url, '--backfill-days', '60', ...extra);
  const json = <T>(run: { code: number; stdout: string; stderr: string }): T => {
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as T;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 500, spanDays: 50, seed: 11, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
    expiring = sandbox.issueToken({ expiresInDays: 5 });
    expect((await install('acme', sandbox.token)).code).toBe(0);
    const beta = await install('beta', expiring);
    expect(beta.code, beta.stderr).toBe(0);
    // The install's note names the workspace to paste, not a placeholder.
    expect(beta.stdout).toContain('tributary app token --workspace beta closealert --token-file <file>');
    expect(beta.stdout).not.toContain('<ws>');
    expect(beta.stdout).toContain('Run the first sync now with: tributary sync closealert --workspace beta');
  }, 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it('names the app as an argument, keeps --app working, and syncs every app of the workspace without one', async () => {
    const named = json<{ app: string; workspace: string; status: string }[]>(await cli('sync', 'closealert', '--workspace', 'acme', '--json'));
    expect(named).toEqual([expect.objectContaining({ app: 'closealert', workspace: 'acme', status: 'succeeded' })]);
    expect((await cli('sync', '--workspace', 'acme', '--app', 'closealert')).code).toBe(0);
    const every = json<{ app: string }[]>(await cli('sync', '--workspace', 'acme', '--json'));
    expect(every.map((run) => run.app)).toEqual(['closealert']);
    const logs = json<{ app: string }[]>(await cli('logs', 'closealert', '--workspace', 'acme', '--json'));
    expect(logs).toHaveLength(3);
    expect(json<unknown[]>(await cli('logs', '--workspace', 'acme', '--app', 'closealert', '--json'))).toHaveLength(3);
  }, 60_000);

  it('refuses an unknown workspace with exit 2 and the workspaces there are, in every command that takes --workspace', async () => {
    const commands = [
      ['logs'],
      ['logs', 'closealert'],
      ['sync'],
      ['sync', 'closealert'],
      ['apps'],
      ['invoices'],
      ['doctor'],
      ['profiles', 'list'],
      ['profiles', 'forms'],
      ['profiles', 'run', 'someone'],
      ['workspace', 'admins'],
      ['mappings', 'list', 'closealert'],
      ['remap', 'closealert'],
      ['uninstall', 'closealert'],
      ['app', 'billing', 'closealert'],
    ];
    for (const command of commands) {
      const run = await cli(...command, '--workspace', 'acmee');
      expect(run.code, command.join(' ')).toBe(2);
      expect(run.stderr, command.join(' ')).toContain('There is no workspace "acmee"; workspaces: acme, beta');
      expect(run.stdout, command.join(' ')).not.toMatch(/No runs yet|No apps installed|No invoices/);
    }
  }, 120_000);

  it('refuses an app the workspace does not have, naming the ones it has', async () => {
    const logs = await cli('logs', 'surveymonkey', '--workspace', 'acme');
    expect(logs.code).toBe(2);
    expect(logs.stderr).toContain('surveymonkey was never installed in workspace "acme"; apps there: closealert');
    const sync = await cli('sync', 'surveymonkey', '--workspace', 'acme');
    expect(sync.code).toBe(2);
    expect(sync.stderr).toContain('surveymonkey is not installed in workspace "acme"; installed there: closealert');
    // No connector provides it: the hint names the apps that can be installed, not an install that fails.
    expect(sync.stderr).toContain('No connector "surveymonkey" is loaded; apps that can be installed: closealert, typeform');
    expect(sync.stderr).not.toContain('tributary install surveymonkey');
  });

  it('prints one JSON document on stdout for every command that prints a result, without a secret', async () => {
    const newToken = sandbox.issueToken({ expiresInDays: 30 });
    const secrets = [sandbox.token, expiring, newToken, env.TRIBUTARY_SECRET_KEY];
    const documents: [string, unknown][] = [];
    const check = async <T>(...args: string[]): Promise<T> => {
      const run = await cli(...args);
      for (const secret of secrets) expect(run.stdout, args.join(' ')).not.toContain(secret);
      const document = json<T>(run);
      documents.push([args.join(' '), document]);
      return document;
    };
    const installed = await check<{ installation: { workspace: string; settings: Record<string, unknown> }; notes: string[] }>(
      'install', 'closealert', '--workspace', 'gamma', '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--json',
    );
    expect(installed.installation).toMatchObject({ workspace: 'gamma', settings: { projectKey: sandbox.projectKey } });
    expect(installed.installation.settings).not.toHaveProperty('apiToken');
    expect((await check<{ workspace: string }[]>('sync', 'closealert', '--workspace', 'gamma', '--json'))[0]).toMatchObject({ workspace: 'gamma' });
    expect(await check('app', 'billing', 'closealert', '--workspace', 'gamma', '--json')).toMatchObject({ changed: false, billing: { plan: 'monthly' } });
    expect(await check('app', 'billing', 'closealert', '--workspace', 'gamma', '--plan', 'yearly', '--po', 'PO-7', '--json')).toMatchObject({
      changed: true,
      billing: { plan: 'yearly', poNumber: 'PO-7' },
    });
    expect(await check('app', 'token', 'closealert', '--workspace', 'gamma', '--token', newToken, '--json')).toMatchObject({ tokenReplaced: true });
    expect(await check('remap', 'closealert', '--workspace', 'gamma', '--json')).toMatchObject({ app: 'closealert', interrupted: false });
    expect(await check('mappings', 'disable', 'closealert', 'form_responses.user_agent', '--workspace', 'gamma', '--json')).toMatchObject({ app: 'closealert' });
    expect(await check('profiles', 'create', 'Fives', '--workspace', 'gamma', '--score', '=5', '--json')).toMatchObject({ name: 'Fives', workspace: 'gamma' });
    expect(await check('profiles', 'show', 'Fives', '--workspace', 'gamma', '--json')).toMatchObject({ name: 'Fives', conditions: expect.any(String) });
    expect((await check<unknown[]>('profiles', 'forms', '--workspace', 'gamma', '--json')).length).toBeGreaterThan(0);
    const members = await check<{ email: string }[]>('profiles', 'run', 'Fives', '--workspace', 'gamma', '--json', '--no-record');
    expect(await check('profiles', 'run', 'Fives', '--workspace', 'gamma', '--format', 'json', '--no-record')).toEqual(members);
    expect(members.length).toBeGreaterThan(0);
    expect(await check('profiles', 'changes', 'Fives', '--workspace', 'gamma', '--json', '--no-record')).toMatchObject({ profile: 'Fives' });
    expect(await check('profiles', 'delete', 'Fives', '--workspace', 'gamma', '--json')).toMatchObject({ deleted: true });
    expect(await check('workspace', 'admins', 'add', 'dora', '--workspace', 'gamma', '--json')).toMatchObject({ user: 'dora', admin: true });
    expect(await check('workspace', 'admins', 'remove', 'dora', '--workspace', 'gamma', '--json')).toMatchObject({ user: 'dora', admin: false });
    expect(await check('secrets', 'status', '--json')).toMatchObject({ source: 'env' });
    expect(await check('secrets', 'rotate', '--json')).toMatchObject({ source: 'env', resealed: expect.any(Number) });
    expect(await check('secrets', 'prune', '--json')).toMatchObject({ source: 'env', stillNeeded: [] });
    expect(await check('uninstall', 'closealert', '--workspace', 'gamma', '--purge', '--json')).toMatchObject({ uninstalled: true, purged: [expect.any(Object)] });
    expect(documents.length).toBe(20);
  }, 120_000);

  it('shows progress with windows, responses and rate on a terminal, and says how long a rate-limit wait lasts and why', async () => {
    expect((await install('delta', sandbox.token)).code).toBe(0);
    sandbox.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 1 });
    const run = await runOnTerminal(['sync', 'closealert', '--workspace', 'delta'], env, true);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('delta/closealert: waiting 1 s: CloseAlert rate-limited the requests (429).');
    expect(run.stderr).toContain('\r\u001b[2Kdelta/closealert: [');
    expect(run.stderr).toMatch(/delta\/closealert: \[[#-]{20}\] \d+\/\d+ windows {2}[\d,]+ responses/);
    expect(run.stderr).not.toContain('closealert request failed');
    expect(run.stdout).toMatch(/delta\/closealert {2}SUCCEEDED/);
    const remap = await runOnTerminal(['remap', 'closealert', '--workspace', 'delta'], env, true);
    expect(remap.code, remap.stderr).toBe(0);
    expect(remap.stderr).toMatch(/remap delta\/closealert: \[#{20}\] [\d,]+\/[\d,]+ responses/);

    sandbox.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 1 });
    sandbox.addResponses(5);
    const piped = await runOnTerminal(['sync', 'closealert', '--workspace', 'delta'], { ...env, LOG_LEVEL: 'warn' }, false);
    expect(piped.code, piped.stderr).toBe(0);
    // Without a terminal: no bar, the wait said once in words, no JSON line repeating it.
    expect(piped.stderr).not.toContain('\r');
    expect(piped.stderr.match(/rate-limited/g)).toHaveLength(1);
  }, 60_000);

  it('says the token-expiry warning once, in words, with the real workspace', async () => {
    for (const tty of [true, false]) {
      const { LOG_LEVEL: _silent, ...defaults } = env;
      const run = await runOnTerminal(['sync', 'closealert', '--workspace', 'beta'], defaults, tty);
      expect(run.code, run.stderr).toBe(0);
      const all = run.stdout + run.stderr;
      expect(all.match(/The API token is valid until/g), all).toHaveLength(1);
      expect(all).toContain('tributary app token --workspace beta closealert --token-file <file>');
      expect(all).not.toContain('<ws>');
      expect(run.stderr.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
    }
  }, 60_000);

  it('exits quietly when the reader of its output goes away (`| head -1`)', async () => {
    expect((await cli('profiles', 'create', 'Everyone', '--workspace', 'acme', '--score', '>=0')).code).toBe(0);
    expect((await install('epsilon', sandbox.token)).code).toBe(0);
    for (const args of [
      ['logs', '--workspace', 'acme'],
      ['profiles', 'run', 'Everyone', '--workspace', 'acme', '--no-record'],
      ['mappings', 'add', 'closealert', 'merge_tags.segment', 'form_responses.segment', '--type', 'text', '--workspace', 'acme'],
      ['uninstall', 'closealert', '--workspace', 'epsilon'],
      ['--help'],
    ]) {
      const run = await runIntoClosedPipe(args, { ...env });
      expect(run.stderr, args.join(' ')).toBe('');
      expect(run.code, args.join(' ')).toBe(141);
    }
    // The work was done all the same; only the output was dropped.
    const apps = json<{ workspace: string; status: string }[]>(await cli('apps', '--workspace', 'epsilon', '--json'));
    expect(apps[0]!.status).toBe('uninstalled');
  }, 120_000);
});
