import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readSecretInput, resolveToken } from './token-option.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noStdin = {};
const noEnv = { TRIBUTARY_APP_TOKEN: undefined };
const stdinWith = (text: string) => ({ stdin: Readable.from([Buffer.from(text)]) });

describe('resolveToken', () => {
  it('takes --token, or the trimmed content of --token-file', async () => {
    expect(await resolveToken({ token: 'a.b.c' }, noStdin, noEnv)).toBe('a.b.c');
    const file = join(dir, 'token');
    writeFileSync(file, '  x.y.z\n');
    expect(await resolveToken({ tokenFile: file }, noStdin, noEnv)).toBe('x.y.z');
  });

  it('reads --token - from standard input, and TRIBUTARY_APP_TOKEN when no flag gives one', async () => {
    expect(await resolveToken({ token: '-' }, stdinWith('s.t.d\n'), noEnv)).toBe('s.t.d');
    expect(await resolveToken({}, noStdin, { TRIBUTARY_APP_TOKEN: 'e.n.v' })).toBe('e.n.v');
    // A flag wins over the environment.
    expect(await resolveToken({ token: 'a.b.c' }, noStdin, { TRIBUTARY_APP_TOKEN: 'e.n.v' })).toBe('a.b.c');
    await expect(resolveToken({ token: '-' }, stdinWith('  \n'), noEnv)).rejects.toThrow(/from standard input is empty/);
    await expect(resolveToken({ token: '-' }, noStdin, noEnv)).rejects.toThrow(/standard input/);
  });

  it('wants at most one flag, a readable, non-empty file, and names every way when none is given', async () => {
    await expect(resolveToken({}, noStdin, noEnv)).rejects.toThrow(/--token-file <path>, --token - \(read from standard input\) or TRIBUTARY_APP_TOKEN/);
    await expect(resolveToken({ token: 'a', tokenFile: 'b' }, noStdin, noEnv)).rejects.toThrow(/not both/);
    await expect(resolveToken({ tokenFile: join(dir, 'missing') }, noStdin, noEnv)).rejects.toThrow(/Cannot read the file .*ENOENT/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    await expect(resolveToken({ tokenFile: empty }, noStdin, noEnv)).rejects.toThrow(/is empty/);
  });
});

describe('readSecretInput', () => {
  const spec = { what: 'the new key', flag: '--new-key', fileFlag: '--new-key-file', envName: 'TRIBUTARY_NEW_SECRET_KEY', envValue: undefined, stdin: undefined };

  it('is undefined when nothing gives the secret, so that the caller may generate one', async () => {
    expect(await readSecretInput({}, spec)).toBeUndefined();
    expect(await readSecretInput({}, { ...spec, envValue: 'k' })).toBe('k');
    expect(await readSecretInput({ value: '-' }, { ...spec, stdin: Readable.from(['k2\n']) })).toBe('k2');
  });
});
