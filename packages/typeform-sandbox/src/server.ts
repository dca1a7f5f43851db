import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  SandboxHttp,
  TokenBucket,
  jsonReply,
  proxyReply,
  rateLimitSchema,
  withRetryAfter,
  type RateLimit,
  type Reply,
  type StatusFault,
} from '@tributary/sandbox-kit';
import { ResponseGenerator, formatTime, type StoredResponse } from './generator.js';
import { fieldProperties, parseFormsQuery, parseResponsesQuery, WORKSPACE_ID } from './query.js';
import { ResponseStore } from './store.js';
import type { AddResponsesOptions, Sandbox, SandboxForm, SandboxOptions, Scope } from './types.js';

const DAY_MS = 86_400_000;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const FORMS_ROUTE = /^\/forms\/?$/;
const FORM_ROUTE = /^\/forms\/([^/]+)\/?$/;
const RESPONSES_ROUTE = /^\/forms\/([^/]+)\/responses\/?$/;

const optionsSchema = z.object({
  port: z.number().int().min(0).max(65535).default(0),
  seed: z.number().int().default(42),
  responses: z.number().int().min(0).default(0),
  forms: z.number().int().min(1).max(100).default(3),
  spanDays: z.number().positive().default(365),
  now: z.custom<() => Date>((value) => typeof value === 'function').optional(),
  rateLimit: rateLimitSchema.default({ capacity: 2, refillPerSecond: 2 }),
  customerEmails: z.array(z.string()).optional(),
});

/** Typeform's error body: a code and a description. */
export function typeformError(status: number, code: string, description: string, headers?: Record<string, string>): Reply {
  return jsonReply(status, JSON.stringify({ code, description }), headers);
}

function faultReply(fault: StatusFault): Reply {
  switch (fault.status) {
    case 429:
      return withRetryAfter(typeformError(429, 'RATE_LIMITED', 'Too many requests'), fault);
    case 502:
    case 503:
      return proxyReply(fault.status);
    case 500:
      return typeformError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    case 504:
      return typeformError(504, 'GATEWAY_TIMEOUT', 'Gateway timeout');
  }
}

/** A response of the wrong shape, standing in for one real response of a page. */
export const BAD_RECORD_TEXT = JSON.stringify({ token: 17, submitted_at: 'yesterday', hidden: 'none', answers: 'not-an-array' });

