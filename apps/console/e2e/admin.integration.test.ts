import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '@tributary/testing';
import { browserAvailable, CHROMIUM, screenshotDirectory, seriousAccessibilityViolations } from './browser.js';
import { sandboxSettings, startConsoleHarness, WORKSPACE, type ConsoleHarness } from './harness.js';

// The administrator's journeys in Chromium against the CloseAlert sandbox: a wrong token explained
// in the install dialog, then install from the store, sync with live progress, the run log and a
// run; mappings and remap; users (with the forced password change) and API keys; what a viewer
// sees and what the API answers when a viewer forces a change; the phone width; uninstall.
// The tests run in order: each builds on the app the one before installed.

const [db] = await testDatabases('console-admin');
const run = browserAvailable() || process.env.CI === 'true';
if (!run) console.warn(`Skipping the console's browser tests: ${CHROMIUM} is missing (apt-get install chromium).`);

const shots = screenshotDirectory(process.env.UPDATE_SCREENSHOTS === '1');

/** The settings of the install dialog, typed into the inputs the connector's schema generated. */
async function fillSettings(page: Page, settings: Record<string, string>) {
  const dialog = page.getByRole('dialog', { name: 'Install CloseAlert' });
  await dialog.getByLabel('Project key', { exact: true }).fill(settings.projectKey!);
  await dialog.getByLabel('API token', { exact: true }).fill(settings.apiToken!);
  await dialog.getByLabel('Base URL', { exact: true }).fill(settings.baseUrl!);
}

/** A token shaped like CloseAlert's (a JWT) with a signature CloseAlert never made. */
function forged(token: string): string {
  const [header, payload] = token.split('.');
  return `${header}.${payload}.${Buffer.from('not the signature of this token').toString('base64url')}`;
}

async function expectAccessible(page: Page) {
  const violations = await seriousAccessibilityViolations(page);
  expect(violations, JSON.stringify(violations, null, 1)).toEqual([]);
}

function apps(h: ConsoleHarness) {
  return h.store.listInstallations(WORKSPACE);
}

