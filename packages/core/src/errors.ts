/**
 * Who has to act on a failure. Every error Tributary raises says so, because an operator reading
 * "sync failed" needs to know whether to fix their settings, wait for CloseAlert, check the
 * database, or file a bug.
 */
export type ErrorActor = 'user' | 'source' | 'store' | 'bug';

// The closed set of codes per kind of failure. Scripts match on them, so a code is added here and
// in docs/errors.md (a unit test checks both) before any code may use it.

/** Codes of a {@link ConfigError}: the user must change their input, settings or environment. */
export const CONFIG_ERROR_CODES = [
  'ACCOUNT_LOCKED',
  'ACTIVATION_EXISTS',
  'API_AUTH_REQUIRED',
  'API_BODY_TOO_LARGE',
  'API_CSRF_INVALID',
  'API_ITEM_NOT_FOUND',
  'API_JOB_NOT_FOUND',
  'API_KEY_NOT_FOUND',
  'API_REQUEST_INVALID',
  'API_ROLE_REQUIRED',
  'API_ROUTE_NOT_FOUND',
  'APP_ALREADY_INSTALLED',
  'APP_ALREADY_PURGED',
  'APP_DATA_PURGED',
  'APP_NOT_FEEDBACK',
  'APP_NOT_INSTALLED',
  'APP_UNKNOWN',
  'AUTH_FAILED',
  'COLUMN_UNKNOWN',
  'CONFIG_FILE_UNREADABLE',
  'CONFIG_INVALID',
  'CONNECTOR_DUPLICATE',
  'CONNECTOR_INVALID',
  'CONNECTOR_MISSING',
  'CONNECTOR_NOT_LOADED',
  'CUSTOMER_TABLE_INVALID',
  'CUSTOMER_TABLE_NOT_FOUND',
  'DATABASE_MISSING',
  'DATABASE_OUTDATED',
  'DATABASE_URL_INVALID',
  'DATA_MODEL_INCOMPATIBLE',
  'DATA_MODEL_INVALID',
  'DESTINATION_DIRECTORY_NOT_ALLOWED',
  'DESTINATION_EXISTS',
  'DESTINATION_INVALID',
  'DESTINATION_NOT_FOUND',
  'DESTINATION_TEST_FAILED',
  'DESTINATION_UNKNOWN',
  'DESTINATION_URL_NOT_ALLOWED',
  'ENV_INVALID',
  'ERASURE_RECEIPT_NOT_FOUND',
  'INSTALLATION_BUSY',
  'INSTALLATION_EXISTS',
  'INSTALLATION_NOT_ACTIVE',
  'INSTALLATION_NOT_FOUND',
  'LAST_WORKSPACE_ADMIN',
  'LISTEN_FAILED',
  'LOGIN_RATE_LIMITED',
  'LOGS_AFTER_WITHOUT_RUN',
  'MAPPING_INVALID',
  'MAPPING_IN_USE',
  'NOT_WORKSPACE_ADMIN',
  'PASSWORD_INVALID',
  'PROFILE_APP_PINNED',
  'PROFILE_EVALUATION_OUT_OF_ORDER',
  'PROFILE_EXISTS',
  'PROFILE_NOT_FOUND',
  'REMAP_NO_RAW_RECORDS',
  'ROW_QUERY_INVALID',
  'RUNNER_NEEDS_POSTGRES',
  'RUN_NOT_FOUND',
  'SECRET_EMPTY',
  'SECRET_FILE_UNREADABLE',
  'SECRET_KEY_FROM_ENV',
  'SECRET_KEY_INVALID',
  'SECRET_KEY_MISSING',
  'SECRET_KEY_UNKNOWN',
  'STORE_MISSING',
  'STORE_VALUE_INVALID',
  'TABLE_NOT_OURS',
  'TABLE_UNKNOWN',
  'TOKEN_EXPIRED',
  'TOKEN_FILE_EMPTY',
  'TOKEN_FILE_UNREADABLE',
  'TOKEN_MALFORMED',
  'TOKEN_NOT_APPLICABLE',
  'USAGE',
  'USER_EXISTS',
  'USER_NOT_FOUND',
  'WORKSPACE_NOT_FOUND',
] as const;

/** Codes of a {@link SourceApiError}: the source API refused, failed or misbehaved. */
export const SOURCE_API_ERROR_CODES = [
  'SOURCE_AUTH_FAILED',
  'SOURCE_BAD_RESPONSE',
  'SOURCE_CONNECTION_FAILED',
  'SOURCE_FORBIDDEN',
  'SOURCE_NOT_FOUND',
  'SOURCE_RATE_LIMITED',
  'SOURCE_REQUEST_FAILED',
  'SOURCE_TIMEOUT',
  'SOURCE_UNAVAILABLE',
  'SOURCE_VALIDATION_FAILED',
] as const;

