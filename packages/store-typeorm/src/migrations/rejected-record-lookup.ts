import type { QueryRunner } from 'typeorm';
import { indexName, quoteIdentifier as q } from '../naming.js';
import { runAll, tableNamer } from './naming-of.js';

// The same index on both dialects; each dialect's migration list names its own class.

function index(queryRunner: QueryRunner) {
  const rejected = tableNamer(queryRunner)('rejected_records');
  const name = q(indexName(rejected, ['installation_id', 'source_id']));
  return { rejected, name, qualified: rejected.schema === undefined ? name : `${q(rejected.schema)}.${name}` };
}

export async function createRejectedRecordLookup(queryRunner: QueryRunner): Promise<void> {
  const { rejected, name } = index(queryRunner);
  await runAll(queryRunner, [`CREATE INDEX ${name} ON ${rejected.sql} ("installation_id", "source_id")`]);
}

export async function dropRejectedRecordLookup(queryRunner: QueryRunner): Promise<void> {
  await runAll(queryRunner, [`DROP INDEX ${index(queryRunner).qualified}`]);
}
