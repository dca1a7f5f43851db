import type { Fault, RateLimit, SandboxStats } from '@tributary/sandbox-kit';

export type { Fault, RateLimit, SandboxStats };

/** A Typeform personal-access-token scope the sandbox checks. */
export type Scope = 'forms:read' | 'responses:read';

/** A field of a sandbox form, as `GET /forms/{id}` serves it. */
export interface SandboxField {
  id: string;
  ref: string;
  title: string;
  type: string;
}

/** A sandbox form. */
export interface SandboxForm {
  id: string;
  title: string;
  fields: SandboxField[];
}

/** One answer of a response, as Typeform serves it. */
export interface SandboxAnswer {
  field: { id: string; type: string; ref: string };
  type: string;
  [value: string]: unknown;
}

/** A response exactly as the sandbox serves it in `items[]`. */
export interface SandboxResponse {
  landing_id: string;
  token: string;
  response_id: string;
  response_type: 'completed';
  landed_at: string;
  submitted_at: string;
  metadata: { user_agent: string; platform: string; referer: string; network_id: string; browser: string };
  hidden: Record<string, string>;
  calculated: { score: number };
  variables: unknown[];
  answers: SandboxAnswer[];
}

export interface SandboxOptions {
  /** Default 0 (a random free port). The host is always 127.0.0.1. */
  port?: number;
  /** Default 42. Same seed + same `now` gives the same data. */
  seed?: number;
  /** How many responses to generate at start, spread over the forms. Default 0. */
  responses?: number;
  /** How many forms. Default 3. */
  forms?: number;
  /** Generated responses are spread over this many days before now. Default 365. */
  spanDays?: number;
  /** The server's clock for generation. Default the real clock. */
  now?: () => Date;
  /** Token bucket per token. Default Typeform's: { capacity: 2, refillPerSecond: 2 }. */
  rateLimit?: RateLimit;
  /** E-mails the respondents are drawn from (another sandbox's customers, say); default generated ones. */
  customerEmails?: readonly string[];
}

export interface AddResponsesOptions {
  count: number;
  /** Default: the form of each response is drawn at random. */
  formId?: string;
  /** Submission time; default now. A time in the past is a late arrival. */
  submittedAt?: Date | ((index: number) => Date);
  /** The respondent's e-mail (hidden field and e-mail question); default drawn from the customers. */
  email?: string;
  /** What every score field (nps, opinion_scale, rating) answers; default drawn. */
  score?: number;
  /** What the long-text field answers; default drawn. */
  comment?: string;
}

export interface Sandbox {
  /** Base URL, e.g. 'http://127.0.0.1:4020'. */
  url: string;
  /** A token with the scopes forms:read and responses:read. */
  token: string;
  /** A token with only the given scopes (a token the sandbox answers 403 for the rest). */
  issueToken(scopes: readonly Scope[]): string;
  forms(): readonly SandboxForm[];
  /** Adds responses; returns them as served. */
  addResponses(input: number | AddResponsesOptions): SandboxResponse[];
  /** Every response of a form (or of all forms), sorted by submission. */
  responses(formId?: string): SandboxResponse[];
  /** How many responses all forms hold. */
  responseCount(): number;
  /** Adds a form without responses; returns it. */
  addForm(title?: string): SandboxForm;
  /** Deletes a form and its responses: later requests for it answer 404. */
  deleteForm(formId: string): void;
  /** Renames a field (ids and refs stay). */
  renameField(formId: string, fieldId: string, title: string): void;
  /** Applies to the next `times` (default 1) responses requests, in FIFO order. */
  injectFault(fault: Fault, options?: { times?: number }): void;
  clearFaults(): void;
  setRateLimit(limit: RateLimit): void;
  stats(): SandboxStats;
  /** The most requests any one second saw (since `sinceMs`), to check a client's pace. */
  busiestSecond(sinceMs?: number): { second: number; requests: number };
  close(): Promise<void>;
}
