import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Where `vite build` leaves the console, for `tributary serve` and the end-to-end tests.

// This file runs from the console's root as TypeScript, or compiled from `dist-node/` (the CLI's build).
const here = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '.' : '..', import.meta.url));

/** The directory of the built console (it holds index.html once built). */
export const consoleDistDir = join(here, 'dist');

/** Whether the console has been built. */
export function consoleIsBuilt(): boolean {
  return existsSync(join(consoleDistDir, 'index.html'));
}

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

/** Whether a source file changed after the last build (for tests, which must see the current pages). */
export function consoleBuildIsStale(): boolean {
  if (!consoleIsBuilt()) return true;
  const built = statSync(join(consoleDistDir, 'index.html')).mtimeMs;
  return newest(join(here, 'src')) > built || statSync(join(here, 'index.html')).mtimeMs > built;
}
