#!/usr/bin/env node
// Starts the compiled CLI (`dist/`, made by `npm run build`, which `npm install` runs) when the build is
// current, else the TypeScript source through tsx. Compiling TypeScript at every start costs most of a
// second, hence the build; but a build older than the source it came from must never run old code
// silently, hence the check, file by file and package by package: a source file edited or added after
// the last build sends every start through tsx until the next `npm run build`. The check stats about
// 300 files, a few milliseconds.
import { readdirSync, statSync } from 'node:fs';

const cliDir = new URL('../', import.meta.url);
const workspaceRoot = new URL('../../', cliDir);

/** Modification time in ms, or undefined when the path does not exist. */
function mtimeOf(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Whether every TypeScript file under a package's `sourceDir` (tests and test support aside) has its
 * compiled file at least as new, and the build's last step (scripts/compiled-imports.mjs, which
 * points imports of workspace packages at their compiled entries) ran after the last emit.
 */
function builtIsCurrent(packageUrl, sourceDir = 'src/', outDir = 'dist/', only = undefined) {
  const rewritten = mtimeOf(new URL(`${outDir}.compiled-imports`, packageUrl));
  if (rewritten === undefined) return false;
  const current = (relative, name) => {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts') || name.endsWith('.d.ts')) return true;
    const source = mtimeOf(new URL(`${sourceDir}${relative}${name}`, packageUrl));
    const built = mtimeOf(new URL(`${outDir}${relative}${name.slice(0, -3)}.js`, packageUrl));
    return source !== undefined && built !== undefined && built >= source && rewritten >= built;
  };
  if (only) return current('', only);
  const walk = (relative) => {
    for (const entry of readdirSync(new URL(sourceDir + relative, packageUrl), { withFileTypes: true })) {
      // Test support (`test-support/`, `test-server.ts`) is left out of builds and never run by the CLI.
      if (entry.name.startsWith('test-')) continue;
      if (entry.isDirectory() ? !walk(`${relative}${entry.name}/`) : !current(relative, entry.name))
        return false;
    }
    return true;
  };
  return walk('');
}

/** The CLI and, in a clone of the repository, every workspace package it may import. */
function buildIsCurrent() {
  if (!builtIsCurrent(cliDir)) return false;
  let names;
  try {
    names = readdirSync(new URL('packages/', workspaceRoot));
  } catch {
    // Not a clone (an installed package): the other packages come compiled.
    return true;
  }
  for (const name of names) {
    const packageUrl = new URL(`packages/${name}/`, workspaceRoot);
    // Only packages with a build; the others (test helpers) are never imported by the CLI.
    if (mtimeOf(new URL('tsconfig.build.json', packageUrl)) === undefined) continue;
    if (!builtIsCurrent(packageUrl)) return false;
  }
  return builtIsCurrent(new URL('apps/console/', workspaceRoot), '', 'dist-node/', 'assets.ts');
}

if (buildIsCurrent()) {
  await import('../dist/bin.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/bin.ts');
}
