import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { z } from 'zod';
import { ConfigError, SourceApiError, silentLogger, type Logger, type SourceWait } from '@tributary/core';
import { isSafeProjectKey } from './config.js';
import { readTokenProject } from './token.js';

/** Validated `meta` of a page. */
export interface PageMeta {
  page: number;
  per_page: number;
  total_pages: number;
  total_results: number;
  /** The token bucket's remaining requests, when CloseAlert says. */
  requests_left?: number | undefined;
}

const count = z.number().int().min(0);

/**
 * The envelope of one page. Records stay `unknown` here: each is validated on its own by the
 * stream, so that one bad response never costs the page. `links` is ignored on purpose (the API's
 * links lack the project key), and a missing `requests_left` is tolerated: no budget information is
 * no reason to fail a sync.
 */
export const pageEnvelopeSchema = z.object({
  form_responses: z.array(z.unknown()),
  meta: z.looseObject({
    page: count,
    per_page: count,
    total_pages: count,
    total_results: count,
    requests_left: z
      .number()
      .nullish()
      .transform((left) => left ?? undefined),
  }),
});

/** One page of form responses, records not yet validated. */
export interface FormResponsesPage {
  records: unknown[];
  meta: PageMeta;
}

/** What to read: one page of one window. */
export interface FormResponsesQuery {
  since: Date;
  until: Date;
  /** Zero-based page number. */
  page: number;
  /** Results per page, 1..250. */
  perPage: number;
  formId?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Waiting and retry behaviour; every number is injectable so that tests run in milliseconds. */
export interface CloseAlertClientTuning {
  /** Time-out for the response headers and for each pause in the body. Default 30 s. */
  requestTimeoutMs?: number;
  /** Attempts per request, the first included. Default 5. */
  maxAttempts?: number;
  /** First backoff ceiling; it doubles per attempt (full jitter). Default 1 s. */
  backoffBaseMs?: number;
  /** Largest backoff ceiling. Default 60 s. */
  backoffMaxMs?: number;
  /** Wait after a 429 without `Retry-After` (CloseAlert says "wait a few minutes"). Default 120 s. */
  rateLimitWaitMs?: number;
  /** Pause before the next request when `requests_left` drops below this. Default 5. */
  requestsLeftThreshold?: number;
  /** Length of that pause. Default 60 s. */
  lowBudgetWaitMs?: number;
  /** Cap on all waiting of one client; past it the client gives up with a retryable error. Default 15 min. */
  maxTotalWaitMs?: number;
  /** Concurrent connections kept alive. Default 2 (one page read, one prefetched). */
  connections?: number;
  /** How to wait; must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1). */
  random?: () => number;
  /** Clock for `Retry-After` dates, epoch ms. */
  now?: () => number;
}

/** Everything a client needs. */
export interface CloseAlertClientOptions extends CloseAlertClientTuning {
  baseUrl: string;
  projectKey: string;
  /** The JWT; it only ever travels in the Authorization header. */
  apiToken: string;
  logger?: Logger;
  /**
   * What happens after the client gives up, for its messages. A sync's next run resumes (the
   * default); an install check has no next run.
   */
  afterGivingUp?: string;
  /** Told of every pause before it starts; whoever listens tells the operator, so the pause is logged at debug only. */
  onWait?: (wait: SourceWait) => void;
}

const ALLOW_LIST_HINT =
  "CloseAlert refused the API token (403). Either the token is wrong or expired, or this machine's outgoing IP address is not on CloseAlert's allow-list: add it under Settings → API access → Whitelisted IP's (without any listed IP the API refuses everyone). If the token expired, generate a new one and replace it with: tributary app token --workspace <ws> closealert --token <jwt>";
const ALLOW_LIST_ACTION = "Check the token, or add this machine's outgoing IP under Settings → API access → Whitelisted IP's in CloseAlert.";

/**
 * CloseAlert's 403 says only "Authentication failed", whatever the cause. The token's own `project`
 * claim tells one cause apart: a token issued for another project than the key in the URL.
 */
function authFailure(projectKey: string, tokenProject: string | undefined): { message: string; hint: string } {
  if (tokenProject !== undefined && tokenProject !== projectKey) {
    return {
      message: `CloseAlert refused the request (403). The API token was issued for project "${tokenProject}", not for the project key "${projectKey}" this installation uses: check the project key first (it is in your CloseAlert URL), or generate a token in project "${projectKey}". If both are right, the token is wrong or expired, or this machine's outgoing IP address is not on CloseAlert's allow-list (Settings → API access → Whitelisted IP's; without any listed IP the API refuses everyone).`,
      hint: `Use the project key "${tokenProject}" the token covers, or a token generated for "${projectKey}".`,
    };
  }
  if (tokenProject === undefined) {
    return {
      message: `${ALLOW_LIST_HINT} Check as well that the project key "${projectKey}" is the one in your CloseAlert URL and that the token was generated in that project.`,
      hint: `${ALLOW_LIST_ACTION} Check the project key too.`,
    };
  }
  return { message: ALLOW_LIST_HINT, hint: ALLOW_LIST_ACTION };
}

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

type Attempt =
  | { ok: true; page: FormResponsesPage }
  /** `waitMs` undefined: wait an exponential backoff; set: the source said how long. */
  | { ok: false; error: SourceApiError; waitMs?: number };

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined);
}

