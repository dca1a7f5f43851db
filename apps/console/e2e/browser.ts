import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// The end-to-end tests drive Debian's Chromium through playwright-core. Nothing is downloaded:
// the browser is the system's, started headless with a fresh profile of its own.

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether the system browser is installed; under CI its absence fails the tests instead. */
export function browserAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export interface RunningBrowser {
  /** A new tab in a fresh context (its own cookies), sized like a laptop unless told otherwise. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function startBrowser(): Promise<RunningBrowser> {
  // launch() gives Chromium a fresh temporary profile of its own and removes it on close; each
  // page gets its own context (cookies), so two signed-in roles never share a session.
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const contexts: BrowserContext[] = [];
  return {
    async newPage(viewport = { width: 1280, height: 800 }) {
      // bypassCSP only lets the test inject axe-core; the server's policy is checked on its own.
      const context = await browser.newContext({ viewport, timezoneId: 'Europe/Amsterdam', locale: 'en-GB', bypassCSP: true });
      contexts.push(context);
      return context.newPage();
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Runs axe-core in the page; returns the serious and critical violations (WCAG 2.1 A and AA). */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Where screenshots go: the README's folder when UPDATE_SCREENSHOTS=1 (the figures in the README
 * are refreshed that way), else a temporary folder, so a test run leaves the checkout unchanged.
 */
export function screenshotDirectory(update: boolean): string {
  if (update) {
    const dir = join(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots');
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  return mkdtempSync(join(tmpdir(), 'tributary-screenshots-'));
}
