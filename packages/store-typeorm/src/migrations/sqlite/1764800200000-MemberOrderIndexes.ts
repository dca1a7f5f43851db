import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addMemberOrderIndexes, dropMemberOrderIndexes } from '../member-order-indexes.js';

/** Each feedback app's responses by e-mail in byte order, newest first: a streamed profile's first member needs no sort. */
export class MemberOrderIndexesSqlite1764800200000 implements MigrationInterface {
  name = 'MemberOrderIndexes1764800200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await addMemberOrderIndexes(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropMemberOrderIndexes(queryRunner);
  }
}