/** Codes of a {@link StorageError}: the database failed or holds data that cannot be read. */
export const STORAGE_ERROR_CODES = [
  'CHECKPOINT_INVALID',
  'INSTALLATION_CONFIG_INVALID',
  'PROFILE_QUERY_FAILED',
  'QUEUE_START_FAILED',
  'RUN_NOT_FOUND',
  'SECRET_UNREADABLE',
  'STORE_DATA_INVALID',
  'STORE_MIGRATION_FAILED',
  'STORE_QUERY_FAILED',
  'STORE_UNREACHABLE',
  'STORE_WRITE_FAILED',
] as const;

/** Codes of an {@link InternalError}: a bug in Tributary or in a connector. */
export const INTERNAL_ERROR_CODES = ['INTERNAL', 'INVOICE_INVALID', 'PAGE_INVALID', 'PROFILE_COMPILE_FAILED', 'RUNNER_OPTIONS_INVALID', 'SCHEDULE_VERSION_INVALID'] as const;

export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];
export type SourceApiErrorCode = (typeof SOURCE_API_ERROR_CODES)[number];
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];
export type InternalErrorCode = (typeof INTERNAL_ERROR_CODES)[number];
/** Every code a Tributary error can carry. */
export type ErrorCode = ConfigErrorCode | SourceApiErrorCode | StorageErrorCode | InternalErrorCode;

/** The codes of each kind of error, as docs/errors.md lists them. */
export const ERROR_CODES = {
  ConfigError: CONFIG_ERROR_CODES,
  SourceApiError: SOURCE_API_ERROR_CODES,
  StorageError: STORAGE_ERROR_CODES,
  InternalError: INTERNAL_ERROR_CODES,
} as const;

/**
 * Marks every Tributary error. A registered symbol, so that an error thrown by a connector built
 * against another copy of core is still recognised as one (and not reported as a bug).
 */
export const ERROR_BRAND: unique symbol = Symbol.for('tributary.error') as never;

const ACTORS: ReadonlySet<unknown> = new Set(['user', 'source', 'store', 'bug']);

/** Options shared by every Tributary error. */
export interface TributaryErrorOptions {
  /** The lower-level error that caused this one, kept for diagnosis (never shown with secrets). */
  cause?: unknown;
  /** A hint telling the reader what to do next. */
  hint?: string;
}

/**
 * The one error type of Tributary. It carries a stable machine-readable `code` (for scripts and
 * exit codes), the `actor` who must act, and the underlying `cause`.
 */
export abstract class TributaryError extends Error {
  /** A stable identifier such as `CONFIG_INVALID` or `SOURCE_RATE_LIMITED`. */
  readonly code: ErrorCode;
  /** Who must act on this failure. */
  abstract readonly actor: ErrorActor;
  /** What the reader should do next, when we know. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    Object.defineProperty(this, ERROR_BRAND, { value: true });
  }
}

/** The user (operator, marketer) gave input or configuration that cannot work; they must change it. */
export class ConfigError extends TributaryError {
  readonly actor = 'user' as const;
  declare readonly code: ConfigErrorCode;

  constructor(code: ConfigErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Options of a {@link SourceApiError}. */
export interface SourceApiErrorOptions extends TributaryErrorOptions {
  /** HTTP status the source answered, when there was an answer. */
  status?: number;
  /** Whether trying again later may succeed (rate limits, time-outs, 5xx). */
  retryable: boolean;
  /** How long the source asked us to wait before the next request, in milliseconds. */
  retryAfterMs?: number;
}

/** The source API refused, failed or misbehaved. Retryable ones heal by themselves; others need the user. */
export class SourceApiError extends TributaryError {
  readonly actor = 'source' as const;
  /** HTTP status, or undefined for network failures and time-outs. */
  readonly status: number | undefined;
  /** Whether a later attempt may succeed. */
  readonly retryable: boolean;
  /** Requested pause before the next attempt, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  declare readonly code: SourceApiErrorCode;

  constructor(code: SourceApiErrorCode, message: string, options: SourceApiErrorOptions) {
    super(code, message, options);
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The database failed or holds data we cannot read; the operator must check the store. */
export class StorageError extends TributaryError {
  readonly actor = 'store' as const;
  declare readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A broken invariant inside Tributary: a bug to report. */
export class InternalError extends TributaryError {
  readonly actor = 'bug' as const;
  declare readonly code: InternalErrorCode;

  constructor(code: InternalErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * Whether a value is a Tributary error, also one made by a second copy of core (a connector package
 * with its own node_modules): recognised by its brand, its code and its actor, not by `instanceof` alone.
 */
export function isTributaryError(value: unknown): value is TributaryError {
  if (value instanceof TributaryError) return true;
  if (!(value instanceof Error)) return false;
  const v = value as unknown as Record<PropertyKey, unknown>;
  return v[ERROR_BRAND] === true && typeof v.code === 'string' && ACTORS.has(v.actor);
}

/** Wraps anything thrown into a TributaryError, treating the unknown as a bug. */
export function toTributaryError(value: unknown): TributaryError {
  if (isTributaryError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new InternalError('INTERNAL', `Unexpected failure: ${message}`, { cause: value });
}
