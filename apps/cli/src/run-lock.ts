import type { Installation, Store } from '@tributary/core';
import { CommandFailed } from './exit-codes.js';

/**
 * Runs work that writes an installation's data under its run lock, the same lock the runner takes,
 * so that a manual `sync` or `remap` never runs alongside a scheduled sync of the same installation.
 */
export async function underRunLock<T>(store: Store, installation: Installation, work: () => Promise<T>): Promise<T> {
  const result = await store.withRunLock(installation.id, work);
  if (!result.acquired) {
    const [holder] = await store.listRunLockHolders([installation.id]).catch(() => []);
    const who = holder
      ? `process ${holder.pid} on ${holder.host}, since ${holder.since.toISOString()}`
      : 'a process that has just started or finished';
    throw new CommandFailed(
      `${installation.app} in workspace "${installation.workspace}" is being synced by another process right now (${who}); try again when that run has finished.`,
    );
  }
  return result.value;
}
