import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '@tributary/testing';
import { browserAvailable, CHROMIUM, screenshotDirectory } from './browser.js';
import { startConsoleHarness, WORKSPACE, type ConsoleHarness } from './harness.js';
import { adminCaller, installAndSync, MANUAL_PROFILE, syncAndWait } from './seed.js';

// The README's pictures of the console, taken on synced sandbox data. `UPDATE_SCREENSHOTS=1`
// writes them into docs/screenshots/; otherwise they go to a temporary folder, so an ordinary test
// run still walks every page and leaves the checkout as it was.

const [db] = await testDatabases('console-screenshots');
const run = browserAvailable() || process.env.CI === 'true';
if (!run) console.warn(`Skipping the console's browser tests: ${CHROMIUM} is missing (apt-get install chromium).`);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PROFILE = 'Unhappy last 10 days';

/** Waits until the page has drawn its data: a heading or notice in main, and nothing left loading. */
async function settled(page: Page): Promise<void> {
  await page.locator('main h1, main .note').first().waitFor();
  await expect.poll(() => page.locator('.loading, .updating').count()).toBe(0);
}

describe.runIf(run)('screenshots of the console', () => {
  let h: ConsoleHarness;
  let runId: string;
  const directory = screenshotDirectory(process.env.UPDATE_SCREENSHOTS === '1');
  beforeAll(async () => {
    h = await startConsoleHarness(db!, { responses: 400 });
    const api = await adminCaller(h);
    runId = await installAndSync(h, api);
    await api.call('POST', `/workspaces/${WORKSPACE}/profiles`, { ...MANUAL_PROFILE, name: PROFILE, description: 'Keep them out of the newsletter for a while' });
    await api.call('POST', `/workspaces/${WORKSPACE}/profiles/${encodeURIComponent(PROFILE)}/run`);
    // Two hourly runs more, so that the charts have something to show.
    for (const added of [25, 12]) {
      h.sandbox.addResponses(added);
      await syncAndWait(api);
      await api.call('POST', `/workspaces/${WORKSPACE}/profiles/${encodeURIComponent(PROFILE)}/run`);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it('takes one picture of each main page on synced data', async () => {
    const taken: string[] = [];
    const shoot = async (page: Page, name: string) => {
      const path = join(directory, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      taken.push(path);
    };

    const signIn = await h.browser.newPage();
    await signIn.goto(`${h.url}/`);
    await signIn.getByRole('button', { name: 'Sign in' }).waitFor();
    await shoot(signIn, 'sign-in');
    await signIn.context().close();

    const page = await h.signedIn('admin');
    const profile = encodeURIComponent(PROFILE);
    const pages: [string, string][] = [
      ['store', 'store'],
      ['apps', 'apps'],
      ['runs', 'runs'],
      ['run', `runs/${runId}`],
      ['mappings', 'apps/closealert/mappings'],
      ['profiles', 'profiles'],
      ['profile', `profiles/${profile}`],
      ['audit', 'audit'],
    ];
    for (const [name, path] of pages) {
      await page.goto(`${h.url}/#/w/${WORKSPACE}/${path}`);
      await settled(page);
      await shoot(page, name);
    }
    await page.goto(`${h.url}/#/w/${WORKSPACE}/profiles/${profile}/edit`);
    await page.getByTestId('live-count').waitFor();
    await settled(page);
    await shoot(page, 'profile-builder');
    await page.context().close();

    const phone = await h.signedIn('marketer', { width: 390, height: 844 });
    await phone.goto(`${h.url}/#/w/${WORKSPACE}/profiles/${profile}/edit`);
    await phone.getByTestId('live-count').waitFor();
    await settled(phone);
    await shoot(phone, 'profile-builder-phone');
    await phone.context().close();

    expect(taken).toHaveLength(pages.length + 3);
    for (const path of taken) expect((await readFile(path)).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });
});
