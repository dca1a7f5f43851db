import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

// A file that tools pick up must never be seen half-written: the content goes to a hidden temporary
// file in the same directory, is flushed to disk, and only then renamed over the final name (a
// rename within one file system is atomic). A process killed before the rename leaves only the
// hidden temporary file, which the next write of that directory removes once it is old.

const TEMP_SUFFIX = '.tributary-tmp';
const STALE_TEMP_MS = 10 * 60_000;

/** Whether a file name is one of the temporary files this module writes. */
export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX);
}

/** Writes `content` to `directory/name` atomically (temp file, fsync, rename, fsync of the directory). */
export async function writeFileAtomically(directory: string, name: string, content: string | Uint8Array): Promise<void> {
  await mkdir(directory, { recursive: true });
  const temp = join(directory, `.${name}.${randomUUID()}${TEMP_SUFFIX}`);
  const handle = await open(temp, 'wx', 0o640);
  try {
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(directory, name));
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  // The rename itself reaches the disk only with the directory's entry.
  const dir = await open(directory, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Removes temporary files a killed writer left behind, once they are old enough not to be in use. */
export async function removeStaleTempFiles(directory: string, now: number = Date.now()): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return 0;
  }
  for (const name of names.filter(isTempFile)) {
    const path = join(directory, name);
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_TEMP_MS) {
      await unlink(path).catch(() => undefined);
      removed += 1;
    }
  }
  return removed;
}
