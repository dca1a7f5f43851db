import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import type { z } from 'zod';
import { ConfigError, SourceApiError, silentLogger, type Logger, type SourceWait } from '@tributary/core';
import {
  defaultSleep,
  errorCodes,
  networkError,
  parseRetryAfter,
  redactText,
  statusError,
  type StatusFailure,
} from './http-errors.js';
import { RateLimiter } from './rate-limiter.js';

// undici is loaded with the first client rather than with the SDK: the CLI imports every connector
// at start-up for its install flags, and `tributary --help` should not load an HTTP client.
const requireHere = createRequire(import.meta.url);

/** How requests authenticate. Every value here is a secret: redacted from messages, causes and logs. */
export type HttpAuth =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'apiKey'; header: string; value: string };

/** Waiting and retry behaviour; every number is injectable so that tests run in milliseconds. */
export interface HttpClientTuning {
  /** Time-out for the response headers and for each pause in the body. Default 30 s. */
  requestTimeoutMs?: number;
  /** Attempts per request, the first included. Default 5. */
  maxAttempts?: number;
  /** First backoff ceiling; it doubles per attempt (full jitter). Default 1 s. */
  backoffBaseMs?: number;
  /** Largest backoff ceiling. Default 60 s. */
  backoffMaxMs?: number;
  /** Wait after a 429 without `Retry-After`. Default 120 s. */
  rateLimitWaitMs?: number;
  /** Cap on all waiting of one client (one run); past it the client gives up with a retryable error. Default 15 min. */
  maxTotalWaitMs?: number;
  /** Concurrent connections kept alive. Default 2 (one page read, one prefetched). */
  connections?: number;
  /** Client-side rate limit, requests per second; unset means none. */
  requestsPerSecond?: number;
  /** How to wait; must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1). */
  random?: () => number;
  /** Clock for `Retry-After` dates, epoch ms. */
  now?: () => number;
}

/** Everything an HTTP source client needs. */
export interface HttpClientOptions extends HttpClientTuning {
  /** The API's base URL; request paths are appended to its path. */
  baseUrl: string;
  /** The source's name as people know it, for messages: "CloseAlert". */
  source: string;
  /** Prefix of log messages ("closealert" logs "closealert request"). Default: the source in lower case. */
  logName?: string;
  auth?: HttpAuth;
  /** Headers sent with every request (not secrets: use `auth` or list them in `secrets`). */
  headers?: Record<string, string>;
  /** Further strings never to show in a message or log line. */
  secrets?: readonly string[];
  logger?: Logger;
  /** What happens after the client gives up, for its messages. Default: the next run resumes. */
  afterGivingUp?: string;
  /** Told of every pause before it starts; whoever listens tells the operator, so the pause is logged at debug only. */
  onWait?: (wait: SourceWait) => void;
  /** Told after each request with its HTTP status, or `error` when none came (for request metrics). */
  onRequest?: (status: number | 'error') => void;
  /** A connector's own explanation of a status (its 403 wording, its 422 body); undefined keeps the default. */
  explainStatus?: (failure: StatusFailure) => SourceApiError | undefined;
  /** A limiter shared with other clients of the same installation; overrides `requestsPerSecond`. */
  rateLimiter?: RateLimiter;
}

/** One GET: the query, the schema its body must match, and how to describe it. */
export interface GetOptions<T> {
  query?: Record<string, string | number | undefined>;
  /** Schema of the whole body; a body that fails it is a bad response, retried like a 5xx. */
  schema: z.ZodType<T>;
  /** What a valid body is, for messages: "a page of form responses". */
  expected?: string;
  /** Extra fields for the request's debug log line, read from the valid body. */
  logFields?: (data: T) => Record<string, unknown>;
  signal?: AbortSignal | undefined;
}

/** A validated answer. */
export interface HttpResponse<T> {
  data: T;
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

type Attempt<T> = { ok: true; response: HttpResponse<T> } | { ok: false; error: SourceApiError; waitMs?: number | undefined };

/**
 * An HTTP client for a source API on an undici keep-alive pool (call {@link close}). It retries what
 * heals by itself (5xx, time-outs, broken connections, bad bodies) with jittered exponential
 * backoff, honours `Retry-After` within one budget of waiting per run, spaces requests under a
 * rate limit, validates every body with zod, and turns everything else into a SourceApiError that
 * tells the operator what to do, with every secret redacted.
 */
export class HttpSourceClient {
  private readonly pool: Undici.Pool;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly source: string;
  private readonly logName: string;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];
  private readonly logger: Logger;
  private readonly onWait: ((wait: SourceWait) => void) | undefined;
  private readonly onRequest: ((status: number | 'error') => void) | undefined;
  private readonly explainStatus: HttpClientOptions['explainStatus'];
  private readonly limiter: RateLimiter | undefined;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly rateLimitWaitMs: number;
  private readonly maxTotalWaitMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly afterGivingUp: string | undefined;
  private waitedMs = 0;
  private closed = false;

