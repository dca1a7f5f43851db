import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxFormResponse } from '@tributary/closealert-sandbox';
import { tempDirectory, testDatabases, type TestDatabase } from '@tributary/testing';
import type { Io } from '../io.js';
import { openRaw } from '../test-support/cli.js';
import { main } from '../program.js';

// The profile commands end to end: CloseAlert responses whose answers the test controls are served
// by the sandbox, synced by `tributary sync`, and segmented, exported and followed over time with
// `tributary profiles …`, on both databases.

const databases = await testDatabases('cli-profiles');
const dir = tempDirectory('cli-profiles');
const DAY = 86_400_000;
// Whole seconds: CloseAlert's created_at has no milliseconds.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const at = (daysAgo: number) => new Date(NOW.getTime() - daysAgo * DAY);
const sandboxTime = (date: Date) => date.toISOString().slice(0, 19);

const FORM_34 = { id: 34, form_type: 'email-satisfaction', name: 'Email satisfaction form' };
const FORM_35 = { id: 35, form_type: 'nps', name: 'Net promoter score' };

function response(
  id: number,
  email: string | null,
  when: Date,
  form: typeof FORM_34,
  score: number,
  comment: string,
): SandboxFormResponse {
  return {
    id,
    created_at: sandboxTime(when),
    email,
    mail_url: `https://mail.example.com/${id}`,
    user_agent: 'Mozilla/5.0',
    device_type: 'desktop',
    operating_system: 'macos',
    followed_up: false,
    merge_tags: {},
    form,
    mailing: { id: 100, name: 'May newsletter' },
    group: { id: 44, name: 'Newsletters' },
    answers: [
      {
        question: 'How would you rate this e-mail?',
        question_type: 'sentiment',
        answer_type: null,
        question_index: '1',
        response_value: score,
      },
      {
        question: 'Why?',
        question_type: 'comment',
        answer_type: null,
        question_index: '2',
        response_value: comment,
      },
    ],
  };
}