/** Starts a local server that answers like Typeform's `GET /forms`, `GET /forms/{id}` and `GET /forms/{id}/responses`. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const settings = optionsSchema.parse(options);
  const server = new TypeformSandbox(settings);
  const url = await server.http.listen(settings.port);
  return server.api(url);
}

type Settings = z.infer<typeof optionsSchema>;

class TypeformSandbox {
  readonly http: SandboxHttp;
  private readonly generator: ResponseGenerator;
  private readonly store = new ResponseStore();
  private readonly forms = new Map<string, SandboxForm>();
  private readonly formTimes = new Map<string, { createdMs: number; updatedMs: number }>();
  /** Where the server listens: the links a form carries point back to it. */
  private baseUrl = '';
  private readonly tokens = new Map<string, ReadonlySet<Scope>>();
  private readonly buckets = new Map<string, TokenBucket>();
  private rateLimit: RateLimit;
  private readonly clock: () => number;
  private seq = 0;

  constructor(settings: Settings) {
    this.clock = settings.now ? () => settings.now!().getTime() : () => Date.now();
    this.rateLimit = settings.rateLimit;
    this.generator = new ResponseGenerator(settings.seed, settings.customerEmails, settings.responses);
    for (let index = 0; index < settings.forms; index++) this.addForm();
    const nowMs = Math.floor(this.clock() / 1000) * 1000;
    const spanMs = settings.spanDays * DAY_MS;
    // History spread evenly, oldest first, on whole seconds as Typeform serves them.
    const history: StoredResponse[] = [];
    for (let index = 0; index < settings.responses; index++) {
      const at = nowMs - spanMs + Math.floor(((index + 1) * spanMs) / (settings.responses + 1));
      history.push(this.entry(Math.floor(at / 1000) * 1000));
    }
    this.store.add(history);
    this.http = new SandboxHttp(
      (request, response, url) => this.handle(request, response, url),
      () => typeformError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'),
    );
  }

  api(url: string): Sandbox {
    this.baseUrl = url;
    const token = this.issueToken(['forms:read', 'responses:read']);
    return {
      url,
      token,
      issueToken: (scopes) => this.issueToken(scopes),
      forms: () => [...this.forms.values()].map((form) => structuredClone(form)),
      addResponses: (input) => this.addResponses(typeof input === 'number' ? { count: input } : input),
      responses: (formId) => this.store.all(formId).map((entry) => this.render(entry)),
      responseCount: () => this.store.size,
      addForm: (title) => structuredClone(this.addForm(title)),
      deleteForm: (formId) => {
        this.forms.delete(formId);
        this.formTimes.delete(formId);
        this.store.deleteForm(formId);
      },
      renameField: (formId, fieldId, title) => {
        const field = this.forms.get(formId)?.fields.find((f) => f.id === fieldId);
        if (!field) throw new Error(`no field ${fieldId} on form ${formId}`);
        field.title = title;
        this.formTimes.set(formId, { ...this.times(formId), updatedMs: Math.floor(this.clock() / 1000) * 1000 });
      },
      injectFault: (fault, faultOptions) => this.http.injectFault(fault, faultOptions),
      clearFaults: () => this.http.clearFaults(),
      setRateLimit: (limit) => {
        this.rateLimit = rateLimitSchema.parse(limit);
        this.buckets.clear();
      },
      stats: () => this.http.stats(),
      busiestSecond: (sinceMs) => this.http.busiestSecond(sinceMs),
      close: () => this.http.close(),
    };
  }

  private issueToken(scopes: readonly Scope[]): string {
    // Shaped like Typeform's personal access tokens (tfp_…), random per server.
    const token = `tfp_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, new Set(scopes));
    return token;
  }

  private times(formId: string): { createdMs: number; updatedMs: number } {
    return this.formTimes.get(formId) ?? { createdMs: 0, updatedMs: 0 };
  }

  /** A form as `GET /forms` lists it. */
  private summary(form: SandboxForm) {
    const { createdMs, updatedMs } = this.times(form.id);
    const self = `${this.baseUrl}/forms/${form.id}`;
    return {
      id: form.id,
      type: 'form',
      title: form.title,
      created_at: formatTime(createdMs),
      last_updated_at: formatTime(updatedMs),
      settings: { is_public: true, is_trial: false },
      self: { href: self },
      theme: { href: `${this.baseUrl}/themes/qHWOQ7` },
      _links: { display: `https://sandbox.typeform.com/to/${form.id}`, responses: `${self}/responses` },
    };
  }

  /** A form as `GET /forms/{form_id}` describes it: its fields with their properties, and the hidden fields. */
  private definition(form: SandboxForm) {
    const { type, title, created_at, last_updated_at, settings, theme, _links } = this.summary(form);
    return {
      id: form.id,
      type,
      title,
      created_at,
      last_updated_at,
      workspace: { href: `${this.baseUrl}/workspaces/${WORKSPACE_ID}` },
      theme,
      settings: { ...settings, language: 'en', progress_bar: 'proportion', show_progress_bar: true },
      hidden: ['email'],
      fields: form.fields.map((field) => ({ ...field, properties: fieldProperties(field.type), validations: { required: field.type === 'nps' } })),
      _links,
    };
  }

  private addForm(title?: string): SandboxForm {
    const form = this.generator.createForm(this.forms.size, title);
    const nowMs = Math.floor(this.clock() / 1000) * 1000;
    this.formTimes.set(form.id, { createdMs: nowMs, updatedMs: nowMs });
    this.forms.set(form.id, form);
    this.store.addForm(form.id);
    return form;
  }

  private entry(submittedMs: number, formId?: string, email?: string, fixed: Pick<StoredResponse, 'score' | 'comment'> = {}): StoredResponse {
    const ids = [...this.forms.keys()];
    this.seq += 1;
    return {
      seq: this.seq,
      formId: formId ?? ids[this.generator.pickIndex(ids.length)]!,
      submittedMs,
      token: this.generator.token(this.seq),
      email: email ?? this.generator.drawEmail(),
      ...fixed,
    };
  }

  private addResponses(input: AddResponsesOptions) {
    if (input.formId !== undefined && !this.forms.has(input.formId)) throw new Error(`no form ${input.formId}`);
    const entries: StoredResponse[] = [];
    for (let index = 0; index < input.count; index++) {
      const at = input.submittedAt === undefined ? this.clock() : input.submittedAt instanceof Date ? input.submittedAt.getTime() : input.submittedAt(index).getTime();
      entries.push(this.entry(Math.floor(at / 1000) * 1000, input.formId, input.email, { score: input.score, comment: input.comment }));
    }
    this.store.add(entries);
    return entries.map((entry) => this.render(entry));
  }

  private render(entry: StoredResponse) {
    return this.generator.render(entry, this.forms.get(entry.formId)!);
  }

  private authorize(request: IncomingMessage, scope: Scope): Reply | undefined {
    const bearer = BEARER.exec(request.headers.authorization ?? '');
    const scopes = bearer ? this.tokens.get(bearer[1]!) : undefined;
    if (!bearer || !scopes) return typeformError(401, 'AUTHENTICATION_FAILED', 'Authentication credentials not found on the Request Headers');
    if (!scopes.has(scope)) return typeformError(403, 'FORBIDDEN', `The token is missing the scope ${scope}`);
    let bucket = this.buckets.get(bearer[1]!);
    if (!bucket) this.buckets.set(bearer[1]!, (bucket = new TokenBucket(this.rateLimit)));
    if (!bucket.take().allowed) return typeformError(429, 'RATE_LIMITED', 'Too many requests: at most 2 per second', { 'Retry-After': '1' });
    return undefined;
  }

  private async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (request.method !== 'GET') return this.http.send(response, typeformError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed'));
    const path = url.pathname;
    const responsesRoute = RESPONSES_ROUTE.exec(path);
    if (responsesRoute) return this.answerResponses(request, response, url, decodeURIComponent(responsesRoute[1]!));
    const formRoute = FORM_ROUTE.exec(path);
    if (formRoute) {
      const refused = this.authorize(request, 'forms:read');
      if (refused) return this.http.send(response, refused);
      const form = this.forms.get(decodeURIComponent(formRoute[1]!));
      if (!form) return this.http.send(response, notFound(formRoute[1]!));
      return this.http.send(response, jsonReply(200, JSON.stringify(this.definition(form))));
    }
    if (FORMS_ROUTE.test(path)) {
      const refused = this.authorize(request, 'forms:read');
      if (refused) return this.http.send(response, refused);
      const query = parseFormsQuery(url.searchParams);
      if (!query.ok) return this.http.send(response, typeformError(400, 'VALIDATION_ERROR', query.description));
      const { page, pageSize, search, workspaceId, sortBy, orderBy } = query.query;
      let all = [...this.forms.values()].filter((form) => search === undefined || form.title.toLowerCase().includes(search.toLowerCase()));
      if (workspaceId !== undefined && workspaceId !== WORKSPACE_ID) all = [];
      if (sortBy !== undefined) {
        const key = (form: SandboxForm) => (sortBy === 'created_at' ? this.times(form.id).createdMs : this.times(form.id).updatedMs);
        all = all.map((form, order) => ({ form, order })).sort((a, b) => key(a.form) - key(b.form) || a.order - b.order).map((entry) => entry.form);
        if (orderBy === 'desc') all.reverse();
      }
      const items = all.slice((page - 1) * pageSize, page * pageSize).map((form) => this.summary(form));
      return this.http.send(response, jsonReply(200, JSON.stringify({ total_items: all.length, page_count: Math.ceil(all.length / pageSize), items })));
    }
    return this.http.send(response, typeformError(404, 'NOT_FOUND', 'Not found'));
  }

  private async answerResponses(request: IncomingMessage, response: ServerResponse, url: URL, formId: string): Promise<void> {
    const played = await this.http.playFault(request, response, faultReply);
    if (played.answered) return;
    const refused = this.authorize(request, 'responses:read');
    if (refused) return this.http.sendInstead(response, refused, played.fault);
    if (!this.forms.has(formId)) return this.http.sendInstead(response, notFound(formId), played.fault);
    const parsed = parseResponsesQuery(url.searchParams, (token) => this.store.byTokenOf(token));
    if (!parsed.ok) return this.http.sendInstead(response, typeformError(400, 'VALIDATION_ERROR', parsed.description), played.fault);
    const { completed, ...query } = parsed.query;
    const page = completed === false ? { entries: [], total: 0 } : this.store.page(formId, query);
    const texts = page.entries.map((entry) => JSON.stringify(this.render(entry)));
    const body = this.http.pageBody(texts, played.fault, BAD_RECORD_TEXT, (items) => `{"total_items":${page.total},"page_count":${Math.ceil(page.total / query.pageSize)},"items":[${items}]}`);
    this.http.send(response, jsonReply(200, body));
  }
}

function notFound(formId: string): Reply {
  return typeformError(404, 'FORM_NOT_FOUND', `Non existing form with uid ${formId.slice(0, 64)}`);
}
