import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '@tributary/testing';
import { browserAvailable, CHROMIUM, seriousAccessibilityViolations } from './browser.js';
import { startConsoleHarness, type ConsoleHarness } from './harness.js';

// The console's shell in Chromium: served at `/` by the API server, sign-in, the menu per role,
// the workspace switcher and sign-out; and an unknown path is still the API's JSON 404.

const [db] = await testDatabases('console-shell');
const run = browserAvailable() || process.env.CI === 'true';
if (!run) console.warn(`Skipping the console's browser tests: ${CHROMIUM} is missing (apt-get install chromium).`);

describe.runIf(run)('the console shell', () => {
  let h: ConsoleHarness;
  beforeAll(async () => {
    h = await startConsoleHarness(db!, { responses: 20 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is served at / next to the API, whose unknown paths stay JSON', async () => {
    const page = await fetch(`${h.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${h.url}${script}`)).status).toBe(200);
    const missing = await fetch(`${h.url}/no/such/page`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('API_ROUTE_NOT_FOUND');
  });

  it('refuses a wrong password in words, then signs in and out', async () => {
    const page = await h.browser.newPage();
    await page.goto(`${h.url}/`);
    await page.getByLabel('E-mail').fill(h.users.admin.email);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/password|sign/i);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    await page.getByLabel('Password').fill(h.users.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    expect(page.url()).toContain('#/w/acme/');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('shows each role only the pages it may use', async () => {
    const menu = async (role: 'viewer' | 'marketer' | 'admin') => {
      const page = await h.signedIn(role);
      const items = await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
      await page.context().close();
      return items;
    };
    expect(await menu('admin')).toEqual(expect.arrayContaining(['Invoices', 'Audit log', 'Users', 'API keys', 'Profiles']));
    const viewer = await menu('viewer');
    expect(viewer).toContain('Run log');
    expect(viewer).not.toContain('Users');
    expect(viewer).not.toContain('Audit log');
  });
});
