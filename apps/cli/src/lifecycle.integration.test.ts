import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tributary/closealert-sandbox';
import { produceInvoices } from '@tributary/runner';
import { createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { CONNECTORS } from './connectors.js';
import { readEnv } from './env.js';
import { cipherFor, loadSecretKeys } from './secret-key.js';
import { openRaw, runCli, type RawConnection } from './test-support/cli.js';

// Billing and uninstalling through the CLI: a plan and PO number at install, changed later,
// invoices produced by the runner's clock and listed per workspace; uninstalling stops syncs and
// invoices, keeps the data or purges exactly the app's rows and, last of all, its tables.

const databases = await testDatabases('cli-lifecycle');
const DAY = 24 * 60 * 60 * 1000;

interface InvoiceJson {
  plan: string;
  periodStart: string;
  periodEnd: string;
  amount: string;
  amountMinor: number;
  poNumber?: string;
}

describe.each(databases)('billing and uninstall on $dialect', (database: TestDatabase) => {
  let sandbox: Sandbox;
  let raw: RawConnection;
  let store: TypeOrmStore;
  const pg = database.dialect === 'postgres';
  const env = { TRIBUTARY_DATABASE_URL: database.url, TRIBUTARY_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' };
  const cli = (...args: string[]) => runCli(args, env);
  const connectors = [...CONNECTORS.values()];
  const installIn = (ws: string, ...extra: string[]) =>
    cli('install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--backfill-days', '30', ...extra);
  const invoicesOf = async (ws: string): Promise<InvoiceJson[]> => {
    const run = await cli('invoices', '--workspace', ws, '--json');
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as InvoiceJson[];
  };
  const count = async (table: string, installationId?: string): Promise<number> => {
    const rows = await raw.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${raw.own(`closealert_${table}`)}${installationId ? ' WHERE installation_id = ?' : ''}`,
      installationId ? [installationId] : [],
    );
    return Number(rows[0]!.n);
  };
  const tableExists = async (bare: string) =>
    (pg
      ? await raw.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = 'tributary' AND table_name = ?`, [bare])
      : await raw.query(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, [`tributary_${bare}`])
    ).length > 0;
  const userTable = pg ? 'public.customers' : 'customers';
  const dumpUserTable = async () => JSON.stringify(await raw.query(`SELECT * FROM ${userTable} ORDER BY id`));

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 60, spanDays: 10, seed: 9 });
    raw = await openRaw(database);
    await raw.query(`CREATE TABLE ${userTable} (id integer PRIMARY KEY, email text NOT NULL)`);
    await raw.query(`INSERT INTO ${userTable} (id, email) VALUES (1, 'ann@example.com'), (2, 'bob@example.com')`);
    store = await createStore({ url: database.url, cipher: cipherFor(loadSecretKeys(readEnv(env))) });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await raw?.close();
    await sandbox?.close();
  });

  it('takes a plan and PO number at install, invoices by the runner clock, and applies a change from the next period', async () => {
    const ws = 'billed';
    const install = await installIn(ws, '--plan', 'monthly', '--po', 'PO-2024-17');
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('Billing: monthly plan, EUR 25.00 per month, PO PO-2024-17');
    const installation = (await store.findInstallation(ws, 'closealert'))!;
    expect(installation.billing).toEqual({ plan: 'monthly', poNumber: 'PO-2024-17' });
    expect(await invoicesOf(ws)).toEqual([]);

    await produceInvoices({ store, now: new Date(installation.createdAt.getTime() + 40 * DAY), connectors });
    const monthly = await invoicesOf(ws);
    expect(monthly.map((i) => [i.plan, i.amount, i.poNumber])).toEqual([
      ['monthly', 'EUR 25.00', 'PO-2024-17'],
      ['monthly', 'EUR 25.00', 'PO-2024-17'],
    ]);
    expect(monthly[0]!.periodStart).toBe(installation.createdAt.toISOString());
    const text = await cli('invoices', '--workspace', ws);
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
    expect(text.stdout).toContain('EUR 25.00  PO PO-2024-17');

    const shown = await cli('app', 'billing', 'closealert', '--workspace', ws);
    expect(shown.stdout).toContain('monthly plan, EUR 25.00 per month, PO PO-2024-17');
    const changed = await cli('app', 'billing', 'closealert', '--workspace', ws, '--plan', 'yearly', '--no-po');
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('yearly plan, EUR 250.00 per year in advance');
    const refused = await cli('app', 'billing', 'closealert', '--workspace', ws, '--plan', 'weekly');
    expect(refused.code).toBe(2);
    expect((await store.findInstallation(ws, 'closealert'))!.billing).toEqual({ plan: 'yearly' });

    await produceInvoices({ store, now: new Date(installation.createdAt.getTime() + 70 * DAY), connectors });
    const after = await invoicesOf(ws);
    expect(after).toHaveLength(3);
    expect(after[2]).toMatchObject({ plan: 'yearly', amountMinor: 25000, periodStart: monthly[1]!.periodEnd });
    expect(after[2]).not.toHaveProperty('poNumber');

    const apps = JSON.parse((await cli('apps', '--workspace', ws, '--json')).stdout) as { billing: unknown }[];
    expect(apps[0]!.billing).toEqual({ plan: 'yearly' });
    const refusedPlan = await installIn('other-plan', '--plan', 'weekly');
    expect(refusedPlan.code).toBe(2);
    expect(refusedPlan.stderr).toContain('billing settings');
    expect(await store.findInstallation('other-plan', 'closealert')).toBeUndefined();
  });

  it('stops syncs and invoices on uninstall, keeps the data without --purge, and purges exactly the app rows and tables', async () => {
    const userBefore = await dumpUserTable();
    for (const ws of ['keeper', 'purger']) {
      expect((await installIn(ws)).code).toBe(0);
      expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    }
    const keeper = (await store.findInstallation('keeper', 'closealert'))!;
    const purger = (await store.findInstallation('purger', 'closealert'))!;
    const keeperRows = await count('form_responses', keeper.id);
    expect(keeperRows).toBe(60);
    const billed = await store.findInstallation('billed', 'closealert');

    const kept = await cli('uninstall', 'closealert', '--workspace', 'keeper');
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain('Its data stays in place');
    expect(await count('form_responses', keeper.id)).toBe(keeperRows);
    expect(await count('answers', keeper.id)).toBeGreaterThan(0);
    const refusedSync = await cli('sync', '--workspace', 'keeper');
    expect(refusedSync.code).toBe(2);
    expect(refusedSync.stderr).toContain('APP_NOT_INSTALLED');
    const [app] = JSON.parse((await cli('apps', '--workspace', 'keeper', '--json')).stdout) as { status: string; nextRunAt: string | null }[];
    expect(app).toMatchObject({ status: 'uninstalled', nextRunAt: null });
    expect(await raw.query(`SELECT 1 FROM ${raw.own('installation_secrets')} WHERE installation_id = ?`, [keeper.id])).toEqual([]);

    // Only the month it was installed in is billed, however far the clock runs after the uninstall.
    await produceInvoices({ store, now: new Date(Date.now() + 400 * DAY), connectors });
    const keeperInvoices = await store.listInvoices({ installationId: keeper.id });
    expect(keeperInvoices.map((i) => i.periodStart)).toEqual([keeper.createdAt]);

    const purged = await cli('uninstall', 'closealert', '--workspace', 'purger', '--purge');
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stdout).toMatch(/Purged \d+ row\(s\)/);
    for (const table of ['form_responses', 'answers', 'questions', 'forms', 'contacts']) expect(await count(table, purger.id)).toBe(0);
    expect(await count('form_responses', keeper.id)).toBe(keeperRows);
    expect(await raw.query(`SELECT 1 FROM ${raw.own('checkpoints')} WHERE installation_id = ?`, [purger.id])).toEqual([]);
    // The run log stays, without the customers it listed.
    const logs = JSON.parse((await cli('logs', '--workspace', 'purger', '--json')).stdout) as { saved: unknown[] }[];
    expect(logs).toHaveLength(1);
    expect(logs[0]!.saved).toEqual([]);
    expect(await tableExists('closealert_form_responses')).toBe(true);

    // The data the keeper kept can be purged later. The billed installation is still active, so the tables stay.
    const later = await cli('uninstall', 'closealert', '--workspace', 'keeper', '--purge');
    expect(later.code, later.stderr).toBe(0);
    expect(await count('form_responses', keeper.id)).toBe(0);
    expect(await tableExists('closealert_form_responses')).toBe(true);

    // Once no installation is active or has rows, the app's tables go, and nothing else does.
    expect((await cli('uninstall', 'closealert', '--workspace', 'billed', '--purge')).code).toBe(0);
    for (const table of ['forms', 'mailings', 'groups', 'form_responses', 'questions', 'answers', 'contacts']) {
      expect(await tableExists(`closealert_${table}`)).toBe(false);
    }
    expect(await tableExists('installations')).toBe(true);
    expect(await tableExists('invoices')).toBe(true);
    expect(await dumpUserTable()).toBe(userBefore);
    // Invoices already issued stay: they are accounting records.
    expect((await store.listInvoices({ installationId: billed!.id })).length).toBeGreaterThan(0);

    // Installing again provisions the tables again.
    expect((await installIn('keeper')).code).toBe(0);
    expect((await cli('sync', '--workspace', 'keeper')).code).toBe(0);
    expect(await count('form_responses')).toBe(60);
  });

  it('lets only administrators of the workspace install and remove apps', async () => {
    const as = (user: string, ...args: string[]) => runCli(args, { ...env, TRIBUTARY_USER: user });
    const ws = 'guarded';
    const install = await as('alice@example.com', 'install', 'closealert', '--workspace', ws, '--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('as "alice@example.com"');

    const refused = await as('bob', 'uninstall', 'closealert', '--workspace', ws, '--purge');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('"bob" may not remove closealert: only an administrator of workspace "guarded" may ("alice@example.com")');
    expect(refused.stderr).toContain('tributary workspace admins add "bob" --workspace guarded');
    expect((await store.findInstallation(ws, 'closealert'))?.status).toBe('active');
    expect((await as('bob', 'workspace', 'admins', 'add', 'bob', '--workspace', ws)).code).toBe(2);

    const added = await as('alice@example.com', 'workspace', 'admins', 'add', 'bob', '--workspace', ws);
    expect(added.code, added.stderr).toBe(0);
    const listed = JSON.parse((await as('bob', 'workspace', 'admins', '--workspace', ws, '--json')).stdout) as { user: string; addedBy: string | null }[];
    expect(listed.map((a) => [a.user, a.addedBy])).toEqual([
      ['alice@example.com', null],
      ['bob', 'alice@example.com'],
    ]);
    const removed = await as('bob', 'uninstall', 'closealert', '--workspace', ws);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await store.findInstallation(ws, 'closealert')).toBeUndefined();
    const last = await as('bob', 'workspace', 'admins', 'remove', 'alice@example.com', '--workspace', ws);
    expect(last.code, last.stderr).toBe(0);
    const lastOne = await as('bob', 'workspace', 'admins', 'remove', 'bob', '--workspace', ws);
    expect(lastOne.code).toBe(2);
    expect(lastOne.stderr).toContain('last administrator');
  });

  it('has doctor point out a workspace nobody administers, until someone claims it', async () => {
    const ws = 'unclaimed';
    // Installed before administrators existed (no actor): nobody administers the workspace.
    const connector = CONNECTORS.get('closealert')!;
    await store.install({
      workspace: ws,
      app: 'closealert',
      config: { projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url },
      secretFields: connector.secrets,
      mappings: [...connector.defaultMappings],
      dataModel: connector.dataModel,
    });
    const doctor = await runCli(['doctor', '--workspace', ws], { ...env, TRIBUTARY_USER: 'carol' });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`ATTENTION  ${ws}: Workspace "${ws}" has no administrator`);
    expect(doctor.stdout).toContain(`tributary workspace admins add <your name> --workspace ${ws}`);
    const claim = await runCli(['workspace', 'admins', 'add', 'carol', '--workspace', ws], { ...env, TRIBUTARY_USER: 'carol' });
    expect(claim.code, claim.stderr).toBe(0);
    const after = await runCli(['doctor', '--workspace', ws], { ...env, TRIBUTARY_USER: 'carol' });
    expect(after.stdout).not.toContain('has no administrator');
  });

  it('reattaches the data an uninstall kept when the app is installed again, instead of a second copy', async () => {
    const ws = 'comeback';
    expect((await installIn(ws)).code).toBe(0);
    expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    const first = (await store.findInstallation(ws, 'closealert'))!;
    const rows = await store.countRows(first.id);
    expect(Math.min(...Object.values(rows))).toBeGreaterThan(0);
    const contactsOf = (id: string) => raw.query(`SELECT email_normalized, contact_id FROM ${raw.own('closealert_contacts')} WHERE installation_id = ? ORDER BY email_normalized`, [id]);
    const contacts = await contactsOf(first.id);
    const checkpoint = await store.readCheckpoint(first.id, 'form_responses');
    const tableRows = await count('form_responses');
    expect((await cli('uninstall', 'closealert', '--workspace', ws)).code).toBe(0);

    const again = await installIn(ws);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Reattached the data kept when it was uninstalled on `);
    expect(again.stdout).toContain(`${Object.values(rows).reduce((n, c) => n + c, 0)} row(s), the same contact ids and checkpoint`);
    const second = (await store.findInstallation(ws, 'closealert'))!;
    expect(second.id).toBe(first.id);
    expect(await store.readCheckpoint(second.id, 'form_responses')).toEqual(checkpoint);
    expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    expect(await store.countRows(second.id)).toEqual(rows);
    expect(await contactsOf(second.id)).toEqual(contacts);
    expect(await count('form_responses')).toBe(tableRows);
  });

  it('reattaches kept data only to an installation of the same source; another one starts afresh and says where the old data is', async () => {
    const ws = 'other-source';
    expect((await installIn(ws, '--lookback', '30')).code).toBe(0);
    expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    const first = (await store.findInstallation(ws, 'closealert'))!;
    const firstCheckpoint = await store.readCheckpoint(first.id, 'form_responses');
    expect((await cli('uninstall', 'closealert', '--workspace', ws)).code).toBe(0);

    // Another form filter reads another source: the kept checkpoint would skip its history.
    const form = String(sandbox.responses()[0]!.form.id);
    const other = await installIn(ws, '--form', form);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).not.toContain('Reattached');
    expect(other.stdout).toContain(`Data kept from 1 earlier installation(s) of other sources (${first.id}) stays apart`);
    const second = (await store.findInstallation(ws, 'closealert'))!;
    expect(second.id).not.toBe(first.id);
    expect(await store.readCheckpoint(second.id, 'form_responses')).toBeNull();
    expect(await store.readCheckpoint(first.id, 'form_responses')).toEqual(firstCheckpoint);

    // The same source with other settings (a longer look-back) takes its data back.
    expect((await cli('uninstall', 'closealert', '--workspace', ws, '--purge')).code).toBe(0);
    const same = await installIn(ws, '--lookback', '2h');
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('Reattached the data kept');
    expect((await store.findInstallation(ws, 'closealert'))!.id).toBe(first.id);
  });

  it('purges the profile memberships with the data; a second purge and a profile run on purged data exit 2 with a sentence', async () => {
    const ws = 'forgotten';
    expect((await installIn(ws)).code).toBe(0);
    expect((await cli('sync', '--workspace', ws)).code).toBe(0);
    expect((await cli('profiles', 'create', 'Everyone', '--workspace', ws, '--score', '>=0')).code).toBe(0);
    const run = await cli('profiles', 'run', 'Everyone', '--workspace', ws, '--format', 'json');
    expect(run.code, run.stderr).toBe(0);
    const membersOf = () =>
      raw.query<{ email_normalized: string }>(
        `SELECT m.email_normalized FROM ${raw.own('profile_members')} m JOIN ${raw.own('profiles')} p ON p.id = m.profile_id JOIN ${raw.own('workspaces')} w ON w.id = p.workspace_id WHERE w.name = ?
         UNION ALL
         SELECT c.email_normalized FROM ${raw.own('profile_membership_changes')} c JOIN ${raw.own('profile_evaluations')} e ON e.id = c.evaluation_id JOIN ${raw.own('profiles')} p ON p.id = e.profile_id JOIN ${raw.own('workspaces')} w ON w.id = p.workspace_id WHERE w.name = ?`,
        [ws, ws],
      );
    expect((await membersOf()).length).toBeGreaterThan(0);

    const purge = await cli('uninstall', 'closealert', '--workspace', ws, '--purge');
    expect(purge.code, purge.stderr).toBe(0);
    expect(await membersOf()).toEqual([]);

    const twice = await cli('uninstall', 'closealert', '--workspace', ws, '--purge');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(`was uninstalled from workspace "${ws}" and its data purged on `);
    expect(twice.stderr).toContain('nothing is left to delete');
    const profile = await cli('profiles', 'run', 'Everyone', '--workspace', ws);
    expect(profile.code).toBe(2);
    expect(profile.stderr).toContain(`closealert was uninstalled from workspace "${ws}" and its data purged: there is nothing to evaluate`);
    expect(profile.stderr).not.toContain('no such table');

    // A purge leaves nothing to reattach: installing again starts afresh.
    const fresh = await installIn(ws);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).not.toContain('Reattached');
  });

  it('says what to do when the app is not installed', async () => {
    const result = await cli('uninstall', 'closealert', '--workspace', 'nobody');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('There is no workspace "nobody"; workspaces: ');
  });
});
