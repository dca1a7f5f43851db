import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const migrationsDir = dirname(fileURLToPath(import.meta.url));
const srcDir = resolve(migrationsDir, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The store's own modules a file imports (values and types alike), relative to src/. */
function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)].map((m) =>
    relative(srcDir, resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'))),
  );
}

describe('migrations', () => {
  // A migration must keep doing what it shipped with: it may lean on the naming rules (changing
  // them would rename every table anyway) and on frozen helpers beside it, never on the live store
  // code, which also keeps migrations/index.ts (the lists dialect.ts picks from) out of an import cycle.
  it('import nothing of the store outside migrations/ but the naming rules', () => {
    const files = sources(migrationsDir);
    expect(files.length).toBeGreaterThan(20);
    const outside = files.flatMap((file) =>
      localImports(file)
        .filter((target) => !target.startsWith('migrations/') && target !== 'naming.ts')
        .map((target) => `${relative(srcDir, file)} -> ${target}`),
    );
    expect(outside).toEqual([]);
  });
});
