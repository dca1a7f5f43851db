import { z } from 'zod';
import { ConfigError, describeIssues, toTributaryError, type TributaryError } from '@tributary/core';

// One error body for every failure: `{ code, message, hint }`, with the status the catalogue's code
// implies. The codes are the CLI's; only the status is the API's.

/** The body of every error answer. */
export const errorBodySchema = z
  .object({
    code: z.string().describe('A code of the error catalogue (docs/errors.md), stable for scripts'),
    message: z.string(),
    hint: z.string().nullable().describe('What to do next, when known'),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

// Codes whose status differs from their kind's default. Matched by text, because the identity codes
// (AUTH_FAILED, …) come with the identity package and this table must not depend on it.
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  API_AUTH_REQUIRED: 401,
  AUTH_FAILED: 401,
  API_ROLE_REQUIRED: 403,
  API_CSRF_INVALID: 403,
  NOT_WORKSPACE_ADMIN: 403,
  DESTINATION_DIRECTORY_NOT_ALLOWED: 403,
  DESTINATION_URL_NOT_ALLOWED: 403,
  API_REQUEST_INVALID: 400,
  USAGE: 400,
  CONFIG_INVALID: 400,
  API_BODY_TOO_LARGE: 413,
  API_ROUTE_NOT_FOUND: 404,
  API_JOB_NOT_FOUND: 404,
  API_ITEM_NOT_FOUND: 404,
  APP_NOT_INSTALLED: 404,
  APP_UNKNOWN: 404,
  INSTALLATION_NOT_FOUND: 404,
  PROFILE_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  WORKSPACE_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  DESTINATION_NOT_FOUND: 404,
  ERASURE_RECEIPT_NOT_FOUND: 404,
  ACTIVATION_EXISTS: 409,
  DESTINATION_EXISTS: 409,
  APP_ALREADY_INSTALLED: 409,
  APP_ALREADY_PURGED: 409,
  INSTALLATION_EXISTS: 409,
  INSTALLATION_NOT_ACTIVE: 409,
  LAST_WORKSPACE_ADMIN: 409,
  MAPPING_IN_USE: 409,
  PROFILE_EXISTS: 409,
  PROFILE_EVALUATION_OUT_OF_ORDER: 409,
  USER_EXISTS: 409,
  LOGIN_RATE_LIMITED: 429,
  ACCOUNT_LOCKED: 429,
  STORE_UNREACHABLE: 503,
  SOURCE_UNAVAILABLE: 503,
  SOURCE_TIMEOUT: 503,
  SOURCE_CONNECTION_FAILED: 503,
  SOURCE_RATE_LIMITED: 503,
};

/** The HTTP status of a Tributary error. */
export function statusOf(error: TributaryError): number {
  const byCode = STATUS_BY_CODE[error.code];
  if (byCode !== undefined) return byCode;
  switch (error.actor) {
    case 'user':
      // The input was understood but cannot work: the caller must change it.
      return 422;
    case 'source':
      // The source refused the settings given (token, project key): the caller must change them.
      return 422;
    case 'store':
      return 503;
    case 'bug':
      return 500;
  }
}

/** The body of an error; a bug's message is replaced, since it may carry internals. */
export function errorBodyOf(error: TributaryError): ErrorBody {
  if (error.actor === 'bug') {
    return {
      code: error.code,
      message: 'An unexpected failure inside Tributary; it is logged with this request id.',
      hint: 'Report it with the request id.',
    };
  }
  return { code: error.code, message: error.message, hint: error.hint ?? null };
}

/** Anything a route threw, as a Tributary error; Fastify's own errors (validation, body size, bad JSON) included. */
export function asTributaryError(error: unknown): TributaryError {
  const fastify = error as {
    code?: unknown;
    statusCode?: unknown;
    validation?: unknown;
    validationContext?: unknown;
    message?: unknown;
  };
  if (error instanceof z.ZodError) {
    return new ConfigError('API_REQUEST_INVALID', `Invalid request: ${describeIssues(error)}`, {
      hint: 'See /openapi.json for what this route takes.',
    });
  }
  if (fastify.validation !== undefined) {
    const where = typeof fastify.validationContext === 'string' ? fastify.validationContext : 'request';
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof z.ZodError ? describeIssues(cause) : String(fastify.message);
    return new ConfigError('API_REQUEST_INVALID', `Invalid ${where}: ${detail}`, {
      hint: 'See /openapi.json for what this route takes.',
    });
  }
  if (fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ConfigError('API_BODY_TOO_LARGE', 'The request body is larger than this server accepts.', {
      hint: 'Send a smaller body.',
    });
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return new ConfigError('API_REQUEST_INVALID', `Invalid request: ${String(fastify.message)}`, {
      hint: 'See /openapi.json for what this route takes.',
    });
  }
  return toTributaryError(error);
}
