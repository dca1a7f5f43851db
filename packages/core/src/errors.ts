/**
 * Who has to act on a failure. Every error Tributary raises says so, because an operator reading
 * "sync failed" needs to know whether to fix their settings, wait for CloseAlert, check the
 * database, or file a bug.
 */
export type ErrorActor = 'user' | 'source' | 'store' | 'bug';

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
  readonly code: string;
  /** Who must act on this failure. */
  abstract readonly actor: ErrorActor;
  /** What the reader should do next, when we know. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** The user (operator, marketer) gave input or configuration that cannot work; they must change it. */
export class ConfigError extends TributaryError {
  readonly actor = 'user' as const;
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

  constructor(code: string, message: string, options: SourceApiErrorOptions) {
    super(code, message, options);
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The database failed or holds data we cannot read; the operator must check the store. */
export class StorageError extends TributaryError {
  readonly actor = 'store' as const;
}

/** A broken invariant inside Tributary: a bug to report. */
export class InternalError extends TributaryError {
  readonly actor = 'bug' as const;
}

/** Narrowing helper that also works across duplicated module instances. */
export function isTributaryError(value: unknown): value is TributaryError {
  return value instanceof TributaryError;
}

/** Wraps anything thrown into a TributaryError, treating the unknown as a bug. */
export function toTributaryError(value: unknown): TributaryError {
  if (isTributaryError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new InternalError('INTERNAL', `Unexpected failure: ${message}`, { cause: value });
}
