import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type * as ErrorsModuleNamespace from './errors.js';

type ErrorsModule = typeof ErrorsModuleNamespace;
import { ConfigError, ERROR_CODES, InternalError, isTributaryError, toTributaryError } from './errors.js';

// docs/errors.md is the one table of error codes. This test reads it, the closed lists in core and
// every `new XError('CODE'` of the repository's source, and fails when they disagree.

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
type Kind = keyof typeof ERROR_CODES;

function documented(): Set<string> {
  const rows = readFileSync(join(repo, 'docs/errors.md'), 'utf8').matchAll(/^\| `([A-Z0-9_]+)` \| (\w+) \|/gm);
  return new Set([...rows].map((m) => `${m[2]} ${m[1]}`));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `Kind CODE` for each literal code passed to an error constructor in the source. */
function usedInSource(): Map<string, string> {
  const used = new Map<string, string>();
  const roots = ['packages', 'apps'].flatMap((top) => readdirSync(join(repo, top)).map((pkg) => join(repo, top, pkg, 'src')));
  for (const file of roots.flatMap((root) => (statSync(root, { throwIfNoEntry: false })?.isDirectory() ? sourceFiles(root) : []))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/new (ConfigError|SourceApiError|StorageError|InternalError)\(\s*([^,]+),/g)) {
      for (const code of match[2]!.matchAll(/'([A-Z][A-Z0-9_]+)'/g)) used.set(`${match[1]} ${code[1]}`, file.slice(repo.length + 1));
    }
  }
  return used;
}


/** The specifier of a fresh instance of a module: what a package with its own copy of core loads. */
const secondCopy = (path: string): string => `${path}?second-copy`;
describe('the error-code catalogue', () => {
  it('documents exactly the codes core declares, each under its kind', () => {
    const declared = new Set(Object.entries(ERROR_CODES).flatMap(([kind, codes]) => codes.map((code) => `${kind} ${code}`)));
    expect([...documented()].sort()).toEqual([...declared].sort());
  });

  it('documents every code the source uses', () => {
    const table = documented();
    const used = usedInSource();
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter(([key]) => !table.has(key)).map(([key, file]) => `${key} (${file})`);
    expect(missing).toEqual([]);
  });

  it('lists each kind sorted and without duplicates', () => {
    for (const kind of Object.keys(ERROR_CODES) as Kind[]) {
      const codes = [...ERROR_CODES[kind]];
      expect(codes).toEqual([...new Set(codes)].sort());
    }
  });
});

describe('isTributaryError', () => {
  it('recognises an error made by a second copy of core, which instanceof does not', async () => {
    vi.resetModules();
    const copy = (await import(/* @vite-ignore */ secondCopy('./errors.js'))) as ErrorsModule;
    const foreign = new copy.ConfigError('CONNECTOR_INVALID', 'made elsewhere');
    expect(foreign instanceof ConfigError).toBe(false);
    expect(isTributaryError(foreign)).toBe(true);
    expect(toTributaryError(foreign)).toBe(foreign);
  });

  it('does not take a look-alike without the brand, nor a plain Error, for one', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'USAGE', actor: 'user' });
    expect(isTributaryError(lookalike)).toBe(false);
    expect(isTributaryError(new RangeError('x'))).toBe(false);
    const wrapped = toTributaryError(new RangeError('out of range'));
    expect(wrapped).toBeInstanceOf(InternalError);
    expect(wrapped.code).toBe('INTERNAL');
  });
});
