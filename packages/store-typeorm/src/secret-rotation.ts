import type { SecretResealResult } from '@tributary/core';
import type { Database, Executor } from './database.js';
import { storageFailure } from './errors.js';
import { secretContext } from './installation-secrets.js';
import type { SecretCipher } from './secrets.js';

/** Key rotation: which keys seal the stored secrets, and moving them all under the current key. */
export class SecretRotation {
  constructor(
    private readonly db: Database,
    private readonly cipher: SecretCipher,
    /** Secrets kept elsewhere (a destination's signing secret), moved in the same transaction. */
    private readonly others?: {
      reseal(tx: Executor): Promise<number>;
      usage(db: Executor): Promise<Record<string, number>>;
    },
  ) {}

  /**
   * Opens every secret not yet sealed with the current key and seals it again with that key, in one
   * transaction: either all move or none does, so a failure (a key missing from the ring) leaves
   * every secret readable as before. Running it again after a success changes nothing.
   */
  async reseal(): Promise<SecretResealResult> {
    const keyId = this.cipher.currentKeyId;
    try {
      return await this.db.transaction(async (tx) => {
        const repository = tx.manager.getRepository(this.db.dialect.entities.InstallationSecret);
        const stale = (await repository.find()).filter((row) => row.keyId !== keyId);
        const now = new Date();
        for (const row of stale) {
          const context = secretContext(row.installationId, row.name);
          const sealed = this.cipher.encrypt(this.cipher.decrypt(row, context), context);
          await repository.update({ installationId: row.installationId, name: row.name }, { ...sealed, updatedAt: now });
        }
        const others = (await this.others?.reseal(tx)) ?? 0;
        return { resealed: stale.length + others, keyId };
      });
    } catch (error) {
      throw storageFailure('seal the stored secrets with the current key', error);
    }
  }

  /** How many stored secrets each key id sealed. */
  async usage(): Promise<Record<string, number>> {
    try {
      const rows = await this.db.withConnection((db) =>
        db.manager
          .getRepository(this.db.dialect.entities.InstallationSecret)
          .createQueryBuilder('s')
          .select('s.keyId', 'keyId')
          .addSelect('COUNT(*)', 'n')
          .groupBy('s.keyId')
          .getRawMany<{ keyId: string; n: number | string }>(),
      );
      const usage: Record<string, number> = Object.fromEntries(rows.map((r) => [r.keyId, Number(r.n)]));
      const others = this.others ? await this.db.withConnection((db) => this.others!.usage(db)) : {};
      for (const [keyId, n] of Object.entries(others)) usage[keyId] = (usage[keyId] ?? 0) + n;
      return usage;
    } catch (error) {
      throw storageFailure('count the stored secrets per key', error);
    }
  }
}
