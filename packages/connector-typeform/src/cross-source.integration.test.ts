import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox as startCloseAlert, type Sandbox as CloseAlertSandbox, type SandboxFormResponse } from '@tributary/closealert-sandbox';
import { testDatabases, tributaryCliEntry } from '@tributary/testing';
import { startSandbox as startTypeform, type Sandbox as TypeformSandbox } from '@tributary/typeform-sandbox';

// One workspace with CloseAlert and Typeform, both synced through the real CLI from their sandboxes,
// and one profile over both ("a score of 6 or less anywhere in the past 30 days"), against members
// worked out by hand from the responses below.

const CLI = tributaryCliEntry();
const databases = await testDatabases('typeform_cross');
const DAY = 86_400_000;

function cli(env: Record<string, string>, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A CloseAlert response with one sentiment score, `days` ago. */
function closeAlertResponse(id: number, email: string, score: number, days: number): SandboxFormResponse {
  const at = new Date(Math.floor((Date.now() - days * DAY) / 1000) * 1000).toISOString().slice(0, 19);
  return {
    id,
    created_at: at,
    email,
    mail_url: 'https://mail.example.com/m/1',
    user_agent: 'test',
    device_type: 'desktop',
    operating_system: 'linux',
    followed_up: false,
    merge_tags: {},
    form: { id: 34, form_type: 'email-satisfaction', name: 'Email satisfaction form' },
    mailing: { id: 100, name: 'May newsletter' },
    group: null,
    answers: [{ question: 'What do you think of this email?', question_type: 'sentiment', answer_type: null, question_index: '1', response_value: score }],
  };
}

describe.each(databases)('a profile across CloseAlert and Typeform on $dialect', (db) => {
  let closeAlert: CloseAlertSandbox;
  let typeform: TypeformSandbox;
  const env = { TRIBUTARY_DATABASE_URL: db.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64') };

  beforeAll(async () => {
    closeAlert = await startCloseAlert({ responses: 0, rateLimit: { capacity: 10_000, refillPerSecond: 10_000 } });
    typeform = await startTypeform({ responses: 0, forms: 1 });
    closeAlert.addResponses([
      closeAlertResponse(1, 'ann@example.com', 2, 2),
      closeAlertResponse(2, 'bob@example.com', 5, 3),
      closeAlertResponse(3, 'cy@example.com', 8, 1),
      closeAlertResponse(4, 'fay@example.com', 1, 45),
    ]);
    const formId = typeform.forms()[0]!.id;
    const add = (email: string, score: number, days: number) => typeform.addResponses({ count: 1, formId, email, score, submittedAt: new Date(Date.now() - days * DAY) });
    add('Ann@Example.com', 3, 1);
    add('bob@example.com', 6, 4);
    add('dee@example.com', 9, 1);
    add('eve@example.com', 4, 40);
    for (const args of [
      ['install', 'closealert', '--workspace', 'both', '--project', closeAlert.projectKey, '--token', closeAlert.token, '--api-url', closeAlert.url],
      ['install', 'typeform', '--workspace', 'both', '--token', typeform.token, '--api-url', typeform.url],
      ['sync', 'closealert', '--workspace', 'both'],
      ['sync', 'typeform', '--workspace', 'both'],
      ['profiles', 'create', 'Six or less anywhere', '--workspace', 'both', '--score', '<=6', '--within', '30d'],
    ]) {
      const run = await cli(env, args);
      expect(run.code, `${args.join(' ')}\n${run.stdout}\n${run.stderr}`).toBe(0);
    }
    // Five CLI processes in a row, each starting tsx: minutes on a busy 2-core machine.
  }, 400_000);

  afterAll(async () => {
    await closeAlert?.close();
    await typeform?.close();
  });

  it('lists a customer who answered in both apps once, and the csv names the app of each row', async () => {
    const run = await cli(env, ['profiles', 'run', 'Six or less anywhere', '--workspace', 'both', '--format', 'csv']);
    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = run.stdout.trim().split('\r\n').map((line) => line.split(','));
    const column = (name: string) => header!.indexOf(name);
    // ann: 2 in CloseAlert two days ago, 3 in Typeform a day ago (her newest); bob: 5 in CloseAlert
    // three days ago (his newest), 6 in Typeform four days ago. cy and dee scored higher; fay and eve
    // answered more than 30 days ago.
    expect(rows.map((row) => [row[column('email')], row[column('app')], row[column('score')]])).toEqual([
      ['ann@example.com', 'typeform', '3'],
      ['bob@example.com', 'closealert', '5'],
    ]);
    expect(run.stderr).toMatch(/2 members of "Six or less anywhere" across closealert, typeform/);

    const each = await cli(env, ['profiles', 'run', 'Six or less anywhere', '--workspace', 'both', '--format', 'csv', '--each-app', '--no-record']);
    expect(each.code, each.stderr).toBe(0);
    const [eachHeader, ...eachRows] = each.stdout.trim().split('\r\n').map((line) => line.split(','));
    const at = (name: string) => eachHeader!.indexOf(name);
    expect(eachRows.map((row) => [row[at('email')], row[at('app')], row[at('score')]])).toEqual([
      ['ann@example.com', 'typeform', '3'],
      ['ann@example.com', 'closealert', '2'],
      ['bob@example.com', 'closealert', '5'],
      ['bob@example.com', 'typeform', '6'],
    ]);
  });

  it('maps an extra metadata field with the mappings commands and remaps the stored responses from their raw copy', async () => {
    const add = await cli(env, ['mappings', 'add', 'typeform', 'metadata.platform', 'responses.platform', '--type', 'text', '--workspace', 'both']);
    expect(add.code, `${add.stdout}\n${add.stderr}`).toBe(0);
    const remap = await cli(env, ['remap', 'typeform', '--workspace', 'both', '--json']);
    expect(remap.code, remap.stderr).toBe(0);
    const result = JSON.parse(remap.stdout.slice(remap.stdout.indexOf('{'))) as { records: number; skipped: number; tables: Record<string, { updated: number }> };
    expect(result.records).toBe(4);
    expect(result.skipped).toBe(0);
    // Every Typeform response gains its platform; nothing else changes.
    expect(Object.entries(result.tables).filter(([, counts]) => counts.updated > 0)).toEqual([[expect.stringMatching(/responses$/), expect.objectContaining({ updated: 4 })]]);
  });

  it('narrows to Typeform, where the answers of score fields are the scores', async () => {
    const run = await cli(env, ['profiles', 'run', 'Six or less anywhere', '--workspace', 'both', '--format', 'csv', '--app', 'typeform']);
    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = run.stdout.trim().split('\r\n').map((line) => line.split(','));
    expect(rows.map((row) => [row[header!.indexOf('email')], row[header!.indexOf('app')]])).toEqual([
      ['ann@example.com', 'typeform'],
      ['bob@example.com', 'typeform'],
    ]);
  });
});
