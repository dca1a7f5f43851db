import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addContactIds, removeContactIds, type ContactIdDialect } from '../contact-ids.js';

const postgres: ContactIdDialect = {
  uuidType: 'uuid',
  columnsOf: (table) => ({
    sql: `SELECT column_name AS "name" FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
    params: [table.table.schema, table.table.name],
  }),
};

/**
 * The contact id beside the customer e-mail in every app's primary table (see CONTACT_ID_COLUMN),
 * so that a profile finds its members' contact ids in the index it matches them with.
 */
export class ContactIdsPostgres1764202100000 implements MigrationInterface {
  name = 'ContactIds1764202100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await addContactIds(queryRunner, postgres);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await removeContactIds(queryRunner, postgres);
  }
}
