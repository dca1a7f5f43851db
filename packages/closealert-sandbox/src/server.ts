import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SandboxHttp, TokenBucket } from '@tributary/sandbox-kit';
import { ResponseGenerator } from './generator.js';
import { signToken, verifyToken, type TokenClaims } from './jwt.js';
import { createQueryChecker, type FormResponsesQuery, type QueryCheck } from './query.js';
import {
  BAD_RECORD_TEXT,
  authenticationFailed,
  errorReply,
  faultStatusReply,
  jsonReply,
  tooManyRequests,
  validationFailed,
  type Reply,
} from './replies.js';
import {
  addCountSchema,
  allowListSchema,
  formResponseSchema,
  issueTokenSchema,
  optionsSchema,
  rateLimitSchema,
} from './schemas.js';
import { ResponseStore, type NewResponse } from './store.js';
import { TimeZone } from './time-zone.js';
import type {
  AddResponsesInput,
  IssueTokenOptions,
  RateLimit,
  Sandbox,
  SandboxFormResponse,
  SandboxOptions,
} from './types.js';

const ROUTE = /^\/v1\/([^/]+)\/form_responses\/?$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const DAY_SECONDS = 24 * 60 * 60;

type PageAnswer =
  { kind: 'page'; texts: string[]; meta: unknown; links: unknown } | { kind: 'reply'; reply: Reply };

