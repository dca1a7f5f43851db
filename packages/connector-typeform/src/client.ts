import {
  HttpSourceClient,
  SourceApiError,
  z,
  type HttpClientTuning,
  type Logger,
  type SourceWait,
  type StatusFailure,
} from '@tributary/sdk';
import { isSafeFormId } from './config.js';
import { formDefinitionSchema, type FormDefinition } from './record.js';

/** Typeform allows about 2 requests per second per token and answers 429 beyond. */
export const TYPEFORM_REQUESTS_PER_SECOND = 2;

/** The command that replaces an installation's token without reinstalling. */
export const REPLACE_TOKEN_COMMAND = 'tributary app token --workspace <ws> typeform --token-file <file>';

const count = z.number().int().min(0);

/** One page of `GET /forms/{form_id}/responses`; items stay `unknown` until each is validated alone. */
export const responsesPageSchema = z.looseObject({
  total_items: count,
  page_count: count,
  items: z.array(z.unknown()),
});
export type ResponsesPage = z.infer<typeof responsesPageSchema>;

/** One page of `GET /forms`. */
export const formsPageSchema = z.looseObject({
  total_items: count,
  page_count: count,
  items: z.array(z.looseObject({ id: z.string(), title: z.string().nullish() })),
});
export type FormsPage = z.infer<typeof formsPageSchema>;

/** What to read of one form's responses. */
export interface ResponsesQuery {
  formId: string;
  since: Date;
  until: Date;
  pageSize: number;
  /** The token of the last response read: the next page starts after it (then no `sort`). */
  after?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Waiting and retry behaviour; every number is injectable so that tests run in milliseconds. */
export type TypeformClientTuning = HttpClientTuning;

/** Everything a client needs. */
export interface TypeformClientOptions extends TypeformClientTuning {
  baseUrl: string;
  /** The personal access token; it only ever travels in the Authorization header. */
  token: string;
  logger?: Logger;
  afterGivingUp?: string;
  onWait?: (wait: SourceWait) => void;
}

const errorBodySchema = z.looseObject({ code: z.string().optional(), description: z.string().optional(), details: z.array(z.unknown()).optional() });

function describeBody(body: string): string {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(body));
    if (parsed.success) return (parsed.data.description ?? parsed.data.code ?? 'no details given').slice(0, 500);
  } catch {
    // not JSON: fall through
  }
  return 'no details given';
}

/** ISO-8601 UTC to the second, as Typeform takes `since` and `until`. */
export function formatInstant(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * Client of Typeform's Create (forms) and Responses APIs on the SDK's HTTP client, kept within 2
 * requests per second. It adds only what is Typeform's own: the paths, and what 401, 403, 404 and
 * 400 mean there.
 */
export class TypeformClient {
  private readonly http: HttpSourceClient;

  constructor(options: TypeformClientOptions) {
    const { token, ...rest } = options;
    this.http = new HttpSourceClient({
      requestsPerSecond: TYPEFORM_REQUESTS_PER_SECOND,
      ...rest,
      source: 'Typeform',
      auth: { type: 'bearer', token },
      explainStatus: (failure) => this.explain(failure),
    });
  }

  /** One page (1-based) of the forms the token can read. */
  async listForms(page: number, pageSize: number, signal?: AbortSignal): Promise<FormsPage> {
    const response = await this.http.get('/forms', { query: { page, page_size: pageSize }, schema: formsPageSchema, expected: 'a page of forms', signal });
    return response.data;
  }

  /** A form's definition: its title and fields. */
  async getForm(formId: string, signal?: AbortSignal): Promise<FormDefinition> {
    const response = await this.http.get(`/forms/${this.formPath(formId)}`, { schema: formDefinitionSchema, expected: 'a form definition', signal });
    return response.data;
  }

  /**
   * One page of a form's completed responses in [since, until], oldest first: the first page sorts by
   * `submitted_at` ascending, later ones continue `after` the last token (Typeform refuses `sort` with
   * `after`, and orders by submission then).
   */
  async getResponses(query: ResponsesQuery): Promise<ResponsesPage> {
    const response = await this.http.get(`/forms/${this.formPath(query.formId)}/responses`, {
      query: {
        page_size: query.pageSize,
        since: formatInstant(query.since),
        until: formatInstant(query.until),
        completed: 'true',
        ...(query.after === undefined ? { sort: 'submitted_at,asc' } : { after: query.after }),
      },
      schema: responsesPageSchema,
      expected: 'a page of responses',
      logFields: (page) => ({ items: page.items.length, totalItems: page.total_items }),
      signal: query.signal,
    });
    return response.data;
  }

  /** Releases the connections; calling it again does nothing. */
  close(): Promise<void> {
    return this.http.close();
  }

  private formPath(formId: string): string {
    if (!isSafeFormId(formId)) {
      throw new SourceApiError('SOURCE_BAD_RESPONSE', 'Typeform listed a form id that cannot be a form id; the run stops before using it in a URL.', { retryable: false });
    }
    return encodeURIComponent(formId);
  }

  private explain(failure: StatusFailure): SourceApiError | undefined {
    const { status, request } = failure;
    if (status === 401) {
      return new SourceApiError('SOURCE_AUTH_FAILED', 'Typeform refused the personal access token (401): it is wrong or was revoked.', {
        status,
        retryable: false,
        hint: `Create a token in Typeform (Account → Personal tokens) with the scopes forms:read and responses:read, then replace it with: ${REPLACE_TOKEN_COMMAND}`,
      });
    }
    if (status === 403) {
      return new SourceApiError('SOURCE_FORBIDDEN', `Typeform refused ${request} (403): the token lacks a scope, or the form belongs to a workspace the token cannot read.`, {
        status,
        retryable: false,
        hint: `Give the token the scopes forms:read and responses:read (Account → Personal tokens), then replace it with: ${REPLACE_TOKEN_COMMAND}`,
      });
    }
    if (status === 404) {
      return new SourceApiError('SOURCE_NOT_FOUND', `Typeform answered 404 for ${request}: the form does not exist (it may have been deleted), or the base URL is not Typeform's API.`, {
        status,
        retryable: false,
        hint: 'Check the form ids (--forms) and the region or base URL (EU accounts use https://api.eu.typeform.com).',
      });
    }
    if (status === 400) {
      return new SourceApiError('SOURCE_VALIDATION_FAILED', `Typeform refused the request ${request} (400): ${describeBody(failure.body)}.`, { status, retryable: false });
    }
    return undefined;
  }
}