  constructor(options: HttpClientOptions) {
    this.source = options.source;
    this.logName = options.logName ?? options.source.toLowerCase();
    this.headers = { accept: 'application/json', ...options.headers };
    this.secrets = [...(options.secrets ?? [])];
    const auth = options.auth;
    if (auth?.type === 'bearer') {
      const token = auth.token.trim();
      if (token.length === 0 || /\s/.test(token)) {
        throw new ConfigError('CONFIG_INVALID', `The ${this.source} API token is empty or contains whitespace.`);
      }
      this.headers.authorization = `Bearer ${token}`;
      this.secrets.push(token);
    } else if (auth?.type === 'basic') {
      const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
      this.headers.authorization = `Basic ${encoded}`;
      this.secrets.push(auth.password, encoded);
    } else if (auth?.type === 'apiKey') {
      if (auth.value.trim().length === 0) throw new ConfigError('CONFIG_INVALID', `The ${this.source} API key is empty.`);
      this.headers[auth.header.toLowerCase()] = auth.value;
      this.secrets.push(auth.value);
    }
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new ConfigError('CONFIG_INVALID', `The ${this.source} base URL is not a URL.`);
    }
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.logger = options.logger ?? silentLogger();
    this.onWait = options.onWait;
    this.onRequest = options.onRequest;
    this.explainStatus = options.explainStatus;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.rateLimitWaitMs = options.rateLimitWaitMs ?? 120_000;
    this.maxTotalWaitMs = options.maxTotalWaitMs ?? 15 * 60_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.afterGivingUp = options.afterGivingUp;
    this.limiter =
      options.rateLimiter ??
      (options.requestsPerSecond === undefined ? undefined : new RateLimiter(options.requestsPerSecond));
    this.pool = new (requireHere('undici') as typeof Undici).Pool(base.origin, {
      connections: options.connections ?? 2,
      keepAliveTimeout: 10_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: { timeout: this.timeoutMs },
    });
  }

  /** Milliseconds this client has spent waiting (backoff, rate limits, pauses), the rate limiter's spacing aside. */
  get totalWaitedMs(): number {
    return this.waitedMs;
  }

  /**
   * The path and query of a request: `path` is appended to the base URL's path, or is an absolute URL
   * (a next link) that must stay on the base URL's origin, so credentials never travel elsewhere.
   */
  pathFor(path: string, query: GetOptions<unknown>['query'] = {}): string {
    let target: string;
    if (/^https?:\/\//i.test(path)) {
      const url = new URL(path);
      if (url.origin !== this.origin) {
        throw new SourceApiError('SOURCE_BAD_RESPONSE', `${this.source} pointed to another host (${url.origin}); Tributary does not send credentials there.`, {
          retryable: false,
        });
      }
      target = `${url.pathname}${url.search}`;
    } else {
      target = `${this.basePath}${path.startsWith('/') ? '' : '/'}${path}`;
    }
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
    const search = params.toString();
    if (search === '') return target;
    return `${target}${target.includes('?') ? '&' : '?'}${search}`;
  }

  /** GETs and validates one body, retrying transient failures within the limits. */
  async get<T>(path: string, options: GetOptions<T>): Promise<HttpResponse<T>> {
    const { signal } = options;
    const target = this.pathFor(path, options.query);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(target, options);
      if (outcome.ok) return outcome.response;
      if (!outcome.error.retryable) throw outcome.error;
      if (attempt >= this.maxAttempts) {
        throw new SourceApiError(
          outcome.error.code,
          `${outcome.error.message} Gave up after ${attempt} attempts; ${this.afterGivingUp ?? 'the next run will try again.'}`,
          {
            status: outcome.error.status,
            retryable: true,
            retryAfterMs: outcome.error.retryAfterMs,
            cause: outcome.error.cause,
            hint: outcome.error.hint,
          },
        );
      }
      const waitMs = outcome.waitMs ?? this.backoff(attempt);
      await this.pause(waitMs, outcome.error, signal, {
        fields: { path: this.redact(target), attempt, waitMs, code: outcome.error.code, status: outcome.error.status },
        message: `${this.logName} request failed, retrying`,
      });
    }
  }

  /**
   * Waits within the run's budget, telling `onWait` first: for the source's own pacing signals a
   * connector reads (a request budget running low). Past the budget it throws `reason` as retryable.
   */
  async pause(
    ms: number,
    reason: SourceApiError,
    signal: AbortSignal | undefined,
    log?: { fields: Record<string, unknown>; message: string },
  ): Promise<void> {
    if (log) {
      // A pause is a warning for the log, unless a listener of `onWait` tells the operator already.
      if (this.onWait) this.logger.debug(log.fields, log.message);
      else this.logger.warn(log.fields, log.message);
    }
    if (this.waitedMs + ms > this.maxTotalWaitMs) {
      throw new SourceApiError(
        reason.code,
        `${reason.message} Stopped waiting: this run already waited ${Math.round(this.waitedMs / 1000)} s of the ${Math.round(this.maxTotalWaitMs / 1000)} s allowed; ${this.afterGivingUp ?? 'the next run resumes from the checkpoint.'}`,
        {
          status: reason.status,
          retryable: true,
          retryAfterMs: Math.max(ms, reason.retryAfterMs ?? 0),
          cause: reason.cause,
          hint: reason.hint,
        },
      );
    }
    this.waitedMs += ms;
    if (ms > 0) this.onWait?.({ ms, code: reason.code, reason: reason.message });
    if (ms > 0) await this.sleep(ms, signal);
    signal?.throwIfAborted();
  }

  /** Replaces every secret this client knows in `text`. */
  redact(text: string): string {
    return redactText(text, this.secrets);
  }

  /** Releases the connections; calling it again does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  private async attempt<T>(target: string, options: GetOptions<T>): Promise<Attempt<T>> {
    const { signal } = options;
    signal?.throwIfAborted();
    await this.limiter?.take(signal);
    const path = this.redact(target);
    const request = `GET ${path}`;
    const started = performance.now();
    let status: number;
    let text: string;
    let headers: HttpResponse<T>['headers'];
    // undici's own header and body time-outs tick once a second; the deadline makes short time-outs exact.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.pool.request({
        method: 'GET',
        path: target,
        headers: this.headers,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
      status = response.statusCode;
      headers = response.headers;
      text = await response.body.text();
    } catch (error) {
      signal?.throwIfAborted();
      this.onRequest?.('error');
      const ms = Math.round(performance.now() - started);
      this.logger.debug({ method: 'GET', path, ms, error: errorCodes(error)[0] ?? (error as Error).name }, `${this.logName} request`);
      const failure = networkError(deadline.aborted ? deadline.reason : error, this.source, request, this.timeoutMs, this.secrets);
      return { ok: false, error: failure };
    }
    const ms = Math.round(performance.now() - started);
    this.onRequest?.(status);
    if (status >= 200 && status < 300) {
      const parsed = this.parse(text, request, status, options);
      const extra = parsed.ok && options.logFields ? options.logFields(parsed.response.data) : {};
      this.logger.debug({ method: 'GET', path, status, ms, ...extra }, `${this.logName} request`);
      if (parsed.ok) parsed.response.headers = headers;
      return parsed;
    }
    this.logger.debug({ method: 'GET', path, status, ms }, `${this.logName} request`);
    const failure: StatusFailure = {
      status,
      request,
      body: this.redact(text),
      retryAfterMs: parseRetryAfter(headers['retry-after'], this.now()),
    };
    const error = this.explainStatus?.(failure) ?? statusError(failure, this.source, this.rateLimitWaitMs);
    return { ok: false, error, waitMs: error.retryAfterMs ?? failure.retryAfterMs };
  }

  private parse<T>(text: string, request: string, status: number, options: GetOptions<T>): Attempt<T> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {
        ok: false,
        error: new SourceApiError('SOURCE_BAD_RESPONSE', `${this.source} sent broken or truncated JSON for ${request}.`, {
          status,
          retryable: true,
        }),
      };
    }
    const result = options.schema.safeParse(body);
    if (!result.success) {
      const fields = [...new Set(result.error.issues.map((issue) => issue.path.map(String).join('.') || '(body)'))];
      return {
        ok: false,
        error: new SourceApiError(
          'SOURCE_BAD_RESPONSE',
          `${this.source}'s answer to ${request} is not ${options.expected ?? 'what Tributary expects'} (unexpected ${fields.slice(0, 5).join(', ')}).`,
          { status, retryable: true },
        ),
      };
    }
    return { ok: true, response: { data: result.data, status, headers: {} } };
  }
}
