import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveToken } from './token-option.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveToken', () => {
  it('takes --token, or the trimmed content of --token-file', () => {
    expect(resolveToken({ token: 'a.b.c' })).toBe('a.b.c');
    const file = join(dir, 'token');
    writeFileSync(file, '  x.y.z\n');
    expect(resolveToken({ tokenFile: file })).toBe('x.y.z');
  });

  it('wants exactly one of them, and a readable, non-empty file', () => {
    expect(() => resolveToken({})).toThrow(/exactly one of --token <jwt> or --token-file/);
    expect(() => resolveToken({ token: 'a', tokenFile: 'b' })).toThrow(/exactly one/);
    expect(() => resolveToken({ tokenFile: join(dir, 'missing') })).toThrow(/Cannot read the token file .*ENOENT/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => resolveToken({ tokenFile: empty })).toThrow(/is empty/);
  });
});
