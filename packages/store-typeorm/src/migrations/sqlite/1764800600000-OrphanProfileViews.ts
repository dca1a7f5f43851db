import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dropOrphanProfileViews } from '../orphan-profile-views.js';

/** Drops the members views that profiles deleted before their views were dropped with them left behind. */
export class OrphanProfileViewsSqlite1764800600000 implements MigrationInterface {
  name = 'OrphanProfileViews1764800600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await dropOrphanProfileViews(queryRunner);
  }

  // Nothing to put back: the views were empty and their profiles are gone.
  async down(): Promise<void> {}
}
