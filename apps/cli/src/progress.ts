import type { SyncProgress } from '@tributary/runner';
import type { Io } from './io.js';

/** A one-line progress bar on a terminal; nothing at all when output is piped. */
export function createProgressBar(io: Io): { update(progress: SyncProgress): void; done(): void } {
  const tty = Boolean(io.stderr.isTTY);
  let drawn = false;
  return {
    update(progress) {
      if (!tty) return;
      const width = 24;
      const ratio = progress.total ? Math.min(1, (progress.done ?? 0) / progress.total) : 0;
      const filled = Math.round(ratio * width);
      const bar = progress.total ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${progress.done}/${progress.total} windows  ` : '';
      io.stderr.write(`\r${bar}${progress.fetched} fetched, ${progress.inserted} new, ${progress.rejected} rejected`);
      drawn = true;
    },
    done() {
      if (drawn) io.stderr.write('\n');
    },
  };
}