/** Starts a local server that answers like CloseAlert's `GET /v1/{project_key}/form_responses`. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const settings = optionsSchema.parse(options);
  const sandbox = new SandboxServer(settings);
  await sandbox.listen(settings.port);
  return sandbox.api();
}

type Settings = ReturnType<typeof optionsSchema.parse>;

class SandboxServer {
  private readonly http: SandboxHttp;
  private readonly zone: TimeZone;
  private readonly clock: () => number;
  private readonly signingSecret: string;
  private readonly store = new ResponseStore();
  private readonly generator: ResponseGenerator;
  private readonly bucket: TokenBucket;
  private readonly checkQuery: (params: URLSearchParams, nowMs: number) => QueryCheck;
  private allowList: Set<string>;
  private tokenCount = 0;
  private baseUrl = '';

  constructor(private readonly settings: Settings) {
    const now = settings.now;
    this.clock = now === undefined ? () => Date.now() : () => now().getTime();
    this.zone = new TimeZone(settings.timeZone);
    this.signingSecret = settings.signingSecret ?? randomBytes(32).toString('base64url');
    this.allowList = normaliseAllowList(settings.allowList);
    this.bucket = new TokenBucket(settings.rateLimit);
    this.checkQuery = createQueryChecker(this.zone);
    this.generator = new ResponseGenerator({
      seed: settings.seed,
      nowMs: this.clock(),
      spanDays: settings.spanDays,
      projectKey: settings.projectKey,
      zone: this.zone,
      expectedResponses: settings.responses,
    });
    this.store.add(this.generateHistory(settings.responses));
    this.http = new SandboxHttp(
      (request, response, url) => this.handle(request, response, url),
      () => errorReply(500, 'Internal server error'),
    );
  }

  async listen(port: number): Promise<void> {
    this.baseUrl = `${await this.http.listen(port)}/v1`;
  }

  api(): Sandbox {
    return {
      url: this.baseUrl,
      projectKey: this.settings.projectKey,
      token: this.issueToken(),
      issueToken: (options) => this.issueToken(options),
      addResponses: (input) => this.addResponses(input),
      responses: () => this.store.all(),
      injectFault: (fault, options) => this.http.injectFault(fault, options),
      clearFaults: () => this.http.clearFaults(),
      setAllowList: (ips) => {
        this.allowList = normaliseAllowList(allowListSchema.parse(ips));
      },
      setRateLimit: (limit: RateLimit) => this.bucket.reset(rateLimitSchema.parse(limit)),
      stats: () => this.http.stats(),
      close: () => this.http.close(),
    };
  }

  private issueToken(options?: IssueTokenOptions): string {
    const { expiresInDays, expiresAt, signingSecret, projectKey } = issueTokenSchema.parse(options);
    const issuedAt = Math.floor(this.clock() / 1000);
    let expiry: number | undefined;
    // Rounded up so that a token is valid at least until the instant asked for.
    if (expiresAt !== undefined) expiry = Math.ceil(expiresAt.getTime() / 1000);
    else if (expiresInDays !== undefined && expiresInDays !== null)
      expiry = issuedAt + Math.round(expiresInDays * DAY_SECONDS);
    this.tokenCount += 1;
    const claims: TokenClaims = {
      sub: `sandbox-token-${this.tokenCount}`,
      project: projectKey ?? this.settings.projectKey,
      iat: issuedAt,
      ...(expiry === undefined ? {} : { exp: expiry }),
    };
    return signToken(claims, signingSecret ?? this.signingSecret);
  }

  private generateHistory(count: number): NewResponse[] {
    const times = this.generator.historyTimes(count);
    const entries: NewResponse[] = new Array<NewResponse>(count);
    for (let index = 0; index < count; index++) {
      const epochMs = times[index] as number;
      entries[index] = { record: this.generator.create(index + 1, epochMs), epochMs };
    }
    return entries;
  }

  private addResponses(input: AddResponsesInput): SandboxFormResponse[] {
    const entries = Array.isArray(input) ? this.givenResponses(input) : this.generatedResponses(input);
    this.store.add(entries);
    return entries.map((entry) => entry.record);
  }

  private givenResponses(input: readonly SandboxFormResponse[]): NewResponse[] {
    return input.map((candidate) => {
      const record = formResponseSchema.parse(candidate);
      const epochMs = this.zone.parse(record.created_at);
      if (epochMs === undefined) throw new Error(`response ${record.id} has an unparseable created_at`);
      // A copy, so that the caller changing its object later cannot desynchronise the served text.
      return { record: structuredClone(record), epochMs };
    });
  }

  private generatedResponses(
    input: number | { count: number; createdAt?: Date | ((index: number) => Date) },
  ): NewResponse[] {
    const { count, createdAt } = addCountSchema.parse(typeof input === 'number' ? { count: input } : input);
    const firstId = this.store.maxId + 1;
    const entries: NewResponse[] = [];
    for (let index = 0; index < count; index++) {
      const at =
        createdAt === undefined
          ? this.clock()
          : createdAt instanceof Date
            ? createdAt.getTime()
            : createdAt(index).getTime();
      // created_at is served with whole seconds, so the filters must see the same second.
      const epochMs = Math.floor(at / 1000) * 1000;
      entries.push({ record: this.generator.create(firstId + index, epochMs), epochMs });
    }
    return entries;
  }

  private async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const route = ROUTE.exec(url.pathname);
    if (route === null) return this.http.send(response, errorReply(404, 'Not found'));
    if (request.method !== 'GET') {
      const reply = errorReply(405, 'Method not allowed');
      reply.headers = { Allow: 'GET' };
      return this.http.send(response, reply);
    }

    const played = await this.http.playFault(request, response, faultStatusReply);
    if (played.answered) return;

    const answer = this.answerFormResponses(request, url, route[1] ?? '');
    if (answer.kind === 'reply') return this.http.sendInstead(response, answer.reply, played.fault);
    const { meta, links } = answer;
    const body = this.http.pageBody(answer.texts, played.fault, BAD_RECORD_TEXT, (records) => `{"form_responses":[${records}],"meta":${JSON.stringify(meta)},"links":${JSON.stringify(links)}}`);
    this.http.send(response, jsonReply(200, body));
  }

  private answerFormResponses(request: IncomingMessage, url: URL, encodedProjectKey: string): PageAnswer {
    const projectKey = decodePathSegment(encodedProjectKey);
    if (projectKey !== this.settings.projectKey || !this.isAuthenticated(request)) {
      return { kind: 'reply', reply: authenticationFailed() };
    }
    const budget = this.bucket.take();
    if (!budget.allowed) return { kind: 'reply', reply: tooManyRequests() };
    const check = this.checkQuery(url.searchParams, this.clock());
    if (!check.ok) return { kind: 'reply', reply: validationFailed(check.attributes) };

    const query = check.query;
    const slice = this.store.page(query.sinceMs, query.untilMs, query.formId, query.page, query.perPage);
    const totalPages = Math.ceil(slice.totalResults / query.perPage);
    const link = (page: number): string => this.pageLink(query, page);
    return {
      kind: 'page',
      texts: slice.texts,
      meta: {
        page: query.page,
        per_page: query.perPage,
        total_pages: totalPages,
        total_results: slice.totalResults,
        filters: {
          form_id: query.formId,
          since: this.zone.format(query.sinceMs),
          until: this.zone.format(query.untilMs),
        },
        requests_left: budget.remaining,
      },
      links: {
        first: link(0),
        last: link(Math.max(0, totalPages - 1)),
        next: query.page + 1 < totalPages ? link(query.page + 1) : null,
        prev: query.page > 0 ? link(query.page - 1) : null,
      },
    };
  }

  private isAuthenticated(request: IncomingMessage): boolean {
    const address = request.socket.remoteAddress;
    if (address === undefined || !this.allowList.has(normaliseAddress(address))) return false;
    const bearer = BEARER.exec(request.headers.authorization ?? '');
    if (bearer === null) return false;
    const check = verifyToken(bearer[1] ?? '', this.signingSecret, this.clock());
    return check.ok && check.claims.project === this.settings.projectKey;
  }

  private pageLink(query: FormResponsesQuery, page: number): string {
    const params = new URLSearchParams();
    if (query.formId !== null) params.set('form_id', String(query.formId));
    params.set('since', query.sinceText);
    params.set('until', query.untilText);
    params.set('per_page', String(query.perPage));
    params.set('page', String(page));
    return `${this.baseUrl}/${encodeURIComponent(this.settings.projectKey)}/form_responses?${params.toString()}`;
  }
}

function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

function normaliseAllowList(ips: readonly string[]): Set<string> {
  return new Set(ips.map((ip) => normaliseAddress(ip.trim())));
}
