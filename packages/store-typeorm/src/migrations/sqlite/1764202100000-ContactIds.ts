import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addContactIds, removeContactIds } from '../contact-ids.js';

/**
 * The contact id beside the customer e-mail in every app's primary table (see CONTACT_ID_COLUMN),
 * so that a profile finds its members' contact ids in the index it matches them with.
 */
export class ContactIdsSqlite1764202100000 implements MigrationInterface {
  name = 'ContactIds1764202100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await addContactIds(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await removeContactIds(queryRunner);
  }
}
