import { z } from 'zod';
import {
  ConfigError,
  HttpSourceClient,
  SourceApiError,
  type HttpClientTuning,
  type Logger,
  type SourceWait,
  type StatusFailure,
} from '@tributary/sdk';
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
export interface CloseAlertClientTuning extends HttpClientTuning {
  /** Pause before the next request when `requests_left` drops below this. Default 5. */
  requestsLeftThreshold?: number;
  /** Length of that pause. Default 60 s. */
  lowBudgetWaitMs?: number;
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
  /** Told after each request with its HTTP status, or `error` (for request metrics). */
  onRequest?: (status: number | 'error') => void;
}

const ALLOW_LIST_HINT =
  "CloseAlert refused the API token (403). Either the token is wrong or expired, or this machine's outgoing IP address is not on CloseAlert's allow-list: add it under Settings → API access → Whitelisted IP's (without any listed IP the API refuses everyone). If the token expired, generate a new one and replace it with: tributary app token --workspace <ws> closealert --token-file <file>";
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

/** ISO-8601 in UTC, without milliseconds when there are none (CloseAlert's own examples have none). */
function formatInstant(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

const validationBodySchema = z.object({
  error: z.looseObject({
    description: z.string().optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  }),
});

function describeValidation(body: string): string {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 'no details given';
  }
  const parsed = validationBodySchema.safeParse(json);
  if (!parsed.success) return 'no details given';
  const attributes = Object.entries(parsed.data.error.attributes ?? {}).map(
    ([name, problem]) => `${name}: ${typeof problem === 'string' ? problem : JSON.stringify(problem)}`,
  );
  const details = attributes.length > 0 ? attributes.join('; ') : (parsed.data.error.description ?? 'no details given');
  return details.slice(0, 1000);
}

/**
 * Client of CloseAlert's one endpoint, `GET {base}/{project_key}/form_responses`, on the SDK's HTTP
 * client: this class adds only what is CloseAlert's own, namely the page URL (computed, never taken
 * from `links`), the 403/404/422 explanations and the pause when `requests_left` runs low.
 */
export class CloseAlertClient {
  private readonly http: HttpSourceClient;
  private readonly projectKey: string;
  private readonly tokenProject: string | undefined;
  private readonly requestsLeftThreshold: number;
  private readonly lowBudgetWaitMs: number;
  private requestsLeft: number | undefined;

  constructor(options: CloseAlertClientOptions) {
    if (!isSafeProjectKey(options.projectKey)) {
      throw new ConfigError('CONFIG_INVALID', 'The CloseAlert project key must look like a domain such as company.com.');
    }
    const { projectKey, apiToken, requestsLeftThreshold, lowBudgetWaitMs, ...rest } = options;
    this.projectKey = projectKey;
    this.requestsLeftThreshold = requestsLeftThreshold ?? 5;
    this.lowBudgetWaitMs = lowBudgetWaitMs ?? 60_000;
    this.http = new HttpSourceClient({
      ...rest,
      source: 'CloseAlert',
      auth: { type: 'bearer', token: apiToken },
      explainStatus: (failure) => this.explain(failure),
    });
    this.tokenProject = readTokenProject(apiToken.trim());
  }

  /** Milliseconds this client has spent waiting (backoff, rate limits, budget pauses). */
  get totalWaitedMs(): number {
    return this.http.totalWaitedMs;
  }

  /** The path and query of one page; the project key is encoded, `links` in the response are never followed. */
  pathFor(query: Omit<FormResponsesQuery, 'signal'>): string {
    return this.http.pathFor(`/${encodeURIComponent(this.projectKey)}/form_responses`, this.queryOf(query));
  }

  /** Reads one page, retrying transient failures within the limits. */
  async getFormResponses(query: FormResponsesQuery): Promise<FormResponsesPage> {
    const { signal } = query;
    if (this.requestsLeft !== undefined && this.requestsLeft < this.requestsLeftThreshold) {
      const left = this.requestsLeft;
      this.requestsLeft = undefined;
      const reason = new SourceApiError(
        'SOURCE_RATE_LIMITED',
        `CloseAlert's request budget is nearly used up (${left} requests left).`,
        { retryable: true },
      );
      await this.http.pause(this.lowBudgetWaitMs, reason, signal, {
        fields: { path: this.pathFor(query), requestsLeft: left, waitMs: this.lowBudgetWaitMs },
        message: 'closealert request budget low, pausing',
      });
    }
    const response = await this.http.get(`/${encodeURIComponent(this.projectKey)}/form_responses`, {
      query: this.queryOf(query),
      schema: pageEnvelopeSchema,
      expected: 'a page of form responses',
      logFields: (page) => ({ requestsLeft: page.meta.requests_left }),
      signal,
    });
    this.requestsLeft = response.data.meta.requests_left;
    return { records: response.data.form_responses, meta: response.data.meta };
  }

  /** Releases the connections; calling it again does nothing. */
  close(): Promise<void> {
    return this.http.close();
  }

  private queryOf(query: Omit<FormResponsesQuery, 'signal'>): Record<string, string | number | undefined> {
    return {
      since: formatInstant(query.since),
      until: formatInstant(query.until),
      per_page: query.perPage,
      page: query.page,
      form_id: query.formId,
    };
  }

  private explain(failure: StatusFailure): SourceApiError | undefined {
    const { status, request } = failure;
    if (status === 401 || status === 403) {
      const { message, hint } = authFailure(this.projectKey, this.tokenProject);
      return new SourceApiError('SOURCE_AUTH_FAILED', message, { status, retryable: false, hint });
    }
    if (status === 404) {
      return new SourceApiError(
        'SOURCE_NOT_FOUND',
        `CloseAlert answered 404 for ${request}: check the base URL and the project key (it looks like company.com).`,
        { status, retryable: false },
      );
    }
    if (status === 422) {
      return new SourceApiError(
        'SOURCE_VALIDATION_FAILED',
        `CloseAlert refused the request ${request} (422 validation failed): ${describeValidation(failure.body)}.`,
        { status, retryable: false },
      );
    }
    return undefined;
  }
}
