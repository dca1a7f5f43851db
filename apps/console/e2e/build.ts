import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { consoleBuildIsStale, consoleDistDir } from '../assets.js';

// End-to-end tests must see the pages as they are in the checkout: the console is rebuilt when a
// source is newer than the build. Test files run in parallel workers, so one builds and the others
// wait on a lock directory (mkdir is atomic).

const lock = join(consoleDistDir, '..', '.build-lock');

export async function ensureConsoleBuilt(): Promise<string> {
  for (let waited = 0; consoleBuildIsStale(); waited += 200) {
    try {
      mkdirSync(lock);
    } catch {
      if (waited > 120_000) rmSync(lock, { recursive: true, force: true });
      await sleep(200);
      continue;
    }
    try {
      if (consoleBuildIsStale()) {
        const { build } = await import('vite');
        await build({ root: join(consoleDistDir, '..'), logLevel: 'warn' });
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return consoleDistDir;
}
