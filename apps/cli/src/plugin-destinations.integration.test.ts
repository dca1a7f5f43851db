import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startSandbox } from '@tributary/closealert-sandbox';
import { testDatabases } from '@tributary/testing';
import { runCli } from './test-support/cli.js';

// A destination from outside the repository, found like a connector: a package whose default export
// comes from defineDestination (imported from the SDK), named in TRIBUTARY_CONNECTORS.

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const DESTINATION_JS = `
import { appendFileSync } from 'node:fs';
import { defineDestination, z } from '@tributary/sdk';

export default defineDestination({
  id: 'journal',
  version: '0.2.0',
  displayName: 'Journal',
  description: 'appends each batch to a file',
  configSchema: z.object({ file: z.string().describe('the journal file') }),
  secrets: [],
  kind: 'push',
  async deliver(batch, ctx) {
    appendFileSync(ctx.config.file, JSON.stringify(batch) + '\\n');
    return { status: 'delivered' };
  },
  async test(ctx) {
    appendFileSync(ctx.config.file, 'test\\n');
    return { notes: ['journal ' + ctx.name + ' is writable'] };
  },
});
`;

function writeDestinationPackage(): string {
  const dir = join(tmpdir(), `tributary-plugin-destination-${randomBytes(6).toString('hex')}`);
  mkdirSync(join(dir, 'node_modules', '@tributary'), { recursive: true });
  symlinkSync(join(repo, 'packages/sdk'), join(dir, 'node_modules/@tributary/sdk'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tributary-destination-journal', version: '0.2.0', type: 'module', exports: './destination.js' }));
  writeFileSync(join(dir, 'destination.js'), DESTINATION_JS);
  return dir;
}

const databases = await testDatabases('cli-plugin-destinations');
const plugin = writeDestinationPackage();

describe.each(databases)('a destination from outside the repository on $dialect', (db) => {
  const env = { TRIBUTARY_DATABASE_URL: db.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent', TRIBUTARY_CONNECTORS: plugin };

  it('is listed, added, and tested with its own code', async () => {
    const help = await runCli(['destinations', 'add', '--help'], env);
    expect(help.stdout).toMatch(/journal\s+appends each batch to a file \(.*tributary-plugin-destination/);
    expect(help.stdout).toContain('webhook');
    // A workspace exists once an app was installed in it.
    const sandbox = await startSandbox({ responses: 0 });
    try {
      const workspace = `ws${randomBytes(3).toString('hex')}`;
      const installed = await runCli(['install', 'closealert', '--workspace', workspace, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url], env);
      expect(installed.code).toBe(0);
      const journal = join(plugin, `${db.dialect}.log`);
      const without = await runCli(['destinations', 'add', 'journal', 'j', '--workspace', workspace, '--set', `file=${journal}`], { ...env, TRIBUTARY_CONNECTORS: undefined });
      expect(without.code).toBe(2);
      expect(without.stderr).toContain('DESTINATION_UNKNOWN');
      expect(await runCli(['destinations', 'add', 'journal', 'j', '--workspace', workspace, '--set', `file=${journal}`], env)).toMatchObject({ code: 0 });
      const tested = await runCli(['destinations', 'test', 'j', '--workspace', workspace], env);
      expect(tested).toMatchObject({ code: 0, stdout: 'journal j is writable\n' });
      expect(readFileSync(journal, 'utf8')).toBe('test\n');
    } finally {
      await sandbox.close();
    }
  });
});
