import { z } from 'zod';
import { timeZoneSchema } from '@tributary/sdk';

/** CloseAlert's production API. */
export const DEFAULT_BASE_URL = 'https://api.closealert.com/v1';

const PROJECT_KEY_MESSAGE =
  'must look like a domain such as company.com: letters, digits, ".", "-" and "_", starting and ending with a letter or digit (no "/", "\\", "..", "%", "?", "#", "@", ":" or spaces)';

// The key goes into the URL path. Encoding it is not enough on its own: a key that percent-encodes to
// something a proxy or the server decodes back ("%2e%2e", "..") could still change the path, so
// only the characters a domain-like key needs are accepted.
const PROJECT_KEY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** Whether `key` is a project key that cannot change the URL it is put into. */
export function isSafeProjectKey(key: string): boolean {
  return PROJECT_KEY_PATTERN.test(key) && !key.includes('..');
}

const projectKeySchema = z.string().refine(isSafeProjectKey, { message: PROJECT_KEY_MESSAGE });

// Three base64url segments; the signature may be checked only by CloseAlert.
const JWT_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

// Tokens are pasted by hand, so surrounding whitespace is forgiven; the message never repeats the input.
const apiTokenSchema = z
  .string()
  .trim()
  .min(1, 'is required: create one in CloseAlert under Settings → API access → Generate API Access Token')
  .max(8192, 'is too long to be a CloseAlert token')
  .refine((token) => JWT_PATTERN.test(token), {
    message:
      'must be the JWT CloseAlert shows once when you generate it: three base64url parts separated by dots',
  });

const baseUrlSchema = z
  .string()
  .trim()
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an http(s) URL such as https://api.closealert.com/v1',
      });
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: 'must use http or https' });
    }
    if (url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#')) {
      ctx.addIssue({ code: 'custom', message: 'must not contain a query (?) or a fragment (#)' });
    }
    if (url.username !== '' || url.password !== '') {
      ctx.addIssue({
        code: 'custom',
        message: 'must not contain a user name or password; the token authenticates',
      });
    }
  })
  .transform((text) => {
    const url = new URL(text);
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  });

/** Whether a URL's host is this machine: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Configuration of a CloseAlert installation. `apiToken` is a secret. */
export const closeAlertConfigSchema = z.object({
  /** CloseAlert project key, domain-like (`company.com`); it becomes a URL path segment. */
  projectKey: projectKeySchema.describe('CloseAlert project key, as in your CloseAlert URL (e.g. company.com)'),
  /** The JWT generated in CloseAlert under Settings → API access. Secret. */
  apiToken: apiTokenSchema.describe('CloseAlert API token (Settings → API access), a JWT'),
  /** API base URL, without trailing slash. */
  baseUrl: baseUrlSchema.default(DEFAULT_BASE_URL).describe('CloseAlert API base URL'),
  /** Only read responses of this form. */
  formId: z.number().int().positive().optional().describe('only sync responses of this form id'),
  /** How far back the first run reads. */
  backfillDays: z.number().int().min(1).max(3650).default(90).describe('days of history the first sync loads'),
  /** Zone of `created_at` values that come without a UTC offset. */
  timeZone: timeZoneSchema.default('UTC').describe('time zone of CloseAlert timestamps without offset'),
  /** Responses per request; CloseAlert allows at most 250. */
  pageSize: z.number().int().min(1).max(250).default(250).describe('responses per API request, 1-250'),
  /** How far before the checkpoint each run starts again, to catch responses that arrived late. */
  lookbackMinutes: z.number().int().min(0).max(1440).default(60).describe('minutes each run reads again before the checkpoint, for late responses'),
  /**
   * Days the daily reconciliation pass reads again, to store responses that appeared later than the
   * look-back reaches.
   */
  reconcileDays: z.number().int().min(1).max(90).default(7).describe('days the daily reconciliation pass reads again'),
  /** Plain http to another host than this machine sends the token in clear; only on explicit request. */
  allowInsecureHttp: z.boolean().optional().describe('accept plain http to another host than this machine'),
}).superRefine((config, ctx) => {
  // An invalid base URL has its own issue already.
  if (typeof config.baseUrl !== 'string' || !URL.canParse(config.baseUrl)) return;
  const url = new URL(config.baseUrl);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && config.allowInsecureHttp !== true) {
    ctx.addIssue({
      code: 'custom',
      path: ['baseUrl'],
      message: `uses plain http to ${url.hostname}, so the API token would travel in clear: use https, or allow it explicitly (--allow-insecure-http)`,
    });
  }
});

/** A validated CloseAlert configuration. */
export type CloseAlertConfig = z.infer<typeof closeAlertConfigSchema>;
/** A CloseAlert configuration as the operator writes it. */
export type CloseAlertConfigInput = z.input<typeof closeAlertConfigSchema>;