const RESPONSES = [
  response(1, 'ann@example.com', at(2), FORM_34, 1, 'Too many mails'),
  response(2, 'bob@example.com', at(5), FORM_34, 2, 'meh, "really"'),
  response(3, 'cy@example.com', at(8), FORM_34, 5, 'Great'),
  response(4, 'ed@example.com', at(3), FORM_35, 2, 'ok'),
  // A respondent whose "address" a spreadsheet would run as a formula: stored, but never a member.
  response(
    5,
    '=HYPERLINK("http://evil.example")@example.com',
    at(1),
    FORM_34,
    1,
    'line one\nline two, with a comma',
  ),
  response(6, 'hal@example.com', at(20), FORM_34, 5, 'love it'),
];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe.each(databases)('tributary profiles on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  const workspace = `cli-${randomBytes(3).toString('hex')}`;
  const env = {
    TRIBUTARY_DATABASE_URL: database.url,
    TRIBUTARY_SECRET_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
  };

  async function cli(...args: string[]): Promise<Result> {
    let stdout = '';
    let stderr = '';
    const io: Io = {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      env,
    };
    const code = await main(args, io);
    return { code, stdout, stderr };
  }

  async function ok(...args: string[]): Promise<string> {
    const result = await cli(...args);
    expect(result, `tributary ${args.join(' ')}`).toMatchObject({ code: 0 });
    return result.stdout;
  }

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 0 });
    sandbox.addResponses(RESPONSES);
    await ok(
      'install',
      'closealert',
      '--workspace',
      workspace,
      '--project',
      sandbox.projectKey,
      '--token',
      sandbox.token,
      '--api-url',
      sandbox.url,
      '--backfill-days',
      '30',
    );
    await ok('sync', '--workspace', workspace);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it("creates and runs the manual's first example, exported as CSV, without the formula that is no address", async () => {
    const created = await ok(
      'profiles',
      'create',
      'Unhappy last 10 days',
      '--workspace',
      workspace,
      '--form',
      '34',
      '--question',
      '1',
      '--score',
      '=1',
      '--score',
      '<3',
      '--within',
      '10d',
    );
    expect(created).toContain(
      'responded within the past 10 days AND form 34 AND question 1 of form 34 AND (score = 1 OR score < 3)',
    );
    const csv = await cli(
      'profiles',
      'run',
      'Unhappy last 10 days',
      '--workspace',
      workspace,
      '--format',
      'csv',
      '--at',
      NOW.toISOString(),
    );
    expect(csv.code).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe('email,customer_id,contact_id,response_id,form_id,score,responded_at,app');
    expect(lines.slice(1, -1).map((line) => line.split(',')[0])).toEqual(['ann@example.com', 'bob@example.com']);
    expect(lines[1]).toMatch(
      new RegExp(`^ann@example.com,[0-9a-f-]{36},[0-9a-f-]{36},1,34,1,${at(2).toISOString()},closealert$`),
    );
    expect(lines.at(-1)).toBe('');
    expect(csv.stderr).toContain('2 members of "Unhappy last 10 days"');
  });

  it('stops reading and records nothing when the reader of a CSV export goes away after the header (| head -1)', async () => {
    let stdout = '';
    let gone = false;
    let waited = 0;
    const io: Io = {
      stdout: {
        write: (t: string) => {
          stdout += t;
          gone = true;
          return false;
        },
        drained: async () => {
          waited += 1;
        },
        closed: () => gone,
      },
      stderr: { write: () => true },
      env,
    };
    const code = await main(['profiles', 'run', 'Unhappy last 10 days', '--workspace', workspace, '--format', 'csv', '--at', NOW.toISOString(), '--record'], io);
    expect(code).toBe(0);
    expect(stdout).toBe('email,customer_id,contact_id,response_id,form_id,score,responded_at,app\r\n');
    expect(waited).toBe(1);
    const history = JSON.parse(await ok('profiles', 'changes', 'Unhappy last 10 days', '--workspace', workspace, '--history', '--json')) as unknown[];
    expect(history).toEqual([]);
  });

  it('runs "everyone who gave a 5" as JSON', async () => {
    await ok('profiles', 'create', 'Gave a 5', '--workspace', workspace, '--score', '=5');
    const json = JSON.parse(
      await ok(
        'profiles',
        'run',
        'Gave a 5',
        '--workspace',
        workspace,
        '--format',
        'json',
        '--at',
        NOW.toISOString(),
        '--record',
      ),
    ) as Record<string, unknown>[];
    expect(json.map((m) => [m.email, m.responseId, m.score, m.formId])).toEqual([
      ['cy@example.com', '3', 5, 34],
      ['hal@example.com', '6', 5, 34],
    ]);
    expect(json[0]).toMatchObject({ customerId: json[0]!.contactId, respondedAt: at(8).toISOString() });
  });

  it('tells who entered and who left as time passes, and keeps the history', async () => {
    await ok(
      'profiles',
      'create',
      'Excluded',
      '--workspace',
      workspace,
      '--question',
      '1',
      '--score',
      '<3',
      '--within',
      '10d',
    );
    const first = JSON.parse(
      await ok(
        'profiles',
        'changes',
        'Excluded',
        '--workspace',
        workspace,
        '--format',
        'json',
        '--at',
        NOW.toISOString(),
      ),
    );
    expect(first).toMatchObject({ members: 3, left: [], previousEvaluatedAt: null });
    expect(first.entered).toHaveLength(3);
    // Six days on, bob's and ed's responses are older than ten days: they come back by themselves.
    const later = await ok(
      'profiles',
      'changes',
      'Excluded',
      '--workspace',
      workspace,
      '--at',
      new Date(NOW.getTime() + 7.5 * DAY).toISOString(),
    );
    expect(later).toMatch(/left\s+bob@example.com/);
    expect(later).toMatch(/left\s+ed@example.com/);
    expect(later).toContain('1 members of "Excluded"');
    const history = await ok('profiles', 'changes', 'Excluded', '--workspace', workspace, '--history');
    expect(history).toMatch(/1 members, 0 entered, 2 left\n {2}- bob@example.com\n {2}- ed@example.com/);
    expect(history).toMatch(/3 members, 3 entered, 0 left/);
  });

  it('reads an installation made before its connector declared a feedback view once it syncs again', async () => {
    const older = `${workspace}-old`;
    await ok('install', 'closealert', '--workspace', older, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '30');
    await ok('sync', '--workspace', older);
    // As a Tributary from before feedback views stored it.
    const raw = await openRaw(database);
    try {
      await raw.query(
        database.dialect === 'postgres'
          ? `UPDATE ${raw.own('installations')} SET data_model = data_model - 'feedback' WHERE app = 'closealert' AND workspace_id = (SELECT id FROM ${raw.own('workspaces')} WHERE name = ?)`
          : `UPDATE ${raw.own('installations')} SET data_model = json_remove(data_model, '$.feedback') WHERE app = 'closealert' AND workspace_id = (SELECT id FROM ${raw.own('workspaces')} WHERE name = ?)`,
        [older],
      );
    } finally {
      await raw.close();
    }
    await ok('profiles', 'create', 'Gave a 5', '--workspace', older, '--score', '=5');
    const before = await cli('profiles', 'run', 'Gave a 5', '--workspace', older, '--no-record');
    expect(before.code).toBe(2);
    expect(before.stderr).toContain('[APP_NOT_FEEDBACK]');
    expect(before.stderr).toContain(`tributary sync --workspace ${older}`);
    await ok('sync', '--workspace', older);
    const after = JSON.parse(await ok('profiles', 'run', 'Gave a 5', '--workspace', older, '--json', '--no-record')) as { email: string; app: string }[];
    expect(after.map((m) => [m.email, m.app])).toEqual([
      ['cy@example.com', 'closealert'],
      ['hal@example.com', 'closealert'],
    ]);
  });

  it('lists, shows and deletes profiles, and lists the forms they can name', async () => {
    const list = await ok('profiles', 'list', '--workspace', workspace);
    expect(list).toMatch(/Gave a 5\s+\S+\s+2\s+score = 5/);
    const shown = await ok('profiles', 'show', 'Unhappy last 10 days', '--workspace', workspace);
    expect(shown).toContain('"withinDays": 10');
    const forms = await ok('profiles', 'forms', '--workspace', workspace);
    expect(forms).toContain('form 34  Email satisfaction form (email-satisfaction)');
    expect(forms).toContain('question 1    [sentiment] How would you rate this e-mail?');
    expect(await ok('profiles', 'delete', 'Gave a 5', '--workspace', workspace)).toContain(
      'Deleted profile "Gave a 5"',
    );
    const again = await cli('profiles', 'delete', 'Gave a 5', '--workspace', workspace);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('PROFILE_NOT_FOUND');
  });

  it('creates a profile from a JSON file', async () => {
    const file = join(dir, `${database.dialect}-def.json`);
    writeFileSync(
      file,
      JSON.stringify({
        over: 'latest-response',
        match: {
          all: [
            { type: 'form', name: 'net promoter score' },
            { type: 'comment', contains: 'OK' },
          ],
        },
      }),
    );
    await ok('profiles', 'create', 'From file', '--workspace', workspace, '--file', file);
    const table = await ok(
      'profiles',
      'run',
      'From file',
      '--workspace',
      workspace,
      '--no-record',
      '--at',
      NOW.toISOString(),
    );
    expect(table).toMatch(/ed@example.com/);
    expect(table).toContain('(not recorded)');
  });

  it('evaluates as of --at without recording it, unless --record', async () => {
    await ok('profiles', 'create', 'What if', '--workspace', workspace, '--score', '=5');
    const whatIf = await ok('profiles', 'run', 'What if', '--workspace', workspace, '--at', at(-30).toISOString());
    expect(whatIf).toContain('2 members of "What if"');
    expect(whatIf).toContain('(not recorded)');
    expect(await ok('profiles', 'changes', 'What if', '--workspace', workspace, '--history')).toContain(
      '"What if" has not been evaluated yet.',
    );
    const recorded = await ok('profiles', 'run', 'What if', '--workspace', workspace, '--at', NOW.toISOString(), '--record');
    expect(recorded).not.toContain('(not recorded)');
    const history = await ok('profiles', 'changes', 'What if', '--workspace', workspace, '--history');
    expect(history.match(/members, /g)).toHaveLength(1);
    expect(history).toContain('2 members, 2 entered, 0 left');
    // Recorded back in time it would become the baseline, and the next run would announce everyone again.
    const backdated = await cli('profiles', 'run', 'What if', '--workspace', workspace, '--at', at(30).toISOString(), '--record');
    expect(backdated.code, backdated.stdout + backdated.stderr).toBe(2);
    expect(backdated.stderr).toMatch(/PROFILE_EVALUATION_OUT_OF_ORDER.*cannot be recorded after it/);
    expect(await ok('profiles', 'changes', 'What if', '--workspace', workspace, '--history')).toBe(history);
    // Without --at an evaluation is recorded as before.
    expect(await ok('profiles', 'run', 'What if', '--workspace', workspace)).not.toContain('(not recorded)');
  });

  it('takes profile names in any script and refuses control characters with exit 2', async () => {
    for (const name of ['Клиенты', 'Zufriedenheit äöü', '顧客 5']) {
      expect(await ok('profiles', 'create', name, '--workspace', workspace, '--score', '=5')).toContain(`Created profile "${name}"`);
      const members = JSON.parse(await ok('profiles', 'run', name, '--workspace', workspace, '--format', 'json', '--at', NOW.toISOString()));
      expect(members.map((m: { email: string }) => m.email)).toEqual(['cy@example.com', 'hal@example.com']);
    }
    const list = await ok('profiles', 'list', '--workspace', workspace);
    for (const name of ['Клиенты', 'Zufriedenheit äöü', '顧客 5']) expect(list).toContain(`${name} `);
    const refused: [string[], RegExp][] = [
      [['profiles', 'create', 'bad\u0000name', '--workspace', workspace, '--score', '5'], /name:? must not contain control characters/],
      [['profiles', 'create', 'tab\tname', '--workspace', workspace, '--score', '5'], /control characters/],
      [['profiles', 'create', 'ok name', '--workspace', workspace, '--score', '5', '--description', 'nul\u0000'], /description/],
      [['profiles', 'create', 'ok name', '--workspace', workspace, '--comment', 'nul\u0000'], /control characters/],
      [['profiles', 'create', 'ok name', '--workspace', workspace, '--form', 'bell\u0007'], /control characters/],
      [['profiles', 'run', 'Клиенты\u0000', '--workspace', workspace], /profile name/],
      [['profiles', 'show', 'x\u0000', '--workspace', workspace], /profile name/],
      [['profiles', 'changes', 'x\u0000', '--workspace', workspace], /profile name/],
      [['profiles', 'delete', 'x\u0000', '--workspace', workspace], /profile name/],
      [['profiles', 'list', '--workspace', 'ws\u0000'], /--workspace/],
    ];
    for (const [args, message] of refused) {
      const result = await cli(...args);
      expect(result.code, JSON.stringify(args)).toBe(2);
      expect(result.stderr, JSON.stringify(args)).toMatch(message);
    }
    expect(await ok('profiles', 'list', '--workspace', workspace)).not.toContain('ok name');
  });

  it('refuses bad input with a usage error that names the field', async () => {
    const cases: [string[], RegExp][] = [
      [['profiles', 'create', 'x', '--workspace', workspace, '--score', '<<3'], /--score/],
      [['profiles', 'create', 'x', '--workspace', workspace, '--within', 'soon'], /--within/],
      [['profiles', 'create', 'x', '--workspace', workspace], /needs conditions/],
      [['profiles', 'create', "x'; DROP TABLE y", '--workspace', workspace, '--score', '5'], /profile definition: name must start with a letter or digit/],
      // Not an index such as 3.1, so another source's question key, which must still be clean text.
      [['profiles', 'create', 'x', '--workspace', workspace, '--question', 'one\u0007'], /match/],
      [['profiles', 'create', 'x', '--workspace', workspace, '--score', '5', '--app', 'Close Alert'], /app/],
      [['profiles', 'run', 'Unhappy last 10 days', '--workspace', workspace, '--app', 'typeform'], /APP_NOT_INSTALLED/],
      [['profiles', 'create', 'x', '--workspace', workspace, '--file', join(dir, 'missing.json')], /--file/],
      [['profiles', 'run', 'Unhappy last 10 days', '--workspace', workspace, '--format', 'xml'], /--format/],
      [['profiles', 'run', 'Unhappy last 10 days', '--workspace', workspace, '--at', 'yesterday'], /--at must be an ISO-8601 date or time, such as 2026-06-01/],
      [['profiles', 'run', 'nope', '--workspace', workspace], /PROFILE_NOT_FOUND/],
      [['profiles', 'list', '--workspace', "bad'ws"], /--workspace/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    const bad = join(dir, `${database.dialect}-bad.json`);
    writeFileSync(bad, '{"match": {"type": "score", "op": "=", "value": "five"}}');
    const invalid = await cli('profiles', 'create', 'x', '--workspace', workspace, '--file', bad);
    expect(invalid.stderr).toMatch(/CONFIG_INVALID.*match/);
  });
});
