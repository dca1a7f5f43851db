import { parseTimestamp, type CellValue, type ColumnType } from '@tributary/core';

/** A column type the store writes: the data model's types plus ids of Tributary's own rows. */
export type SqlType = ColumnType | 'uuid';

/** A value in the form every dialect starts from before its own conversions. */
export type CanonicalValue = string | number | boolean | null;

/** A cell that its column's type cannot hold. */
export class CellTypeError extends TypeError {
  constructor(
    readonly expected: SqlType,
    readonly actual: string,
  ) {
    super(`a ${expected} column cannot hold ${actual}`);
  }
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMERIC_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// Text is described by its kind only: a cell may hold an e-mail or a comment, which must not reach a log.
function describe(value: unknown): string {
  if (typeof value === 'string') return 'a text value';
  return `the ${typeof value} ${String(value)}`;
}

function integerOf(type: 'integer' | 'bigint', value: CellValue): number | string {
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (type === 'integer' && (value < INT32_MIN || value > INT32_MAX)) throw new CellTypeError(type, describe(value));
    if (!Number.isSafeInteger(value)) throw new CellTypeError(type, describe(value));
    return value;
  }
  if (typeof value === 'string' && INTEGER_TEXT.test(value.trim())) {
    const big = BigInt(value.trim());
    const [min, max] = type === 'integer' ? [BigInt(INT32_MIN), BigInt(INT32_MAX)] : [INT64_MIN, INT64_MAX];
    if (big < min || big > max) throw new CellTypeError(type, describe(value));
    // Integers beyond 2^53 stay text so that no digit is lost on the way to the database.
    return Number.isSafeInteger(Number(big)) ? Number(big) : big.toString();
  }
  throw new CellTypeError(type, describe(value));
}

// Mappings write JSON columns only through the `json` transform (core refuses any other), so a
// string that is shaped like a JSON object or array is taken as it is; parsing every raw record a
// second time would double the cost of a backfill. PostgreSQL still validates it on insert.
const JSON_SHAPED = /^\s*(\{[\s\S]*\}|\[[\s\S]*\])\s*$/;

function jsonTextOf(value: CellValue): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  if (JSON_SHAPED.test(value)) return value;
  try {
    JSON.parse(value);
    return value;
  } catch {
    // A plain string that is not JSON is stored as a JSON string.
    return JSON.stringify(value);
  }
}

// The form mappings produce (`Date#toISOString`); anything else is parsed and normalized.
const CANONICAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Checks a cell against its column's type and brings it to one canonical form: timestamps become
 * ISO-8601 UTC text (an offset-less timestamp is read as UTC), JSON becomes JSON text, integers
 * beyond 2^53 stay decimal text. Throws a {@link CellTypeError} rather than store a wrong value.
 */
export function canonicalValue(type: SqlType, value: CellValue | undefined): CanonicalValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'text':
    case 'uuid':
      if (typeof value === 'string') return value;
      if (type === 'text') return String(value);
      throw new CellTypeError(type, describe(value));
    case 'integer':
    case 'bigint':
      return integerOf(type, value);
    case 'numeric':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && NUMERIC_TEXT.test(value.trim())) return value.trim();
      throw new CellTypeError(type, describe(value));
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 1 || value === 0) return value === 1;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new CellTypeError(type, describe(value));
    case 'timestamp': {
      if (typeof value === 'string' && CANONICAL_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value))) return value;
      const ms = typeof value === 'string' ? parseTimestamp(value, 'UTC') : undefined;
      if (ms === undefined) throw new CellTypeError(type, describe(value));
      return new Date(ms).toISOString();
    }
    case 'json':
      return jsonTextOf(value);
  }
}

/** A timestamp as a driver returns it: a Date from pg, ISO-8601 text from SQLite. */
export function dateFromDatabase(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}
