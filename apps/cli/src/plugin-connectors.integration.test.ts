import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxFormResponse } from '@tributary/closealert-sandbox';
import { testDatabases } from '@tributary/testing';
import { readEnv } from './env.js';
import { createCliLogger } from './logger.js';
import { runCli } from './test-support/cli.js';

// A platform engineer's connector: a package outside the repository, found through
// TRIBUTARY_CONNECTORS, installed with --set, synced, listed, logged and profiled (alone and beside
// CloseAlert in one workspace), with no file of Tributary changed.

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const CONNECTOR_JS = `
import { readFileSync } from 'node:fs';
import { defineConnector, defineStream, z } from '@tributary/sdk';

const record = z.object({ id: z.number().int(), email: z.string(), comment: z.string(), at: z.string(), topic: z.string(), rating: z.number() });

const notes = defineStream({
  name: 'notes',
  recordSchema: record,
  checkpointSchema: z.object({ line: z.number().int() }),
  async *read(ctx) {
    const lines = readFileSync(ctx.config.file, 'utf8').split('\\n').filter(Boolean);
    const from = ctx.checkpoint?.line ?? 0;
    const records = [];
    const rejected = [];
    for (const line of lines.slice(from)) {
      const parsed = record.safeParse(JSON.parse(line));
      if (parsed.success) records.push(parsed.data);
      else rejected.push({ reason: 'not a note', raw: line });
    }
    yield { records, rejected, checkpoint: { line: lines.length }, backfill: ctx.checkpoint === null };
  },
  // A log line with fields no other connector has: the log shows them as the connector names them.
  summarize: (r) => ({ key: String(r.id), contact: r.email, label: 'Reading list', fields: { note: r.comment, length: r.comment.length, starred: r.id === 1, due: null } }),
});

export default defineConnector({
  id: 'notebook',
  version: '2.3.4',
  displayName: 'Notebook',
  configSchema: z.object({
    file: z.string().min(1).describe('the JSON-lines file of notes'),
    apiKey: z.string().min(8).describe('key of the notebook account'),
    batch: z.number().int().default(50).describe('notes per page'),
  }),
  secrets: ['apiKey'],
  dataModel: {
    primaryTable: 'notes',
    customerEmailColumn: 'email',
    // One note is one response with one answer: a rating and a comment on a topic.
    feedback: {
      responses: { table: 'notes', id: 'note_id', time: 'noted_at', email: 'email' },
      answers: { table: 'notes', response: 'note_id', question: 'topic', score: 'rating', comment: 'comment' },
    },
    tables: [{ name: 'notes', rowsFrom: { kind: 'record' }, key: ['note_id'], onConflict: 'ignore',
      columns: [{ name: 'note_id', type: 'bigint', nullable: false }, { name: 'email', type: 'text' }, { name: 'comment', type: 'text' },
        { name: 'noted_at', type: 'timestamp' }, { name: 'topic', type: 'text' }, { name: 'rating', type: 'numeric' }],
      indexes: [['email', 'noted_at']] }],
  },
  sourceFields: { record: ['id', 'email', 'comment', 'at', 'topic', 'rating'] },
  defaultMappings: [
    { source: 'id', target: { table: 'notes', column: 'note_id' }, transform: 'integer' },
    { source: 'email', target: { table: 'notes', column: 'email' }, transform: 'email' },
    { source: 'comment', target: { table: 'notes', column: 'comment' } },
    { source: 'at', target: { table: 'notes', column: 'noted_at' }, transform: 'timestamp' },
    { source: 'topic', target: { table: 'notes', column: 'topic' } },
    { source: 'rating', target: { table: 'notes', column: 'rating' }, transform: 'number' },
  ],
  streams: [notes],
  async check(ctx) {
    readFileSync(ctx.config.file, 'utf8');
    return { notes: ['The notebook file is readable.'] };
  },
});
`;

const DAY = 86_400_000;
// Whole seconds, as sources send them.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const ago = (days: number) => new Date(NOW - days * DAY).toISOString();

