import { ConfigError, type Installation, type Store } from '@tributary/core';

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
    // Nothing ran: like the other refusals before a run, the user must act (wait), so exit 2.
    throw new ConfigError(
      'INSTALLATION_BUSY',
      `${installation.app} in workspace "${installation.workspace}" is being synced by another process right now (${who}); nothing ran. Try again when that run has finished.`,
    );
  }
  return result.value;
}
