import { readFile } from 'node:fs/promises';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '@tributary/testing';
import { browserAvailable, CHROMIUM, seriousAccessibilityViolations } from './browser.js';
import { startConsoleHarness, WORKSPACE, type ConsoleHarness } from './harness.js';
import { adminCaller, installAndSync, MANUAL_PROFILE, type ApiCaller } from './seed.js';

// The marketer's journey of issue #15 in Chromium: build the manual's "past ten days, form F, score
// 1 or below 3" profile in the builder, watch the live count, save, download the CSV; then the
// profile page (members, history, run, delete) and what a viewer may do there.

const databases = await testDatabases('console-profiles');
const run = browserAvailable() || process.env.CI === 'true';
if (!run) console.warn(`Skipping the console's browser tests: ${CHROMIUM} is missing (apt-get install chromium).`);

const PROFILE = 'Unhappy last 10 days';

async function noSeriousViolations(page: Page): Promise<void> {
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
}

/** Adds a condition of a kind to a group of the builder (the root unless told). */
async function addCondition(group: Locator, kind: string): Promise<Locator> {
  await group.getByLabel('New condition').last().selectOption({ label: kind });
  await group.getByRole('button', { name: 'Add condition' }).last().click();
  return group.page().getByRole('group', { name: kind, exact: true }).last();
}

/** The builder's live count once it has settled (no "updating…"). */
async function settledCount(page: Page): Promise<number> {
  const count = page.getByTestId('live-count');
  await expect.poll(async () => (await count.count()) > 0 && (await page.locator('.preview .updating').count()) === 0).toBe(true);
  return Number(await count.textContent());
}