/** A package in a temporary directory outside the repository that imports only the SDK, resolved from the repository. */
function writeConnectorPackage(): { dir: string; notes: string; keyFile: string } {
  const dir = join(tmpdir(), `tributary-plugin-${randomBytes(6).toString('hex')}`);
  mkdirSync(join(dir, 'node_modules', '@tributary'), { recursive: true });
  symlinkSync(join(repo, 'packages/sdk'), join(dir, 'node_modules/@tributary/sdk'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tributary-connector-notebook', version: '2.3.4', type: 'module', exports: './connector.js' }));
  writeFileSync(join(dir, 'connector.js'), CONNECTOR_JS);
  const notes = join(dir, 'notes.jsonl');
  writeFileSync(
    notes,
    [
      { id: 1, email: 'Ada@Example.com', comment: 'great', at: ago(2), topic: 'delivery', rating: 5 },
      { id: 2, email: 'bob@example.com', comment: 'slow', at: ago(1), topic: 'delivery', rating: 2 },
      { id: 'x', email: 'broken' },
    ]
      .map((n) => JSON.stringify(n))
      .join('\n') + '\n',
  );
  const keyFile = join(dir, 'api-key');
  writeFileSync(keyFile, 'notebook-secret-key-123\n');
  return { dir, notes, keyFile };
}

const databases = await testDatabases('cli-plugin-connectors');
const plugin = writeConnectorPackage();

describe.each(databases)('a connector from outside the repository on $dialect', (db) => {
  const env = {
    TRIBUTARY_DATABASE_URL: db.url,
    TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    TRIBUTARY_CONNECTORS: plugin.dir,
  };

  beforeAll(async () => {
    const migrate = await runCli(['migrate'], env);
    expect(migrate.code, migrate.stderr).toBe(0);
  });
  afterAll(() => undefined);

  it('is listed by `tributary connectors` with its version, package, streams and fields', async () => {
    const list = await runCli(['connectors', '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    const connectors = JSON.parse(list.stdout) as { id: string; version: string; package: string; streams: string[]; config: { name: string; secret: boolean; required: boolean; default?: unknown }[] }[];
    expect(connectors.map((c) => c.id).sort()).toEqual(['closealert', 'notebook', 'typeform']);
    const notebook = connectors.find((c) => c.id === 'notebook')!;
    expect(notebook).toMatchObject({ version: '2.3.4', package: plugin.dir, streams: ['notes'] });
    expect(notebook.config).toEqual([
      { name: 'file', type: 'string', description: 'the JSON-lines file of notes', required: true, secret: false },
      { name: 'apiKey', type: 'string', description: 'key of the notebook account', required: true, secret: true },
      { name: 'batch', type: 'number', description: 'notes per page', default: 50, required: false, secret: false },
    ]);
    const text = await runCli(['connectors'], env);
    expect(text.stdout).toContain(`notebook 2.3.4  Notebook  (${plugin.dir})`);
    // Without the variable it is not known.
    const without = await runCli(['connectors', '--json'], { ...env, TRIBUTARY_CONNECTORS: undefined });
    expect((JSON.parse(without.stdout) as { id: string }[]).map((c) => c.id)).toEqual(['closealert', 'typeform']);
  });

  it('installs with --set (the secret from a file), syncs, and shows in apps and logs', async () => {
    const install = await runCli(['install', 'notebook', '--workspace', 'acme', '--set', `file=${plugin.notes}`, '--set', `apiKey=@${plugin.keyFile}`, '--set', 'batch=20', '--json'], env);
    expect(install.code, install.stderr).toBe(0);
    const installed = JSON.parse(install.stdout) as { installation: { app: string; settings: Record<string, unknown> }; notes: string[] };
    expect(installed.installation.app).toBe('notebook');
    expect(installed.installation).toMatchObject({ connectorVersion: '2.3.4' });
    expect(installed.installation.settings).toMatchObject({ file: plugin.notes, batch: 20 });
    expect(installed.installation.settings).not.toHaveProperty('apiKey');
    expect(installed.notes).toEqual(['The notebook file is readable.']);

    const sync = await runCli(['sync', '--workspace', 'acme'], env);
    expect(sync.code, sync.stderr).toBe(0);
    const logsJson = await runCli(['logs', 'notebook', '--workspace', 'acme', '--json'], env);
    expect(logsJson.code, logsJson.stderr).toBe(0);
    const [run] = JSON.parse(logsJson.stdout) as { id: string; app: string; status: string; inserted: number; rejected: number; saved: unknown[]; customers: string }[];
    const lines = [
      { key: '1', contact: 'Ada@Example.com', label: 'Reading list', fields: { note: 'great', length: 5, starred: true, due: null } },
      { key: '2', contact: 'bob@example.com', label: 'Reading list', fields: { note: 'slow', length: 4, starred: false, due: null } },
    ];
    expect(run).toMatchObject({ app: 'notebook', status: 'succeeded', inserted: 2, rejected: 1, saved: lines, customers: 'Ada@Example.com,bob@example.com' });
    const printed = 'records saved: Ada@Example.com (Reading list, note="great", length=5, starred=true, due=null), bob@example.com (Reading list, note="slow", length=4, starred=false, due=null)';
    expect(sync.stdout).toContain(printed);

    const apps = await runCli(['apps', '--workspace', 'acme'], env);
    expect(apps.code, apps.stderr).toBe(0);
    expect(apps.stdout).toMatch(/acme\/notebook {2}ACTIVE/);
    const logs = await runCli(['logs', 'notebook', '--workspace', 'acme'], env);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain(printed);
    // The stored log reads back the same lines, one per saved record, in text and in JSON.
    const one = await runCli(['logs', '--workspace', 'acme', '--run', run!.id], env);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/ {4}\d+ {2}Ada@Example\.com \(Reading list, note="great", length=5, starred=true, due=null\)\n {4}\d+ {2}bob@example\.com \(Reading list/);
    const json = await runCli(['logs', '--workspace', 'acme', '--run', run!.id, '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as { run: { saved: unknown[] }; total: number; customers: { seq: number }[] };
    expect(listed.total).toBe(2);
    expect(listed.run.saved).toEqual(lines);
    expect(listed.customers.map(({ seq, ...line }) => (void seq, line))).toEqual(lines);
    for (const out of [install, sync, apps, logs, one, json]) expect(out.stdout + out.stderr).not.toContain('notebook-secret-key-123');
  });

  it('refuses to sync an installation whose connector is no longer loaded, saying who must do what', async () => {
    const refused = await runCli(['sync', '--workspace', 'acme'], { ...env, TRIBUTARY_CONNECTORS: undefined });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error [CONNECTOR_MISSING]: acme/notebook cannot run: no connector "notebook" (installed with version 2.3.4) is loaded');
    expect(refused.stderr).toContain('Name its package in TRIBUTARY_CONNECTORS');
  });

  it('takes a secret from standard input, from TRIBUTARY_SET_<KEY>, and settings from --config', async () => {
    const fromStdin = await runCli(['install', 'notebook', '--workspace', 'stdin', '--set', `file=${plugin.notes}`, '--set', 'apiKey=-', '--json'], env, 'notebook-secret-key-123\n');
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    const settings = join(plugin.dir, 'settings.json');
    writeFileSync(settings, JSON.stringify({ file: plugin.notes, batch: 7 }));
    const fromEnv = await runCli(['install', 'notebook', '--workspace', 'envvar', '--config', settings, '--json'], { ...env, TRIBUTARY_SET_API_KEY: 'notebook-secret-key-123' });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect((JSON.parse(fromEnv.stdout) as { installation: { settings: Record<string, unknown> } }).installation.settings).toEqual({ file: plugin.notes, batch: 7 });
    const missing = await runCli(['install', 'notebook', '--workspace', 'nokey', '--set', `file=${plugin.notes}`], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/apiKey/);
    const unknown = await runCli(['install', 'notebook', '--workspace', 'nokey', '--set', 'colour=red'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Notebook has no setting "colour"; its settings are file, apiKey, batch.');
    const otherApps = await runCli(['install', 'notebook', '--workspace', 'nokey', '--set', `file=${plugin.notes}`, '--project', 'acme.com'], env);
    expect(otherApps.code).toBe(2);
    expect(otherApps.stderr).toContain('--project is a setting of closealert, not of notebook.');
  });

  it('redacts the secrets the loaded connectors declare from log lines', async () => {
    const logLine = () => {
      let text = '';
      createCliLogger(readEnv({ LOG_FORMAT: 'json' }), { write: (line: string) => (text += line) }).warn({ apiKey: 'notebook-secret-key-123' }, 'x');
      return text;
    };
    await runCli(['connectors'], env);
    expect(logLine()).toContain('"apiKey":"***"');
    await runCli(['connectors'], { ...env, TRIBUTARY_CONNECTORS: undefined });
    expect(logLine()).toContain('notebook-secret-key-123');
  });

  it('records the version of the connector that syncs an installation after an upgrade', async () => {
    const upgraded = join(plugin.dir, 'connector-2.4.0.js');
    writeFileSync(upgraded, CONNECTOR_JS.replace("version: '2.3.4'", "version: '2.4.0'"));
    const sync = await runCli(['sync', 'notebook', '--workspace', 'acme'], { ...env, TRIBUTARY_CONNECTORS: upgraded });
    expect(sync.code, sync.stderr).toBe(0);
    const apps = await runCli(['apps', '--workspace', 'acme', '--json'], env);
    const listed = JSON.parse(apps.stdout) as { installation: { app: string; connectorVersion: string } }[] | { installation: { app: string; connectorVersion: string } }[];
    expect(JSON.stringify(listed)).toContain('"connectorVersion":"2.4.0"');
  });

  it('lists the app\'s settings under `install <app> --help`', async () => {
    const help = await runCli(['install', 'notebook', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Settings of Notebook (notebook 2.3.4)');
    expect(help.stdout).toMatch(/apiKey \(string\): key of the notebook account\n\s+required; secret: give it with --set apiKey=@file, --set apiKey=- \(standard input\) or TRIBUTARY_SET_API_KEY/);
    expect(help.stdout).toMatch(/batch \(number\): notes per page\n\s+optional; default 50/);
    const closealert = await runCli(['install', 'closealert', '--help'], env);
    expect(closealert.stdout).toMatch(/apiToken \(string\): .*\n\s+required; flag --token; secret/);
  });

  it('finds a package named in the config file of TRIBUTARY_CONFIG, in node_modules beside that file', async () => {
    const project = join(plugin.dir, `project-${db.dialect}`);
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(plugin.dir, join(project, 'node_modules', 'tributary-connector-notebook'));
    const configFile = join(project, 'tributary.config.json');
    writeFileSync(configFile, JSON.stringify({ connectors: ['tributary-connector-notebook'] }));
    const list = await runCli(['connectors', '--json'], { ...env, TRIBUTARY_CONNECTORS: undefined, TRIBUTARY_CONFIG: configFile });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toContainEqual(expect.objectContaining({ id: 'notebook', package: 'tributary-connector-notebook' }));
    const missing = await runCli(['connectors'], { ...env, TRIBUTARY_CONFIG: join(project, 'nope.json') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`error [CONFIG_FILE_UNREADABLE]: TRIBUTARY_CONFIG names ${join(project, 'nope.json')}, which does not exist.`);
  });

  it('names a module that is not a connector, or cannot be loaded', async () => {
    const notConnector = join(plugin.dir, 'other.js');
    writeFileSync(notConnector, 'export default { id: "nope" };\n');
    const bad = await runCli(['connectors'], { ...env, TRIBUTARY_CONNECTORS: notConnector });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`error [CONNECTOR_INVALID]: The module "${notConnector}" is not a connector`);
    const missing = await runCli(['connectors'], { ...env, TRIBUTARY_CONNECTORS: 'tributary-connector-that-does-not-exist' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error [CONNECTOR_NOT_LOADED]: Cannot load the connector "tributary-connector-that-does-not-exist"');
  });
  it("profiles the connector's feedback alone and across apps with CloseAlert, naming each row's app", async () => {
    const sandbox = await startSandbox({ responses: 0 });
    try {
      const response = (id: number, email: string, days: number, score: number): SandboxFormResponse => ({
        id,
        created_at: ago(days).slice(0, 19),
        email,
        mail_url: `https://mail.example.com/${id}`,
        user_agent: 'Mozilla/5.0',
        device_type: 'desktop',
        operating_system: 'macos',
        followed_up: false,
        merge_tags: {},
        form: { id: 34, form_type: 'email-satisfaction', name: 'Email satisfaction form' },
        mailing: { id: 100, name: 'May newsletter' },
        group: { id: 44, name: 'Newsletters' },
        answers: [{ question: 'How would you rate this e-mail?', question_type: 'sentiment', answer_type: null, question_index: '1', response_value: score }],
      });
      sandbox.addResponses([response(1, 'ann@example.com', 3, 2), response(2, 'bob@example.com', 2, 1), response(3, 'cy@example.com', 4, 5)]);
      const ws = 'both';
      for (const args of [
        ['install', 'notebook', '--workspace', ws, '--set', `file=${plugin.notes}`, '--set', `apiKey=@${plugin.keyFile}`],
        ['install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '30'],
        ['sync', '--workspace', ws],
        ['profiles', 'create', 'Fans', '--workspace', ws, '--app', 'notebook', '--score', '>=5'],
        ['profiles', 'create', 'Low anywhere', '--workspace', ws, '--score', '<3', '--within', '30d'],
      ]) {
        const done = await runCli(args, env);
        expect(done.code, `${args.join(' ')}: ${done.stderr}`).toBe(0);
      }
      // Pinned to the plugin's app: its data alone.
      const fans = await runCli(['profiles', 'run', 'Fans', '--workspace', ws, '--format', 'csv'], env);
      expect(fans.code, fans.stderr).toBe(0);
      const fanLines = fans.stdout.split('\r\n');
      expect(fanLines[0]).toBe('email,customer_id,contact_id,response_id,form_id,score,responded_at,app');
      expect(fanLines.slice(1, -1)).toEqual([expect.stringMatching(new RegExp(`^ada@example\\.com,[0-9a-f-]{36},[0-9a-f-]{36},1,,5,${ago(2)},notebook$`))]);

      // Across both apps: bob answered in both and is one member, from his newer response (the note).
      const csv = await runCli(['profiles', 'run', 'Low anywhere', '--workspace', ws, '--format', 'csv'], env);
      expect(csv.code, csv.stderr).toBe(0);
      const rows = csv.stdout.split('\r\n').slice(1, -1).map((line) => line.split(','));
      expect(rows.map((r) => [r[0], r[3], r[5], r[7]])).toEqual([
        ['ann@example.com', '1', '2', 'closealert'],
        ['bob@example.com', '2', '2', 'notebook'],
      ]);
      expect(csv.stderr).toContain('2 members of "Low anywhere" across closealert, notebook');
      const each = await runCli(['profiles', 'run', 'Low anywhere', '--workspace', ws, '--format', 'csv', '--each-app', '--no-record'], env);
      expect(each.stdout.split('\r\n').slice(1, -1).map((line) => [line.split(',')[0], line.split(',')[7]])).toEqual([
        ['ann@example.com', 'closealert'],
        ['bob@example.com', 'notebook'],
        ['bob@example.com', 'closealert'],
      ]);
      const json = await runCli(['profiles', 'run', 'Low anywhere', '--workspace', ws, '--json', '--no-record'], env);
      const members = JSON.parse(json.stdout) as { email: string; app: string; matches: { app: string; responseId: string }[] }[];
      expect(members.map((m) => [m.email, m.app, m.matches.map((x) => `${x.app}:${x.responseId}`)])).toEqual([
        ['ann@example.com', 'closealert', ['closealert:1']],
        ['bob@example.com', 'notebook', ['notebook:2', 'closealert:2']],
      ]);
      // Narrowed to one app: a what-if, so the recorded members stay those of both apps.
      const narrowed = await runCli(['profiles', 'run', 'Low anywhere', '--workspace', ws, '--format', 'csv', '--app', 'closealert'], env);
      expect(narrowed.code, narrowed.stderr).toBe(0);
      expect(narrowed.stdout.split('\r\n').slice(1, -1).map((line) => [line.split(',')[0], line.split(',')[7]])).toEqual([
        ['ann@example.com', 'closealert'],
        ['bob@example.com', 'closealert'],
      ]);
      expect(narrowed.stderr).toContain('(not recorded)');
      const history = await runCli(['profiles', 'changes', 'Low anywhere', '--workspace', ws, '--history', '--json'], env);
      expect((JSON.parse(history.stdout) as { memberCount: number; entered: string[] }[]).map((h) => [h.memberCount, h.entered])).toEqual([
        [2, ['ann@example.com', 'bob@example.com']],
      ]);
      const pinned = await runCli(['profiles', 'run', 'Fans', '--workspace', ws, '--app', 'closealert'], env);
      expect(pinned.code).toBe(2);
      expect(pinned.stderr).toContain('[PROFILE_APP_PINNED]');
    } finally {
      await sandbox.close();
    }
  });
});
