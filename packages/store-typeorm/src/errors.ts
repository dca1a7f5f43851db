import { StorageError, isTributaryError, type StorageErrorCode, type TributaryError } from '@tributary/core';

interface DriverFailure {
  message?: unknown;
  code?: unknown;
  driverError?: { code?: unknown; message?: unknown };
}

/** The database's own error code: a SQLSTATE on PostgreSQL (`23505`), a result code on SQLite. */
export function driverCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const failure = error as DriverFailure;
  const code = failure.driverError?.code ?? failure.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether the database refused a row because a unique index already holds its key. */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverCode(error);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const message = (error as DriverFailure).driverError?.message ?? (error as DriverFailure).message;
    if (typeof message === 'string') return message;
  }
  return String(error);
}

/**
 * Turns a driver failure into a StorageError saying what the store was doing. The cause keeps only
 * the driver's message and code: TypeORM's error also carries the statement's bound values (customer
 * data), which must not travel into logs.
 */
export function storageFailure(action: string, error: unknown, code: StorageErrorCode = 'STORE_QUERY_FAILED'): TributaryError {
  if (isTributaryError(error)) return error;
  const message = messageOf(error);
  const cause = Object.assign(new Error(message), { code: driverCode(error) });
  return new StorageError(code, `Could not ${action}: ${message}`, { cause });
}
