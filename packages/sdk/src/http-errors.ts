import { setTimeout as delay } from 'node:timers/promises';
import { SourceApiError } from '@tributary/core';

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const CONNECTION_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** Waits `ms`, rejecting when the signal aborts. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined);
}

/** The `code`s along an error's cause chain (undici nests the socket's under its own). */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Replaces every secret in `text`; empty secrets are ignored so that nothing else is masked. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('***');
  return out;
}

/** A cause that keeps the diagnosis (name, code, message) but nothing that might hold a secret. */
export function safeCause(error: unknown, secrets: readonly string[]): Error {
  const codes = errorCodes(error);
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const cause = new Error(redactText(`${name}${codes.length ? ` [${codes.join(', ')}]` : ''}: ${message}`, secrets));
  if (codes[0]) Object.assign(cause, { code: codes[0] });
  return cause;
}

/**
 * Classifies a failure without an HTTP answer: time-outs and broken connections heal by themselves
 * (retryable), anything else is a request that cannot work as configured.
 */
export function networkError(
  error: unknown,
  source: string,
  request: string,
  timeoutMs: number,
  secrets: readonly string[],
): SourceApiError {
  const codes = errorCodes(error);
  const cause = safeCause(error, secrets);
  if (codes.some((code) => TIMEOUT_CODES.has(code)) || (error instanceof Error && error.name === 'TimeoutError')) {
    return new SourceApiError('SOURCE_TIMEOUT', `${source} did not answer ${request} within ${timeoutMs} ms.`, {
      retryable: true,
      cause,
    });
  }
  const message = error instanceof Error ? error.message : '';
  if (codes.some((code) => CONNECTION_CODES.has(code)) || /terminated|other side closed|socket/i.test(message)) {
    return new SourceApiError(
      'SOURCE_CONNECTION_FAILED',
      `The connection to ${source} broke during ${request} (${codes[0] ?? 'closed'}).`,
      { retryable: true, cause },
    );
  }
  return new SourceApiError(
    'SOURCE_REQUEST_FAILED',
    `${request} to ${source} failed: ${redactText(message || String(error), secrets)}`,
    { retryable: false, cause },
  );
}

/** What the source answered, for a connector's own explanation of a status. */
export interface StatusFailure {
  status: number;
  /** `GET /path?query`, secrets never included. */
  request: string;
  /** The body as text, already redacted. */
  body: string;
  /** `Retry-After` in milliseconds when the source sent one. */
  retryAfterMs: number | undefined;
}

/**
 * The default reading of an HTTP status: 429 rate limited, 401/403 refused credentials, 404 not
 * found, 408/504 time-out, other 5xx unavailable; everything else an unexpected answer.
 */
export function statusError(failure: StatusFailure, source: string, rateLimitWaitMs: number): SourceApiError {
  const { status, request } = failure;
  if (status === 429) {
    const waitMs = failure.retryAfterMs ?? rateLimitWaitMs;
    return new SourceApiError('SOURCE_RATE_LIMITED', `${source} rate-limited the requests (429).`, {
      status,
      retryable: true,
      retryAfterMs: waitMs,
    });
  }
  if (status === 401) {
    return new SourceApiError('SOURCE_AUTH_FAILED', `${source} refused the credentials (401): they are wrong, expired or revoked.`, {
      status,
      retryable: false,
      hint: `Check the credentials configured for ${source}, or replace them.`,
    });
  }
  if (status === 403) {
    return new SourceApiError('SOURCE_AUTH_FAILED', `${source} forbade ${request} (403): the credentials lack the permission (a scope, a role or an allow-listed IP).`, {
      status,
      retryable: false,
      hint: `Grant the credentials access to this resource in ${source}, or use credentials that have it.`,
    });
  }
  if (status === 404) {
    return new SourceApiError('SOURCE_NOT_FOUND', `${source} answered 404 for ${request}: check the base URL and the resource it names.`, {
      status,
      retryable: false,
    });
  }
  if (status === 422 || status === 400) {
    return new SourceApiError('SOURCE_VALIDATION_FAILED', `${source} refused the request ${request} (${status}): ${failure.body.slice(0, 500) || 'no details given'}.`, {
      status,
      retryable: false,
    });
  }
  if (status === 504 || status === 408) {
    return new SourceApiError('SOURCE_TIMEOUT', `${source} took too long to answer ${request} (${status}).`, { status, retryable: true });
  }
  if (status >= 500) {
    return new SourceApiError('SOURCE_UNAVAILABLE', `${source} failed with ${status} for ${request}.`, { status, retryable: true });
  }
  return new SourceApiError('SOURCE_REQUEST_FAILED', `${source} answered ${status} for ${request}, which Tributary does not expect.`, {
    status,
    retryable: false,
  });
}