/** ISO-8601 in UTC, without milliseconds when there are none (CloseAlert's own examples have none). */
function formatInstant(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

function parseRetryAfter(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Client of CloseAlert's one endpoint, `GET {base}/{project_key}/form_responses`. It owns a
 * keep-alive connection pool (call {@link close}), computes every page URL itself, retries what
 * heals by itself, and turns everything else into a SourceApiError that tells the operator what to do.
 */
export class CloseAlertClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly projectKey: string;
  private readonly authorization: string;
  private readonly redactable: string;
  private readonly logger: Logger;
  private readonly onWait: ((wait: SourceWait) => void) | undefined;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly rateLimitWaitMs: number;
  private readonly requestsLeftThreshold: number;
  private readonly lowBudgetWaitMs: number;
  private readonly maxTotalWaitMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly afterGivingUp: string | undefined;
  private waitedMs = 0;
  private closed = false;
  private requestsLeft: number | undefined;

  constructor(options: CloseAlertClientOptions) {
    if (!isSafeProjectKey(options.projectKey)) {
      throw new ConfigError(
        'CONFIG_INVALID',
        'The CloseAlert project key must look like a domain such as company.com.',
      );
    }
    const token = options.apiToken.trim();
    if (token.length === 0 || /\s/.test(token)) {
      throw new ConfigError('CONFIG_INVALID', 'The CloseAlert API token is empty or contains whitespace.');
    }
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new ConfigError('CONFIG_INVALID', 'The CloseAlert base URL is not a URL.');
    }
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.projectKey = options.projectKey;
    this.authorization = `Bearer ${token}`;
    this.redactable = token;
    this.logger = options.logger ?? silentLogger();
    this.onWait = options.onWait;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.rateLimitWaitMs = options.rateLimitWaitMs ?? 120_000;
    this.requestsLeftThreshold = options.requestsLeftThreshold ?? 5;
    this.lowBudgetWaitMs = options.lowBudgetWaitMs ?? 60_000;
    this.maxTotalWaitMs = options.maxTotalWaitMs ?? 15 * 60_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.afterGivingUp = options.afterGivingUp;
    this.pool = new Pool(base.origin, {
      connections: options.connections ?? 2,
      keepAliveTimeout: 10_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: { timeout: this.timeoutMs },
    });
  }

  /** Milliseconds this client has spent waiting (backoff, rate limits, budget pauses). */
  get totalWaitedMs(): number {
    return this.waitedMs;
  }

  /** The path and query of one page; the project key is encoded, `links` in the response are never followed. */
  pathFor(query: Omit<FormResponsesQuery, 'signal'>): string {
    const params = new URLSearchParams({
      since: formatInstant(query.since),
      until: formatInstant(query.until),
      per_page: String(query.perPage),
      page: String(query.page),
    });
    if (query.formId !== undefined) params.set('form_id', String(query.formId));
    return `${this.basePath}/${encodeURIComponent(this.projectKey)}/form_responses?${params.toString()}`;
  }

  /** Reads one page, retrying transient failures within the limits. */
  async getFormResponses(query: FormResponsesQuery): Promise<FormResponsesPage> {
    const { signal } = query;
    const path = this.pathFor(query);
    if (this.requestsLeft !== undefined && this.requestsLeft < this.requestsLeftThreshold) {
      const left = this.requestsLeft;
      this.requestsLeft = undefined;
      const reason = new SourceApiError(
        'SOURCE_RATE_LIMITED',
        `CloseAlert's request budget is nearly used up (${left} requests left).`,
        { retryable: true },
      );
      this.waitLog(
        { path, requestsLeft: left, waitMs: this.lowBudgetWaitMs },
        'closealert request budget low, pausing',
      );
      await this.wait(this.lowBudgetWaitMs, reason, signal);
    }
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(path, signal);
      if (outcome.ok) return outcome.page;
      if (attempt >= this.maxAttempts) {
        throw new SourceApiError(
          outcome.error.code,
          `${outcome.error.message} Gave up after ${attempt} attempts; ${this.afterGivingUp ?? 'the next run will try again.'}`,
          {
            status: outcome.error.status,
            retryable: true,
            retryAfterMs: outcome.error.retryAfterMs,
            cause: outcome.error.cause,
          },
        );
      }
      const waitMs = outcome.waitMs ?? this.backoff(attempt);
      this.waitLog(
        { path, attempt, waitMs, code: outcome.error.code, status: outcome.error.status },
        'closealert request failed, retrying',
      );
      await this.wait(waitMs, outcome.error, signal);
    }
  }

  /** Releases the connections; calling it again does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }

  /** A pause is a warning for the log, unless a listener of `onWait` tells the operator already. */
  private waitLog(fields: Record<string, unknown>, message: string): void {
    if (this.onWait) this.logger.debug(fields, message);
    else this.logger.warn(fields, message);
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  private async wait(ms: number, reason: SourceApiError, signal: AbortSignal | undefined): Promise<void> {
    if (this.waitedMs + ms > this.maxTotalWaitMs) {
      throw new SourceApiError(
        reason.code,
        `${reason.message} Stopped waiting: this run already waited ${Math.round(this.waitedMs / 1000)} s of the ${Math.round(this.maxTotalWaitMs / 1000)} s allowed; ${this.afterGivingUp ?? 'the next run resumes from the checkpoint.'}`,
        {
          status: reason.status,
          retryable: true,
          retryAfterMs: Math.max(ms, reason.retryAfterMs ?? 0),
          cause: reason.cause,
        },
      );
    }
    this.waitedMs += ms;
    if (ms > 0) this.onWait?.({ ms, code: reason.code, reason: reason.message });
    if (ms > 0) await this.sleep(ms, signal);
    signal?.throwIfAborted();
  }

  private async attempt(path: string, signal: AbortSignal | undefined): Promise<Attempt> {
    signal?.throwIfAborted();
    const started = performance.now();
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    // undici's own header and body time-outs tick once a second; the deadline makes short time-outs exact.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.pool.request({
        method: 'GET',
        path,
        headers: { authorization: this.authorization, accept: 'application/json' },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
      status = response.statusCode;
      retryAfter = response.headers['retry-after'];
      text = await response.body.text();
    } catch (error) {
      signal?.throwIfAborted();
      this.logger.debug(
        {
          method: 'GET',
          path,
          ms: Math.round(performance.now() - started),
          error: errorCodes(error)[0] ?? (error as Error).name,
        },
        'closealert request',
      );
      return this.networkFailure(deadline.aborted ? deadline.reason : error, path);
    }
    const ms = Math.round(performance.now() - started);

    if (status === 200) {
      const page = this.parsePage(text, path);
      this.logger.debug(
        { method: 'GET', path, status, ms, requestsLeft: page.ok ? page.page.meta.requests_left : undefined },
        'closealert request',
      );
      if (page.ok) this.requestsLeft = page.page.meta.requests_left;
      return page;
    }
    this.logger.debug({ method: 'GET', path, status, ms }, 'closealert request');
    return this.statusFailure(status, text, retryAfter, path);
  }

  private parsePage(text: string, path: string): Attempt {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return this.retryAfterBackoff(
        new SourceApiError(
          'SOURCE_BAD_RESPONSE',
          `CloseAlert sent broken or truncated JSON for GET ${path}.`,
          {
            status: 200,
            retryable: true,
          },
        ),
      );
    }
    const envelope = pageEnvelopeSchema.safeParse(body);
    if (!envelope.success) {
      const fields = [
        ...new Set(envelope.error.issues.map((issue) => issue.path.map(String).join('.') || '(body)')),
      ];
      return this.retryAfterBackoff(
        new SourceApiError(
          'SOURCE_BAD_RESPONSE',
          `CloseAlert's answer to GET ${path} is not a page of form responses (unexpected ${fields.slice(0, 5).join(', ')}).`,
          { status: 200, retryable: true },
        ),
      );
    }
    return { ok: true, page: { records: envelope.data.form_responses, meta: envelope.data.meta } };
  }

  private statusFailure(
    status: number,
    text: string,
    retryAfter: string | string[] | undefined,
    path: string,
  ): Attempt {
    if (status === 429) {
      const waitMs = parseRetryAfter(retryAfter, this.now()) ?? this.rateLimitWaitMs;
      return {
        ok: false,
        waitMs,
        error: new SourceApiError('SOURCE_RATE_LIMITED', `CloseAlert rate-limited the requests (429).`, {
          status,
          retryable: true,
          retryAfterMs: waitMs,
        }),
      };
    }
    if (status === 401 || status === 403) {
      const { message, hint } = authFailure(this.projectKey, readTokenProject(this.redactable));
      throw new SourceApiError('SOURCE_AUTH_FAILED', message, { status, retryable: false, hint });
    }
    if (status === 404) {
      throw new SourceApiError(
        'SOURCE_NOT_FOUND',
        `CloseAlert answered 404 for GET ${path}: check the base URL and the project key (it looks like company.com).`,
        { status, retryable: false },
      );
    }
    if (status === 422) {
      throw new SourceApiError(
        'SOURCE_VALIDATION_FAILED',
        `CloseAlert refused the request GET ${path} (422 validation failed): ${this.describeValidation(text)}.`,
        { status, retryable: false },
      );
    }
    if (status === 504 || status === 408) {
      return this.retryAfterBackoff(
        new SourceApiError('SOURCE_TIMEOUT', `CloseAlert took too long to answer GET ${path} (${status}).`, {
          status,
          retryable: true,
        }),
      );
    }
    if (status >= 500) {
      return this.retryAfterBackoff(
        new SourceApiError('SOURCE_UNAVAILABLE', `CloseAlert failed with ${status} for GET ${path}.`, {
          status,
          retryable: true,
        }),
      );
    }
    throw new SourceApiError(
      'SOURCE_REQUEST_FAILED',
      `CloseAlert answered ${status} for GET ${path}, which Tributary does not expect.`,
      {
        status,
        retryable: false,
      },
    );
  }

  private describeValidation(text: string): string {
    const parsed = z
      .object({
        error: z.looseObject({
          description: z.string().optional(),
          attributes: z.record(z.string(), z.unknown()).optional(),
        }),
      })
      .safeParse(safeJson(text));
    if (!parsed.success) return 'no details given';
    const attributes = Object.entries(parsed.data.error.attributes ?? {}).map(
      ([name, problem]) => `${name}: ${typeof problem === 'string' ? problem : JSON.stringify(problem)}`,
    );
    const details =
      attributes.length > 0 ? attributes.join('; ') : (parsed.data.error.description ?? 'no details given');
    return this.redact(details).slice(0, 1000);
  }

  private networkFailure(error: unknown, path: string): Attempt {
    const codes = errorCodes(error);
    const cause = this.safeCause(error);
    if (
      codes.some((code) => TIMEOUT_CODES.has(code)) ||
      (error instanceof Error && error.name === 'TimeoutError')
    ) {
      return this.retryAfterBackoff(
        new SourceApiError(
          'SOURCE_TIMEOUT',
          `CloseAlert did not answer GET ${path} within ${this.timeoutMs} ms.`,
          {
            retryable: true,
            cause,
          },
        ),
      );
    }
    const message = error instanceof Error ? error.message : '';
    if (
      codes.some((code) => CONNECTION_CODES.has(code)) ||
      /terminated|other side closed|socket/i.test(message)
    ) {
      return this.retryAfterBackoff(
        new SourceApiError(
          'SOURCE_CONNECTION_FAILED',
          `The connection to CloseAlert broke during GET ${path} (${codes[0] ?? 'closed'}).`,
          {
            retryable: true,
            cause,
          },
        ),
      );
    }
    throw new SourceApiError(
      'SOURCE_REQUEST_FAILED',
      `GET ${path} to CloseAlert failed: ${this.redact(message || String(error))}`,
      {
        retryable: false,
        cause,
      },
    );
  }

  private retryAfterBackoff(error: SourceApiError): Attempt {
    return { ok: false, error };
  }

  private redact(text: string): string {
    return text.split(this.redactable).join('***');
  }

  /** A cause that keeps the diagnosis (name, code, message) but nothing that might hold the token. */
  private safeCause(error: unknown): Error {
    const codes = errorCodes(error);
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    const cause = new Error(
      this.redact(`${name}${codes.length ? ` [${codes.join(', ')}]` : ''}: ${message}`),
    );
    if (codes[0]) Object.assign(cause, { code: codes[0] });
    return cause;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
