import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxFormResponse } from '@tributary/closealert-sandbox';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { runCli } from './test-support/cli.js';

// `tributary customers find|forget|unforget|receipts` and the retention setting end to end through
// the CLI, on both databases, against the CloseAlert sandbox.

const databases = await testDatabases('cli-customers');
const PERSON = 'dora.gdpr@example.com';

describe.each(databases)('customers and retention on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent', TRIBUTARY_USER: 'dpo' };
  const ws = 'gdpr-ws';
  const cli = (...args: string[]) => runCli(args, env);
  let nextId = 800_000;
  const responseOf = (email: string): SandboxFormResponse => {
    const template = sandbox.responses()[0]!;
    nextId += 1;
    return { ...structuredClone(template), id: nextId, email, created_at: new Date(Date.now() - 60_000).toISOString().slice(0, 19) };
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 60, spanDays: 10, seed: 3 });
    sandbox.addResponses([responseOf(' Dora.GDPR@example.com'), responseOf(PERSON)]);
    const install = await cli('install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '30', '--retention-days', '400');
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('older than 400 days');
    const sync = await cli('sync', '--workspace', ws);
    expect(sync.code, sync.stderr + sync.stdout).toBe(0);
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('sets retention at install, changes it, switches it off, and `apps` shows it', async () => {
    const apps = JSON.parse((await cli('apps', '--workspace', ws, '--json')).stdout) as { retentionDays: number | null }[];
    expect(apps[0]?.retentionDays).toBe(400);
    const changed = await cli('app', 'retention', 'closealert', '--workspace', ws, '--days', '30', '--json');
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ retentionDays: 30, changed: true });
    expect((await cli('apps', '--workspace', ws)).stdout).toContain('retention: 30 days');
    const off = await cli('app', 'retention', 'closealert', '--workspace', ws, '--no-days', '--json');
    expect(JSON.parse(off.stdout)).toMatchObject({ retentionDays: null, changed: true });
    expect((await cli('apps', '--workspace', ws)).stdout).toContain('retention: off');
    const bad = await cli('app', 'retention', 'closealert', '--workspace', ws, '--days', 'ten');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--days');
  });

  it('finds the person in any case or spacing, forgets them with a receipt that holds no address, and lifts it', async () => {
    const found = await cli('customers', 'find', '  DORA.gdpr@Example.com ', '--workspace', ws, '--json');
    expect(found.code, found.stderr).toBe(0);
    const report = JSON.parse(found.stdout) as { email: string; apps: { records: { linked: Record<string, unknown[]> }[]; contacts: unknown[]; runLog: unknown[] }[] };
    expect(report.email).toBe(PERSON);
    expect(report.apps[0]?.records).toHaveLength(2);
    expect(report.apps[0]?.records[0]?.linked['answers']?.length).toBeGreaterThan(0);
    expect(report.apps[0]?.contacts).toHaveLength(1);
    expect(report.apps[0]?.runLog.length).toBeGreaterThanOrEqual(2);
    expect((await cli('customers', 'find', PERSON)).stdout).toContain(`${PERSON}: 2 record(s) in 1 app(s)`);

    const forgot = await cli('customers', 'forget', PERSON, '--workspace', ws, '--json');
    expect(forgot.code, forgot.stderr).toBe(0);
    const { receipt } = JSON.parse(forgot.stdout) as { receipt: { id: string; counts: Record<string, number>; erasedBy: string } };
    expect(receipt.counts['closealert.form_responses']).toBe(2);
    expect(receipt.erasedBy).toBe('dpo');
    expect(forgot.stdout.toLowerCase()).not.toContain(PERSON);
    expect(forgot.stderr).toContain(`tributary customers unforget --receipt ${receipt.id}`);
    const receipts = await cli('customers', 'receipts', '--json');
    expect(JSON.parse(receipts.stdout)).toEqual([expect.objectContaining({ id: receipt.id, workspace: ws })]);
    expect(receipts.stdout.toLowerCase()).not.toContain(PERSON);
    // Forgotten again (the operator was not sure): the standing receipt, not a second one that would outlive lifting the first.
    const again = await cli('customers', 'forget', ` ${PERSON.toUpperCase()}`, '--workspace', ws, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyForgotten: true, receipt: { id: receipt.id } });
    expect(again.stderr).toContain('forgotten in workspace "gdpr-ws" already');
    expect(JSON.parse((await cli('customers', 'receipts', '--json')).stdout)).toHaveLength(1);

    sandbox.addResponses([responseOf(PERSON.toUpperCase())]);
    const sync = await cli('sync', '--workspace', ws);
    expect(sync.code, sync.stderr + sync.stdout).toBe(0);
    // The look-back reads the two erased responses again, and the new one: none of them is stored.
    expect(sync.stdout).toContain('3 records of forgotten customers skipped');
    expect(sync.stdout).toContain('3 fetched, 0 new');
    const after = JSON.parse((await cli('customers', 'find', PERSON, '--json')).stdout) as { apps: unknown[]; suppressedBy: { id: string }[] };
    expect(after.apps).toEqual([]);
    expect(after.suppressedBy.map((r) => r.id)).toEqual([receipt.id]);

    const lifted = await cli('customers', 'unforget', '--receipt', receipt.id);
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(lifted.stdout).toContain('later syncs import that customer again');
    expect((await cli('customers', 'unforget', '--receipt', receipt.id)).stdout).toContain('was lifted already');
    const unknown = await cli('customers', 'unforget', '--receipt', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ERASURE_RECEIPT_NOT_FOUND');
  });

  it('lets only an administrator of the workspace erase, lift erasures, or send profiles anywhere', async () => {
    expect((await cli('profiles', 'create', 'Unhappy', '--workspace', ws, '--score', '<3', '--within', '30d')).code).toBe(0);
    expect((await cli('destinations', 'add', 'view', 'suppression', '--workspace', ws)).code).toBe(0);
    expect((await cli('profiles', 'activate', 'Unhappy', '--destination', 'suppression', '--workspace', ws)).code).toBe(0);
    const forgot = JSON.parse((await cli('customers', 'forget', 'someone.else@example.com', '--workspace', ws, '--json')).stdout) as { receipt: { id: string } };
    const intruder = (...args: string[]) => runCli(args, { ...env, TRIBUTARY_USER: 'intruder' });
    for (const args of [
      ['customers', 'forget', PERSON, '--workspace', ws],
      ['customers', 'forget', PERSON],
      ['customers', 'unforget', '--receipt', forgot.receipt.id],
      ['destinations', 'add', 'view', 'other-view', '--workspace', ws, '--set', 'prefix=other_'],
      ['destinations', 'remove', 'suppression', '--workspace', ws],
      ['profiles', 'deactivate', 'Unhappy', '--destination', 'suppression', '--workspace', ws],
      ['profiles', 'activate', 'Unhappy', '--destination', 'suppression', '--workspace', ws],
    ]) {
      const refused = await intruder(...args);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr, args.join(' ')).toContain('NOT_WORKSPACE_ADMIN');
      expect(refused.stderr).toContain('"intruder" may not');
    }
    // Nothing changed: the destination, its activation and the receipt stand as the administrator left them.
    const destinations = JSON.parse((await cli('destinations', 'list', '--workspace', ws, '--json')).stdout) as { name: string; profiles: { profile: string }[] }[];
    expect(destinations).toMatchObject([{ name: 'suppression', profiles: [{ profile: 'Unhappy' }] }]);
    const receipts = JSON.parse((await cli('customers', 'receipts', '--json')).stdout) as { id: string; liftedAt?: string }[];
    expect(receipts.find((r) => r.id === forgot.receipt.id)?.liftedAt).toBeUndefined();
    // Reading stays open to every operator.
    expect((await intruder('customers', 'receipts')).code).toBe(0);
  });

  it('applies the retention period after a manual sync too, for operators who run no runner', async () => {
    expect((await cli('app', 'retention', 'closealert', '--workspace', ws, '--days', '1')).code).toBe(0);
    const sync = await cli('sync', '--workspace', ws);
    expect(sync.code, sync.stderr + sync.stdout).toBe(0);
    expect(sync.stdout).toMatch(/Retention: deleted [1-9]\d* record\(s\) with \d+ linked row\(s\)/);
    const again = await cli('sync', '--workspace', ws, '--json');
    const [run] = JSON.parse(again.stdout) as { retention: { records: number; cutoff: string } }[];
    expect(run?.retention.records).toBe(0);
    expect(Date.parse(run!.retention.cutoff)).toBeGreaterThan(Date.now() - 2 * 86_400_000);
    expect((await cli('app', 'retention', 'closealert', '--workspace', ws, '--no-days')).code).toBe(0);
    const off = JSON.parse((await cli('sync', '--workspace', ws, '--json')).stdout) as Record<string, unknown>[];
    expect(off[0]).not.toHaveProperty('retention');
  });
});