describe.runIf(run)('the console for administrators', () => {
  let h: ConsoleHarness;
  let admin: Page;
  beforeAll(async () => {
    h = await startConsoleHarness(db!, { responses: 60 });
    admin = await h.signedIn('admin');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('explains a wrong token in the install dialog, in words, and saves nothing', async () => {
    await admin.goto(`${h.url}/#/w/acme/store`);
    await admin.getByRole('heading', { name: 'CloseAlert' }).waitFor();
    await expectAccessible(admin);
    await admin.getByRole('button', { name: 'Install CloseAlert' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Install CloseAlert' });
    // A secret is a password input: what is typed is never shown.
    expect(await dialog.getByLabel('API token', { exact: true }).getAttribute('type')).toBe('password');
    // A well-formed token that CloseAlert did not sign: the source itself refuses it.
    await fillSettings(admin, { ...sandboxSettings(h.sandbox), apiToken: forged(h.sandbox.token) });
    await dialog.getByRole('button', { name: 'Check connection' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toMatch(/Nothing was saved/);
    // Words for a person, with what to do, not only a code.
    expect(text).toMatch(/token/i);
    expect(await alert.locator('.hint').count()).toBe(1);
    expect(await dialog.getByRole('button', { name: 'Install' }).isDisabled()).toBe(true);
    await expectAccessible(admin);
    expect(await apps(h)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('installs CloseAlert from the store after the connection check, syncs with live progress, and opens the run', async () => {
    await admin.getByRole('button', { name: 'Install CloseAlert' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Install CloseAlert' });
    // The dialog starts empty: nothing typed before, the wrong token included, is kept.
    expect(await dialog.getByLabel('API token', { exact: true }).inputValue()).toBe('');
    await fillSettings(admin, sandboxSettings(h.sandbox));
    await dialog.getByRole('radio', { name: 'Yearly' }).check();
    await dialog.getByLabel('PO number').fill('PO-77');
    await dialog.getByRole('button', { name: 'Check connection' }).click();
    await dialog.getByText('The connection works.').waitFor();
    expect(await dialog.getByRole('list', { name: 'Connection check notes' }).getByRole('listitem').count()).toBeGreaterThan(0);
    expect(await apps(h)).toEqual([]);
    await admin.screenshot({ path: join(shots, 'console-install.png') });
    await dialog.getByRole('button', { name: 'Install' }).click();
    await admin.getByText('CloseAlert is installed.').waitFor();
    const [installed] = await apps(h);
    expect(installed).toMatchObject({ app: 'closealert', status: 'active', billing: { plan: 'yearly', poNumber: 'PO-77' } });
    expect(await admin.content()).not.toContain(h.sandbox.token);

    await admin.getByRole('link', { name: 'Open CloseAlert' }).first().click();
    await admin.getByRole('heading', { name: 'closealert', level: 1 }).waitFor();
    await admin.getByText('Never synced yet').waitFor();
    await expectAccessible(admin);
    // Replacing the token checks it first: a refused one changes nothing, and neither is ever shown back.
    await admin.getByLabel('New API token').fill(forged(h.sandbox.token));
    await admin.getByRole('button', { name: 'Replace token' }).click();
    await admin.getByRole('alert').filter({ hasText: 'The token was not replaced.' }).waitFor();
    expect(await admin.getByLabel('New API token').inputValue()).toBe('');
    await admin.getByLabel('New API token').fill(h.sandbox.token);
    await admin.getByRole('button', { name: 'Replace token' }).click();
    await admin.getByText(/The token is replaced/).waitFor();
    await admin.getByRole('button', { name: 'Sync now' }).click();
    await admin.getByText(/Sync finished/).waitFor({ timeout: 60_000 });
    await admin.screenshot({ path: join(shots, 'console-app.png'), fullPage: true });
    await admin.getByRole('link', { name: 'Open the run' }).click();

    await admin.getByRole('heading', { name: /Run of/ }).waitFor();
    const customers = admin.getByRole('table', { name: /Customers this run saved/ });
    await customers.waitFor();
    expect(await customers.getByRole('row').count()).toBeGreaterThan(1);
    await expectAccessible(admin);
    await admin.screenshot({ path: join(shots, 'console-run.png'), fullPage: true });
  });

  it('reads the run log with its chart and filters', async () => {
    await admin.getByRole('link', { name: 'Run log' }).first().click();
    const table = admin.getByRole('table', { name: 'Runs, newest first' });
    await table.waitFor();
    expect(await table.getByRole('row').count()).toBe(2);
    await admin.getByRole('img', { name: /Records per run/ }).waitFor();
    await expectAccessible(admin);
    await admin.screenshot({ path: join(shots, 'console-runs.png'), fullPage: true });
    await admin.getByLabel('Status').selectOption('failed');
    await admin.getByText('No run matches these filters yet.').waitFor();
    expect(admin.url()).toContain('status=failed');
    await admin.getByLabel('Status').selectOption('succeeded');
    await table.waitFor();
    // A start date after today leaves nothing; today's runs are back when it is cleared.
    await admin.getByLabel('From').fill('2999-01-01');
    await admin.getByText('No run matches these filters yet.').waitFor();
    await admin.getByLabel('From').fill('');
    await table.waitFor();
    await table.getByRole('link').first().click();
    await admin.getByRole('heading', { name: 'Rejected records', exact: false }).waitFor();
  });

  it('edits a mapping, explains nothing needed forcing, and remaps with progress', async () => {
    await admin.goto(`${h.url}/#/w/acme/apps/closealert/mappings`);
    const table = admin.getByRole('table', { name: 'Data mappings of closealert' });
    await table.waitFor();
    await expectAccessible(admin);
    // The score of an answer is what score conditions read: switching it off is refused, inline, with the way to force it.
    await table.getByRole('button', { name: 'Switch off answers.score' }).click();
    const refusal = table.getByRole('alert').filter({ hasText: 'Not changed.' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/score/);
    await table.getByRole('button', { name: 'Change it anyway' }).waitFor();
    await expectAccessible(admin);
    // A form's name is read by nothing the app needs: it switches off and on again.
    await table.getByRole('button', { name: 'Switch off forms.name' }).click();
    await table.getByRole('button', { name: 'Switch on forms.name' }).click();
    await table.getByRole('button', { name: 'Switch off forms.name' }).waitFor();
    expect((await apps(h))[0]!.mappings.find((m) => m.target.table === 'forms' && m.target.column === 'name')?.enabled).toBe(true);
    // An extra field into a column that is not one of the app's tables is refused, in words, inline.
    await admin.getByRole('textbox', { name: 'Source field' }).fill('no.such.field');
    await admin.getByRole('textbox', { name: 'New column' }).fill('nowhere.extra');
    await admin.getByRole('button', { name: 'Add the field' }).click();
    await admin.getByRole('alert').filter({ hasText: 'Not changed.' }).waitFor();
    await admin.getByRole('button', { name: 'Remap stored responses' }).click();
    await admin.getByText(/Remap finished/).waitFor({ timeout: 60_000 });
  });

  it('adds a user whose one-time password is shown once and must be replaced at first sign-in', async () => {
    await admin.goto(`${h.url}/#/w/acme/users`);
    await admin.getByRole('table', { name: /Users of acme/ }).waitFor();
    await expectAccessible(admin);
    await admin.getByLabel('E-mail address').fill('newcomer@acme.example');
    await admin.getByRole('combobox', { name: 'Role', exact: true }).selectOption('marketer');
    await admin.getByRole('button', { name: 'Add user' }).click();
    const secret = admin.getByLabel('One-time password for newcomer@acme.example');
    const oneTime = await secret.inputValue();
    expect(oneTime.length).toBeGreaterThan(8);
    expect(await admin.getByLabel('Role of newcomer@acme.example').inputValue()).toBe('marketer');

    const newcomer = await h.browser.newPage();
    await newcomer.goto(`${h.url}/`);
    await newcomer.getByLabel('E-mail').fill('newcomer@acme.example');
    await newcomer.getByLabel('Password').fill(oneTime);
    await newcomer.getByRole('button', { name: 'Sign in' }).click();
    await newcomer.getByRole('heading', { name: 'Choose your password' }).waitFor();
    // Nothing else is reachable before the password is chosen.
    expect(await newcomer.getByRole('navigation', { name: 'Pages' }).count()).toBe(0);
    await expectAccessible(newcomer);
    await newcomer.getByLabel('One-time password').fill(oneTime);
    await newcomer.getByLabel('New password', { exact: true }).fill('short');
    await newcomer.getByLabel('New password again').fill('short');
    await newcomer.getByRole('button', { name: 'Save my password' }).click();
    await newcomer.getByRole('alert').filter({ hasText: 'at least 12' }).waitFor();
    await newcomer.getByLabel('New password', { exact: true }).fill('river stone lantern maple');
    await newcomer.getByLabel('New password again').fill('river stone lantern maple');
    await newcomer.getByRole('button', { name: 'Save my password' }).click();
    await newcomer.getByRole('navigation', { name: 'Pages' }).waitFor();
    await newcomer.reload();
    await newcomer.getByRole('navigation', { name: 'Pages' }).waitFor();
    await newcomer.context().close();

    await admin.reload();
    const role = admin.getByLabel('Role of newcomer@acme.example');
    await role.selectOption('viewer');
    await expect.poll(async () => (await h.auth.listUsers(WORKSPACE)).find((u) => u.email === 'newcomer@acme.example')?.memberships[0]?.role).toBe('viewer');
  });

  it('creates an API key whose secret is shown once, and revokes it', async () => {
    await admin.goto(`${h.url}/#/w/acme/api-keys`);
    await admin.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await admin.getByLabel('Name').fill('nightly export');
    await admin.getByRole('button', { name: 'Create key' }).click();
    const secret = await admin.getByLabel('Secret of the key nightly export').inputValue();
    expect(secret).toMatch(/^trb_/);
    expect((await fetch(`${h.url}/auth/me`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
    await expectAccessible(admin);
    admin.once('dialog', (d) => void d.accept());
    await admin.getByRole('button', { name: 'Revoke nightly export' }).click();
    await admin.getByText(/^Revoked/).waitFor();
    expect((await fetch(`${h.url}/auth/me`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
    await admin.reload();
    expect(await admin.content()).not.toContain(secret);
  });

  it('shows the invoices and the audit log of the changes made', async () => {
    await admin.goto(`${h.url}/#/w/acme/invoices`);
    await admin.getByRole('heading', { name: 'Invoices' }).waitFor();
    await admin.locator('.empty, table').first().waitFor();
    await expectAccessible(admin);
    await admin.goto(`${h.url}/#/w/acme/audit`);
    const audit = admin.getByRole('table', { name: 'Audit log, newest first' });
    await audit.waitFor();
    for (const action of ['installation.install', 'installation.sync', 'user.create', 'api-key.revoke'])
      expect(await audit.getByText(action, { exact: true }).count()).toBeGreaterThan(0);
    await expectAccessible(admin);
  });

  it('shows a viewer no install, sync, uninstall or mapping controls, and the API refuses a forced change', async () => {
    const viewer = await h.signedIn('viewer');
    await viewer.goto(`${h.url}/#/w/acme/store`);
    await viewer.getByRole('heading', { name: 'CloseAlert' }).waitFor();
    expect(await viewer.getByRole('button', { name: /Install/ }).count()).toBe(0);
    await viewer.goto(`${h.url}/#/w/acme/apps/closealert`);
    await viewer.getByText('Last run').waitFor();
    for (const name of [/Sync now/, /Uninstall/, /Replace token/, /Save billing/])
      expect(await viewer.getByRole('button', { name }).count()).toBe(0);
    await expectAccessible(viewer);
    await viewer.goto(`${h.url}/#/w/acme/apps/closealert/mappings`);
    await viewer.getByRole('table', { name: 'Data mappings of closealert' }).waitFor();
    expect(await viewer.getByRole('button').filter({ hasText: /Change|Switch|Reset|Remap|Add/ }).count()).toBe(0);
    await expectAccessible(viewer);

    const forced = await viewer.evaluate(async () => {
      const me = (await (await fetch('/auth/me')).json()) as { csrfToken: string };
      const answers: { status: number; code: string }[] = [];
      for (const [method, path] of [
        ['POST', '/workspaces/acme/apps/closealert/sync'],
        ['DELETE', '/workspaces/acme/apps/closealert'],
        ['POST', '/workspaces/acme/apps/closealert/mappings/reset'],
      ] as const) {
        const answer = await fetch(path, { method, headers: { 'x-csrf-token': me.csrfToken } });
        answers.push({ status: answer.status, code: ((await answer.json()) as { code: string }).code });
      }
      return answers;
    });
    expect(forced).toEqual([
      { status: 403, code: 'API_ROLE_REQUIRED' },
      { status: 403, code: 'API_ROLE_REQUIRED' },
      { status: 403, code: 'API_ROLE_REQUIRED' },
    ]);
    expect((await apps(h))[0]?.status).toBe('active');
    await viewer.context().close();
  });

  it('keeps the store and the run log usable on a 390-pixel phone', async () => {
    const phone = await h.signedIn('admin', { width: 390, height: 844 });
    const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await phone.goto(`${h.url}/#/w/acme/store`);
    await phone.getByRole('heading', { name: 'Typeform' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await phone.getByRole('button', { name: 'Install Typeform' }).click();
    await phone.getByRole('dialog', { name: 'Install Typeform' }).getByLabel('Token', { exact: true }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await phone.keyboard.press('Escape');
    await phone.goto(`${h.url}/#/w/acme/runs`);
    await phone.getByRole('table', { name: 'Runs, newest first' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await phone.getByLabel('Status').selectOption('succeeded');
    await phone.getByRole('table', { name: 'Runs, newest first' }).waitFor();
    await expectAccessible(phone);
    await phone.screenshot({ path: join(shots, 'console-runs-phone.png'), fullPage: true });
    await phone.context().close();
  });

  it('uninstalls with purge after a confirmation that names what is deleted', async () => {
    await admin.goto(`${h.url}/#/w/acme/apps/closealert`);
    await admin.getByRole('button', { name: 'Uninstall closealert' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Uninstall closealert' });
    await dialog.getByRole('radio', { name: 'Delete the data (purge)' }).check();
    const warning = dialog.locator('#uninstall-consequences');
    await warning.getByText('forms', { exact: true }).waitFor();
    expect(await warning.textContent()).toMatch(/cannot be undone/);
    await expectAccessible(admin);
    await dialog.getByRole('button', { name: "Uninstall and delete closealert's data" }).click();
    await admin.getByRole('heading', { name: 'Installed apps' }).waitFor();
    await admin.getByText(/data deleted/).waitFor();
    const [gone] = await apps(h);
    expect(gone).toMatchObject({ status: 'uninstalled' });
    expect(gone!.purgedAt).toBeInstanceOf(Date);
  });
});
