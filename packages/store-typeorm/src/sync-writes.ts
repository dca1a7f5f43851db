import { ConfigError, type Logger, type PageWrite, type PageWriteResult } from '@tributary/core';
import { ContactIdCache } from './contact-id-cache.js';
import type { Database } from './database.js';
import { storageFailure } from './errors.js';
import { isStoreId, storedDataModel } from './installation-checks.js';
import type { Installations } from './installations.js';
import { validatePageWrite, writePageRows } from './page-writer.js';

// A sync's write path: pages written under the installation's lock with their checkpoint, the
// checkpoint read back, and the contact ids of committed pages kept between pages.

/** Pages and checkpoints of the installations being synced. */
export class SyncWrites {
  /** Contact ids of committed pages, so that a page need not insert or look up customers met before. */
  private readonly contactIds = new ContactIdCache();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly installations: Installations,
  ) {}

  /** Drops the contact ids remembered for an installation. */
  forget(installationId: string): void {
    this.contactIds.forget(installationId);
  }

  async readCheckpoint(installationId: string, stream: string): Promise<unknown> {
    if (!isStoreId(installationId)) return null;
    try {
      const row = await this.db.withConnection((db) =>
        db.manager.getRepository(this.db.dialect.entities.Checkpoint).findOneBy({ installationId, stream }),
      );
      return row ? row.value : null;
    } catch (error) {
      throw storageFailure(`read the checkpoint of stream "${stream}" of installation ${installationId}`, error);
    }
  }

  async writePage(input: PageWrite): Promise<PageWriteResult> {
    const write = validatePageWrite(input);
    const now = new Date();
    try {
      const written = await this.db.transaction(async (tx) => {
        // The lock makes a second worker writing the same installation wait for this page to commit.
        const row = await this.installations.lockedRow(tx, write.installationId);
        if (row.status !== 'active') {
          throw new ConfigError('INSTALLATION_NOT_ACTIVE', `Installation ${row.id} is uninstalled; its pages are no longer stored.`);
        }
        const model = storedDataModel(row.dataModel, `Installation ${row.id}`);
        return writePageRows(tx, this.db.dialect, row.app, model, write, now, this.contactIds, { workspaceId: row.workspaceId, retentionDays: row.retentionDays ?? null });
      });
      // Committed: the contacts exist now, whatever happens to a later page.
      this.contactIds.remember(write.installationId, written.contactIds);
      const result = written.page;
      this.logger.debug(
        { installationId: write.installationId, stream: write.stream, inserted: result.inserted, unchanged: result.unchanged, rejected: write.rejected.length },
        'page stored',
      );
      return result;
    } catch (error) {
      throw storageFailure(`store a page of stream "${write.stream}" for installation ${write.installationId}`, error, 'STORE_WRITE_FAILED');
    }
  }
}
