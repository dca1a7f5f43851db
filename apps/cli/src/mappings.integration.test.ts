import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { openRaw, runCli, type RawConnection } from './test-support/cli.js';

// `tributary mappings` and `tributary remap` end to end: a CloseAlert sandbox, the app installed and
// synced through the CLI, mappings changed, stored responses remapped from their raw copy, and
// every kind of invalid edit refused with the database exactly as it was.

const databases = await testDatabases('cli-mappings');

describe.each(databases)('data mappings on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  let raw: RawConnection;
  const pg = database.dialect === 'postgres';
  const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' };
  const ws = 'mapping-ws';
  const cli = (...args: string[]) => runCli(args, env);

  /** Everything an edit could change: the installation's mappings and model, and every app table's columns. */
  async function snapshot(): Promise<string> {
    const installation = await raw.query(`SELECT mappings, data_model, updated_at FROM ${raw.own('installations')} WHERE status = 'active'`);
    const columns = pg
      ? await raw.query(
          `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'tributary' ORDER BY table_name, ordinal_position`,
        )
      : await raw.query(
          `SELECT m.name AS table_name, p.name AS column_name, p.type, p."notnull" FROM sqlite_master m, pragma_table_info(m.name) p
            WHERE m.type = 'table' ORDER BY m.name, p.cid`,
        );
    const tables = pg
      ? await raw.query(`SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`)
      : await raw.query(`SELECT name FROM sqlite_master ORDER BY name`);
    const responses = await raw.query(`SELECT * FROM ${raw.own('closealert_form_responses')} ORDER BY response_id`);
    return JSON.stringify({ installation, columns, tables, responses });
  }

  const responses = () =>
    raw.query<{ response_id: number | string; raw: unknown; segment?: string | null; user_agent: string | null; device_type: string | null; operating_system: string | null; backfilled: unknown }>(
      `SELECT * FROM ${raw.own('closealert_form_responses')} ORDER BY response_id`,
    );
  const record = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown> & { merge_tags: Record<string, unknown> };

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 120, spanDays: 20, seed: 7 });
    const install = await cli('install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '30');
    expect(install.code, install.stderr).toBe(0);
    const sync = await cli('sync', '--workspace', ws);
    expect(sync.code, sync.stderr + sync.stdout).toBe(0);
    raw = await openRaw(database);
  });

  afterAll(async () => {
    await raw?.close();
    await sandbox?.close();
  });

  it('lists the defaults: the e-mail links the customer, every other field has its column', async () => {
    const list = await cli('mappings', 'list', 'closealert', '--workspace', ws, '--json');
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { target: string; source: string; state: string; type: string }[];
    expect(rows).toHaveLength(closeAlertConnector.defaultMappings.length);
    expect(rows.every((r) => r.state === 'default')).toBe(true);
    expect(rows).toContainEqual(expect.objectContaining({ target: 'form_responses.email_normalized', source: 'email', type: 'text' }));
    expect(rows).toContainEqual(expect.objectContaining({ target: 'answers.score', source: 'response_value', type: 'numeric' }));
    const text = await cli('mappings', 'list', 'closealert', '--workspace', ws);
    expect(text.stdout).toContain('Customers are linked by form_responses.email_normalized');
  });

  it('adds a column for a merge_tags key and fills it from the stored raw responses, without calling CloseAlert', async () => {
    const before = await responses();
    expect(before.length).toBe(120);
    const added = await cli('mappings', 'add', 'closealert', 'merge_tags.segment', 'form_responses.segment', '--workspace', ws, '--type', 'text');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('tributary remap closealert --workspace mapping-ws');
    expect((await responses()).every((r) => r.segment === null)).toBe(true);

    const requests = sandbox.stats().requests;
    const remap = await cli('remap', 'closealert', '--workspace', ws, '--batch-size', '25');
    expect(remap.code, remap.stderr).toBe(0);
    expect(remap.stdout).toContain('Remapped 120 stored response(s)');
    expect(sandbox.stats().requests).toBe(requests);

    const after = await responses();
    let filled = 0;
    for (const [i, row] of after.entries()) {
      const segment = record(row.raw).merge_tags.segment;
      expect(row.segment ?? null).toBe(segment === undefined ? null : String(segment));
      if (row.segment) filled += 1;
      // Values that came from the run, not from the record, are kept.
      expect(row.backfilled).toEqual(before[i]!.backfilled);
      expect(row.device_type).toBe(before[i]!.device_type);
    }
    expect(filled).toBeGreaterThan(50);

    // New responses get it from the next sync. CloseAlert's timestamps have whole seconds, so a
    // response in the very second the backfill ended counts as backfill: step past that second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    sandbox.addResponses(3);
    expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    const newest = (await responses()).slice(-3);
    for (const row of newest) {
      const segment = record(row.raw).merge_tags.segment;
      expect(row.segment ?? null).toBe(segment === undefined ? null : String(segment));
    }
  });

  it('points a field at another column, switches one off, remaps, and resets to the defaults', async () => {
    expect((await cli('mappings', 'disable', 'closealert', 'form_responses.operating_system', '--workspace', ws)).code).toBe(0);
    const moved = await cli('mappings', 'set', 'closealert', 'form_responses.device_type', '--to', 'form_responses.operating_system', '--workspace', ws);
    expect(moved.code, moved.stderr).toBe(0);
    expect((await cli('mappings', 'disable', 'closealert', 'form_responses.user_agent', '--workspace', ws)).code).toBe(0);
    const backfilled = (await responses()).map((r) => Boolean(r.backfilled));
    // Backfilled and hourly responses both exist now; remapping keeps which is which.
    expect(new Set(backfilled)).toEqual(new Set([true, false]));
    expect((await cli('remap', 'closealert', '--workspace', ws)).code).toBe(0);
    expect((await responses()).map((r) => Boolean(r.backfilled))).toEqual(backfilled);
    for (const row of await responses()) {
      const source = record(row.raw);
      expect(row.operating_system).toBe(source.device_type ?? null);
      expect(row.device_type).toBeNull();
      expect(row.user_agent).toBeNull();
    }
    const list = JSON.parse((await cli('mappings', 'list', 'closealert', '--workspace', ws, '--json')).stdout) as { target: string; source: string; state: string }[];
    expect(list).toContainEqual(expect.objectContaining({ target: 'form_responses.operating_system', source: 'device_type', state: 'changed' }));
    expect(list).toContainEqual(expect.objectContaining({ target: 'form_responses.user_agent', state: 'off' }));
    expect(list).toContainEqual(expect.objectContaining({ target: 'form_responses.segment', state: 'added' }));

    const reset = await cli('mappings', 'reset', 'closealert', '--workspace', ws);
    expect(reset.code, reset.stderr).toBe(0);
    const defaults = JSON.parse((await cli('mappings', 'list', 'closealert', '--workspace', ws, '--json')).stdout) as { state: string }[];
    expect(defaults).toHaveLength(closeAlertConnector.defaultMappings.length);
    expect(defaults.every((r) => r.state === 'default')).toBe(true);
    expect((await cli('remap', 'closealert', '--workspace', ws)).code).toBe(0);
    for (const row of await responses()) {
      const source = record(row.raw);
      expect(row.device_type).toBe(source.device_type ?? null);
      expect(row.operating_system).toBe(source.operating_system ?? null);
      expect(row.user_agent).toBe(source.user_agent ?? null);
    }
  });

  it('keeps the score, the normalized e-mail and the response key unless --force, naming the profiles that stop working', async () => {
    expect((await cli('profiles', 'create', 'Gave a 5', '--workspace', ws, '--score', '=5')).code).toBe(0);
    expect((await cli('profiles', 'create', 'Recent', '--workspace', ws, '--within', '30d')).code).toBe(0);
    const members = async () => (JSON.parse((await cli('profiles', 'run', 'Gave a 5', '--workspace', ws, '--format', 'json', '--no-record')).stdout) as unknown[]).length;
    const fives = await members();
    expect(fives).toBeGreaterThan(0);

    const refused: [string[], RegExp, boolean][] = [
      [['disable', 'closealert', 'answers.score'], /answers\.score \(the score of an answer\)/, false],
      [['set', 'closealert', 'answers.score', '--source', 'question_index'], /answers\.score/, false],
      [['disable', 'closealert', 'form_responses.email_normalized'], /form_responses\.email_normalized \(the normalized e-mail/, true],
      [['set', 'closealert', 'form_responses.email_normalized', '--transform', 'string'], /email_normalized/, true],
      [['set', 'closealert', 'form_responses.response_id', '--source', 'form.id'], /form_responses\.response_id \(the response key\)/, true],
    ];
    for (const [args, message, everyProfile] of refused) {
      const before = await snapshot();
      const [command, ...rest] = args;
      const result = await cli('mappings', command!, ...rest, '--workspace', ws);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('MAPPING_IN_USE');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('"Gave a 5"');
      expect(result.stderr.includes('"Recent"'), args.join(' ')).toBe(everyProfile);
      expect(result.stderr).toContain('--force');
      expect(await snapshot()).toBe(before);
    }

    const forced = await cli('mappings', 'disable', 'closealert', 'answers.score', '--workspace', ws, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('Profiles that stop working: "Gave a 5".');
    // The undo it names is the one command that switches this mapping back, nothing broader.
    const undo = `tributary mappings enable closealert answers.score --workspace ${ws}`;
    expect(forced.stdout).toContain(`Undo it with \`${undo}\`.`);
    expect((await cli('remap', 'closealert', '--workspace', ws)).code).toBe(0);
    expect(await members()).toBe(0);
    // Back to the default needs no --force.
    expect((await cli(...undo.split(' ').slice(1))).code).toBe(0);
    expect((await cli('remap', 'closealert', '--workspace', ws)).code).toBe(0);
    expect(await members()).toBe(fives);
    // A column no profile reads changes as before.
    expect((await cli('mappings', 'disable', 'closealert', 'form_responses.user_agent', '--workspace', ws)).code).toBe(0);
    expect((await cli('mappings', 'reset', 'closealert', '--workspace', ws)).code).toBe(0);
  });

  const invalid: [string, string[], RegExp][] = [
    ['an unknown source path', ['add', 'closealert', 'nope.path', 'form_responses.extra', '--type', 'text'], /"nope\.path" is not a field of the source/],
    ['a source path with SQL in it', ['add', 'closealert', 'id; DROP TABLE x', 'form_responses.extra', '--type', 'text'], /must be a dotted path/],
    ['a bad column name', ['add', 'closealert', 'merge_tags.segment', 'form_responses.Bad-Name', '--type', 'text'], /Invalid column name "Bad-Name"/],
    [
      'SQL in a column name',
      ['add', 'closealert', 'merge_tags.segment', 'form_responses.x"; DROP TABLE tributary_closealert_answers; --', '--type', 'text'],
      /Invalid column name/,
    ],
    ['an SQL keyword as column name', ['add', 'closealert', 'merge_tags.segment', 'form_responses.select', '--type', 'text'], /SQL keyword/],
    ['a column the store reserves', ['add', 'closealert', 'merge_tags.segment', 'form_responses.installation_id', '--type', 'text'], /installation_id/],
    ['an unknown table', ['add', 'closealert', 'merge_tags.segment', 'customers.segment', '--type', 'text'], /no table "customers"/],
    ['a column that already exists', ['add', 'closealert', 'merge_tags.segment', 'form_responses.created_at', '--type', 'text'], /already exists/],
    ['an unknown type', ['add', 'closealert', 'merge_tags.segment', 'form_responses.extra', '--type', 'varchar'], /Unknown column type "varchar"/],
    ['a type clash on a new column', ['add', 'closealert', 'device_type', 'form_responses.extra', '--type', 'integer', '--transform', 'string'], /cannot write a integer column/],
    ['a type clash on an existing column', ['set', 'closealert', 'form_responses.followed_up', '--transform', 'json'], /cannot write a boolean column/],
    ['a column fed twice', ['set', 'closealert', 'form_responses.device_type', '--to', 'form_responses.operating_system'], /fed by both/],
    ['a key column switched off', ['disable', 'closealert', 'form_responses.response_id'], /key column form_responses\.response_id has no enabled mapping/],
    ['a target that is not table.column', ['set', 'closealert', 'device_type', '--source', 'id'], /write it as table\.column/],
    ['an unknown transform', ['set', 'closealert', 'form_responses.device_type', '--transform', 'upper'], /Unknown transform "upper"/],
  ];

  it.each(invalid)('refuses %s and changes nothing', async (_name, args, message) => {
    const before = await snapshot();
    const [command, ...rest] = args;
    const result = await cli('mappings', command!, ...rest, '--workspace', ws);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(await snapshot()).toBe(before);
  });
});