describe.runIf(run).each(databases)('profiles in the console on $dialect', (db) => {
  let h: ConsoleHarness;
  let api: ApiCaller;
  beforeAll(async () => {
    h = await startConsoleHarness(db, { responses: 400 });
    api = await adminCaller(h);
    await installAndSync(h, api);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lets a marketer build the manual's profile with a live count, save it and download its CSV", async () => {
    const expected = await api.call<{ count: number }>('POST', `/workspaces/${WORKSPACE}/profiles/preview?limit=0`, MANUAL_PROFILE);
    // The sandbox's 400 responses over 30 days hold some unhappy answers to form 34 in the last ten.
    expect(expected.count).toBeGreaterThan(0);

    const page = await h.signedIn('marketer');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Profiles' }).click();
    await page.getByText('No profile yet').waitFor();
    await noSeriousViolations(page);
    await page.getByRole('link', { name: 'New profile' }).click();
    await page.getByRole('heading', { name: 'New profile' }).waitFor();

    await page.getByLabel('Name').fill(PROFILE);
    const root = page.getByRole('group', { name: 'Conditions' });
    // The builder starts at "responded within the past 10 days": a count shows at once.
    expect(await page.getByLabel('Days', { exact: true }).inputValue()).toBe('10');
    const withinTenDays = await settledCount(page);
    expect(withinTenDays).toBeGreaterThan(expected.count);

    const form = await addCondition(root, 'Form');
    await form.getByLabel('Form', { exact: true }).selectOption({ label: 'Email satisfaction form (34)' });
    const question = await addCondition(root, 'Question');
    await question.getByLabel('On form').selectOption({ label: 'Email satisfaction form (34)' });
    await question.getByLabel('Question', { exact: true }).selectOption('1');
    await root.getByRole('button', { name: 'Add group' }).click();
    const group = page.getByRole('group', { name: 'Group', exact: true });
    await group.getByLabel('Members match').selectOption({ label: 'Any of these' });
    const one = await addCondition(group, 'Score');
    await one.getByLabel('Score', { exact: true }).selectOption({ label: 'is' });
    await one.getByLabel('Score value').fill('1');
    const belowThree = await addCondition(group, 'Score');
    await belowThree.getByLabel('Score', { exact: true }).selectOption({ label: 'is below' });
    await belowThree.getByLabel('Score value').fill('3');

    await expect.poll(() => settledCount(page)).toBe(expected.count);
    await noSeriousViolations(page);

    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByRole('heading', { name: `Profile “${PROFILE}”` }).waitFor();
    expect(page.url()).toContain(`#/w/acme/profiles/${encodeURIComponent(PROFILE)}`);
    await expect.poll(() => page.locator('#members-title .badge').textContent()).toBe(String(expected.count));
    expect(await page.locator('.definition').textContent()).toBe(
      'responded within the past 10 days AND form 34 AND question 1 of form 34 AND (score = 1 OR score < 3)',
    );
    await noSeriousViolations(page);

    const members = await api.call<{ total: number }>('GET', `/workspaces/${WORKSPACE}/profiles/${encodeURIComponent(PROFILE)}/members?limit=1`);
    expect(members.total).toBe(expected.count);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('Unhappy_last_10_days.csv');
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\r\n');
    expect(lines[0]).toBe('email,customer_id,contact_id,response_id,form_id,score,responded_at');
    expect(lines).toHaveLength(members.total + 1);
    expect(lines.slice(1).every((line) => line.split(',')[4] === '34')).toBe(true);
    await page.context().close();
  });

  it('explains an API refusal inline: a name already taken', async () => {
    await api.call('POST', `/workspaces/${WORKSPACE}/profiles`, { ...MANUAL_PROFILE, name: 'taken' });
    const page = await h.signedIn('marketer');
    await page.goto(`${h.url}/#/w/acme/profiles/new`);
    await page.getByLabel('Name').fill('taken');
    await settledCount(page);
    await page.getByRole('button', { name: 'Save profile' }).click();
    const refusal = page.getByRole('alert');
    await expect.poll(() => refusal.textContent()).toMatch(/Not saved\..*already/);
    expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    await page.context().close();
  });

  it('shows the profile page: search, run now with the history chart, edit, and a confirmed delete', async () => {
    const page = await h.signedIn('marketer');
    await page.goto(`${h.url}/#/w/acme/profiles`);
    await page.getByRole('link', { name: PROFILE }).click();
    await page.locator('#members-title .badge').waitFor();
    const total = Number(await page.locator('#members-title .badge').textContent());
    const first = (await page.getByRole('table', { name: `Members of ${PROFILE}` }).locator('tbody tr td').first().textContent())!;
    await page.getByLabel('Search by e-mail').fill(first);
    await expect.poll(() => page.locator('#members-title .badge').textContent()).toBe('1');
    await page.getByLabel('Search by e-mail').fill('no-such-customer-anywhere');
    await page.getByText("No member's e-mail contains").waitFor();
    await page.getByLabel('Search by e-mail').fill('');

    await page.getByText('No evaluation recorded yet').waitFor();
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByText(`Evaluated and recorded: ${total} members, ${total} entered`).waitFor();
    await page.getByRole('img', { name: /Members at each evaluation: 1 bars/ }).waitFor();
    await noSeriousViolations(page);

    await page.getByRole('link', { name: 'Edit conditions' }).click();
    await page.getByRole('heading', { name: `Edit profile “${PROFILE}”` }).waitFor();
    // The saved definition comes back into the builder, with the same count.
    expect(await settledCount(page)).toBe(total);
    await page.getByLabel('Latest response only').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText("each customer's latest response only").waitFor();

    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog', { name: `Delete profile “${PROFILE}”?` });
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    expect(await dialog.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Delete…' }).click();
    await dialog.getByRole('button', { name: `Delete “${PROFILE}”` }).click();
    await page.getByRole('heading', { name: 'Profiles' }).waitFor();
    await page.getByRole('link', { name: 'taken' }).waitFor();
    expect(await page.getByRole('link', { name: PROFILE }).count()).toBe(0);
    await page.context().close();
  });

  it('lets a viewer read a profile without any control that changes it', async () => {
    await api.call('POST', `/workspaces/${WORKSPACE}/profiles`, { ...MANUAL_PROFILE, name: 'for viewers' });
    const page = await h.signedIn('viewer');
    await page.goto(`${h.url}/#/w/acme/profiles`);
    await page.getByRole('link', { name: 'for viewers' }).waitFor();
    expect(await page.getByRole('link', { name: 'New profile' }).count()).toBe(0);
    await page.getByRole('link', { name: 'for viewers' }).click();
    await page.locator('#members-title .badge').waitFor();
    for (const control of ['Run now', 'Delete…']) expect(await page.getByRole('button', { name: control }).count()).toBe(0);
    for (const link of ['Edit conditions', 'Download CSV']) expect(await page.getByRole('link', { name: link }).count()).toBe(0);
    await noSeriousViolations(page);
    await page.goto(`${h.url}/#/w/acme/profiles/new`);
    await page.getByText('Building profiles needs the marketer role').waitFor();
    await page.context().close();
  });

  it('keeps the builder and the profile page usable on a 390-pixel phone', async () => {
    await api.call('POST', `/workspaces/${WORKSPACE}/profiles`, { ...MANUAL_PROFILE, name: 'on a phone' });
    const page = await h.signedIn('marketer', { width: 390, height: 844 });
    // Editing the manual's profile: the question's long wording is the widest control.
    await page.goto(`${h.url}/#/w/acme/profiles/on%20a%20phone/edit`);
    await settledCount(page);
    // Pick "Comment contains" in the root's list, then Tab to "Add condition", Enter, and type.
    const newCondition = page.getByRole('group', { name: 'Conditions' }).getByLabel('New condition').last();
    await newCondition.focus();
    await newCondition.selectOption({ label: 'Comment contains' });
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: 'Comment contains' }).focus();
    await page.keyboard.type('zzz-no-comment-says-this');
    await expect.poll(() => settledCount(page)).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await noSeriousViolations(page);
    // The profile's page too: its wide tables scroll inside their own box, not the page.
    await page.goto(`${h.url}/#/w/acme/profiles/on%20a%20phone`);
    await page.locator('#members-title .badge').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.context().close();
  });
});
