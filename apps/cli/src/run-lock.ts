import type { Installation, Store } from '@tributary/core';
import { CommandFailed } from './exit-codes.js';

/**
 * Runs work that writes an installation's data under its run lock, the same lock the runner takes,
 * so that a manual `sync` or `remap` never runs alongside a scheduled sync of the same installation.
 */
export async function underRunLock<T>(store: Store, installation: Installation, work: () => Promise<T>): Promise<T> {
  const result = await store.withRunLock(installation.id, work);
  if (!result.acquired) {
    throw new CommandFailed(
      `${installation.app} in workspace "${installation.workspace}" is being synced by another process right now; try again when that run has finished (see tributary runner status).`,
    );
  }
  return result.value;
}
