import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDirectory } from '@tributary/testing';
import { isTempFile, removeStaleTempFiles } from './destinations/atomic-file.js';

// The file destination never leaves a partial file where a tool picks files up: a writer killed
// with SIGKILL in the middle of a write leaves at most a hidden temporary file, never a short
// changes or members file.

const SCRIPT = fileURLToPath(new URL('./test-support/file-writer-process.ts', import.meta.url));
const SIZE = 100_000;

/** Starts the writer and kills it `delayMs` after it begins its `killAt`-th write (0: once its temporary file exists). */
async function killMidWrite(directory: string, format: 'jsonl' | 'csv', killAt: number, delayMs: number): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, directory, format, String(SIZE)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  child.on('message', (message: { type: string; n: number }) => {
    if (message.type !== 'writing' || message.n !== killAt) return;
    if (delayMs > 0) {
      setTimeout(() => child.kill('SIGKILL'), delayMs);
      return;
    }
    // Killed the moment a temporary file appears: certainly between its open and its rename.
    const poll = setInterval(() => {
      if (readdirSync(directory).some(isTempFile)) {
        child.kill('SIGKILL');
        clearInterval(poll);
      }
    }, 1);
    void exited.then(() => clearInterval(poll));
  });
  return exited;
}

function checkComplete(directory: string, format: 'jsonl' | 'csv'): { files: number; temps: number } {
  const names = readdirSync(directory);
  const visible = names.filter((name) => !name.startsWith('.'));
  for (const name of visible) {
    const text = readFileSync(join(directory, name), 'utf8');
    const lines = text.split(/\r?\n/);
    // Complete: ends with its line break, and holds every customer (plus a CSV header).
    expect(lines.at(-1), name).toBe('');
    expect(lines.length - 1, name).toBe(SIZE + (format === 'csv' ? 1 : 0));
    if (format === 'jsonl') expect(() => lines.slice(0, -1).forEach((line) => JSON.parse(line)), name).not.toThrow();
    expect(lines.at(-2), name).toContain(`customer-${String(SIZE - 1).padStart(7, '0')}@example.com`);
  }
  return { files: visible.length, temps: names.filter(isTempFile).length };
}

describe('file destination under SIGKILL', () => {
  it.each(['jsonl', 'csv'] as const)('leaves only complete %s files, whenever the writer dies', async (format) => {
    const directory = tempDirectory(`file-kill-${format}`);
    let temps = 0;
    for (const [killAt, delayMs] of [
      [0, 0],
      [1, 40],
      [1, 0],
      [2, 150],
    ] as const) {
      expect(await killMidWrite(directory, format, killAt, delayMs)).toBe('SIGKILL');
      const seen = checkComplete(directory, format);
      temps = Math.max(temps, seen.temps);
    }
    // At least one kill hit a write in progress (it left its hidden temporary file behind).
    expect(temps).toBeGreaterThan(0);
    // Old leftovers are cleared by a later write; complete files stay.
    const before = checkComplete(directory, format).files;
    const old = new Date(Date.now() - 3_600_000);
    for (const name of readdirSync(directory).filter(isTempFile)) utimesSync(join(directory, name), old, old);
    const leftovers = readdirSync(directory).filter(isTempFile).length;
    expect(await removeStaleTempFiles(directory)).toBe(leftovers);
    expect(readdirSync(directory).filter(isTempFile)).toEqual([]);
    expect(checkComplete(directory, format).files).toBe(before);
  }, 120_000);
});
