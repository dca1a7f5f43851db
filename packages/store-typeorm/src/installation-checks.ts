import { z } from 'zod';
import { ConfigError, StorageError, dataModelSchema, describeIssues, mappingSchema, type DataModel } from '@tributary/core';

// What every part of the store checks about an installation: whether an id can name one, the error
// when none has it, the workspace name it is installed in, and the data model and mappings read back
// from its row.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a store-assigned id; anything else cannot name a row (and PostgreSQL would refuse it). */
export function isStoreId(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id);
}

export const workspaceNameSchema = z.string().trim().min(1).max(200);

export const storedMappingsSchema = z.array(mappingSchema);

/** Reads a data model back from the database, where it was stored valid; anything else is damage. */
export function storedDataModel(value: unknown, what: string): DataModel {
  const parsed = dataModelSchema.safeParse(value);
  if (!parsed.success) throw new StorageError('STORE_DATA_INVALID', `${what} holds an invalid data model: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The error for an id that names no installation. */
export function notFound(id: string): ConfigError {
  return new ConfigError('INSTALLATION_NOT_FOUND', `No installation has the id "${id}".`, {
    hint: 'List the installations and their ids with: tributary apps --json',
  });
}
