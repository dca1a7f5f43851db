import type { Fault, RateLimit, SandboxStats } from '@tributary/sandbox-kit';
/** One answer inside a form response, shaped like CloseAlert's `answers[]` items. */
export interface SandboxAnswer {
  question: string;
  question_type: string;
  answer_type: string | null;
  question_index: string;
  /** Declared a string by the spec, but CloseAlert sends numbers too. */
  response_value: string | number | null;
}

/** A form response exactly as the sandbox serves it (the spec's `form_response`). */
export interface SandboxFormResponse {
  id: number;
  /** `YYYY-MM-DDTHH:mm:ss` without offset, in the sandbox's time zone. */
  created_at: string;
  email: string | null;
  mail_url: string;
  user_agent: string;
  device_type: string;
  operating_system: string;
  followed_up: boolean;
  merge_tags: Record<string, unknown>;
  form: { id: number; form_type: string; name: string };
  mailing: { id: number; name: string };
  group: { id: number; name: string } | null;
  answers: SandboxAnswer[];
}


export type { Fault, RateLimit, SandboxStats };

export interface SandboxOptions {
  /** Default 0 (a random free port). The host is always 127.0.0.1. */
  port?: number;
  /** Default 'company.com'. */
  projectKey?: string;
  /** Default 42. Same seed + same `now` gives the same data. */
  seed?: number;
  /** How many responses to generate at start. Default 0. */
  responses?: number;
  /** Generated responses are spread over this many days before now. Default 365. */
  spanDays?: number;
  /** The server's clock: query defaults, token expiry, generation. Default the real clock. */
  now?: () => Date;
  /** HS256 secret for tokens. Default a random one per server. */
  signingSecret?: string;
  /** Caller IPs allowed. Default loopback only; [] refuses everyone. */
  allowList?: string[];
  /** Token bucket. Default { capacity: 1000, refillPerSecond: 500 }. */
  rateLimit?: RateLimit;
  /** IANA zone in which `created_at` is rendered (without offset). Default 'UTC'. */
  timeZone?: string;
}

export interface IssueTokenOptions {
  /** null or absent: no expiry. */
  expiresInDays?: number | null;
  /** Takes precedence over expiresInDays. */
  expiresAt?: Date;
  /** Sign with another secret (a token the server must refuse). */
  signingSecret?: string;
  /** Issue for another project (a token the server must refuse for its own project). */
  projectKey?: string;
}

export type AddResponsesInput =
  number | { count: number; createdAt?: Date | ((index: number) => Date) } | SandboxFormResponse[];

export interface Sandbox {
  /** Base URL including '/v1', e.g. 'http://127.0.0.1:4010/v1'. */
  url: string;
  projectKey: string;
  /** A valid token without expiry. */
  token: string;
  issueToken(options?: IssueTokenOptions): string;
  /** Returns what was added; the store stays sorted by (created_at, id). */
  addResponses(input: AddResponsesInput): SandboxFormResponse[];
  /** Everything the sandbox can serve, sorted by (created_at, id). */
  responses(): readonly SandboxFormResponse[];
  /** Applies to the next `times` (default 1) requests to form_responses, in FIFO order. */
  injectFault(fault: Fault, options?: { times?: number }): void;
  clearFaults(): void;
  setAllowList(ips: string[]): void;
  /** Replaces the limit and refills the bucket to the new capacity. */
  setRateLimit(limit: RateLimit): void;
  stats(): SandboxStats;
  close(): Promise<void>;
}
