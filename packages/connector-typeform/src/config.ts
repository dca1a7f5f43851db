import { z } from '@tributary/sdk';

/** Typeform's API for accounts in the US data center. */
export const US_BASE_URL = 'https://api.typeform.com';
/** Typeform's API for accounts in the EU data center. */
export const EU_BASE_URL = 'https://api.eu.typeform.com';

// Form ids go into URL paths: only the characters Typeform's ids use (u6nXL7) can never change the path.
const FORM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `id` can be a Typeform form id (and so is safe in a URL path). */
export function isSafeFormId(id: string): boolean {
  return FORM_ID_PATTERN.test(id);
}

const formIdSchema = z.string().trim().refine(isSafeFormId, {
  message: 'must be a Typeform form id such as u6nXL7 (letters, digits, "-" and "_"; it is in the form\'s URL)',
});

// Pasted by hand, so surrounding whitespace is forgiven; the message never repeats the input.
const tokenSchema = z
  .string()
  .trim()
  .min(1, 'is required: create a personal access token in Typeform under Account → Personal tokens, with the scopes forms:read and responses:read')
  .max(4096, 'is too long to be a Typeform token')
  .refine((token) => !/\s/.test(token), { message: 'must be one word: a personal access token has no spaces' });

const baseUrlSchema = z
  .string()
  .trim()
  .superRefine((text, ctx) => {
    if (!URL.canParse(text)) {
      ctx.addIssue({ code: 'custom', message: `must be an http(s) URL such as ${US_BASE_URL} or ${EU_BASE_URL}` });
      return;
    }
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must use http or https' });
    if (url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#')) {
      ctx.addIssue({ code: 'custom', message: 'must not contain a query (?) or a fragment (#)' });
    }
    if (url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password; the token authenticates' });
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

/** A list of form ids, as JSON or as text separated by commas (`--forms abc,def`). */
const formListSchema = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((id) => id.trim()).filter((id) => id !== '') : value),
  z.array(formIdSchema).min(1, 'must name at least one form id, or be left out to read every form').max(500),
);

/** Configuration of a Typeform installation. `token` is a secret. */
export const typeformConfigSchema = z
  .object({
    /** Personal access token (Bearer) with forms:read and responses:read. Secret. */
    token: tokenSchema.describe('Typeform personal access token with the scopes forms:read and responses:read'),
    /** Which data center: `us` (api.typeform.com) or `eu` (api.eu.typeform.com); `baseUrl` overrides it. */
    region: z.enum(['us', 'eu']).default('us').describe('Typeform data center of the account: us or eu'),
    /** API base URL (a sandbox, say); default follows `region`. */
    baseUrl: baseUrlSchema.optional().describe('Typeform API base URL (default from the region)'),
    /** Only these forms; absent: every form the token can read. */
    forms: formListSchema.optional().describe('only sync these form ids (comma-separated); default every form'),
    /** Where a response's e-mail comes from: a hidden field, or the form's e-mail question. */
    emailFrom: z.enum(['hidden', 'question']).default('hidden').describe('where the e-mail comes from: hidden (a hidden field) or question (the form\'s e-mail question)'),
    /** The hidden field holding the e-mail, when `emailFrom` is `hidden`. */
    emailHiddenField: z.string().trim().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be a hidden field name such as email').default('email').describe('name of the hidden field that holds the e-mail'),
    /** How far back the first run reads. */
    backfillDays: z.number().int().min(1).max(3650).default(90).describe('days of history the first sync loads'),
    /** How far before the checkpoint each run starts again, for responses that arrive late. */
    lookbackMinutes: z.number().int().min(0).max(1440).default(60).describe('minutes each run reads again before the checkpoint, for late responses'),
    /** Days the daily reconciliation pass reads again. */
    reconcileDays: z.number().int().min(1).max(90).default(7).describe('days the daily reconciliation pass reads again'),
    /** Responses per request; Typeform allows at most 1000. */
    pageSize: z.number().int().min(1).max(1000).default(1000).describe('responses per API request, 1-1000'),
    /** Plain http to another host than this machine sends the token in clear; only on explicit request. */
    allowInsecureHttp: z.boolean().optional().describe('accept plain http to another host than this machine'),
  })
  .superRefine((config, ctx) => {
    if (typeof config.baseUrl !== 'string' || !URL.canParse(config.baseUrl)) return;
    const url = new URL(config.baseUrl);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && config.allowInsecureHttp !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['baseUrl'],
        message: `uses plain http to ${url.hostname}, so the token would travel in clear: use https, or allow it explicitly (--allow-insecure-http)`,
      });
    }
  });

/** A validated Typeform configuration. */
export type TypeformConfig = z.infer<typeof typeformConfigSchema>;
/** A Typeform configuration as the operator writes it. */
export type TypeformConfigInput = z.input<typeof typeformConfigSchema>;

/** The API an installation talks to: its base URL, else its region's. */
export function baseUrlOf(config: Pick<TypeformConfig, 'baseUrl' | 'region'>): string {
  return config.baseUrl ?? (config.region === 'eu' ? EU_BASE_URL : US_BASE_URL);
}

/**
 * What names the source an installation reads: the API it talks to and its form selection, so that
 * a reinstall against the same ones takes back the data and checkpoints an uninstall kept. The region
 * and an explicit base URL that mean the same API are one source, and so are the same forms listed
 * in another order or twice; another API, another selection, or every form instead of a list is another.
 */
export function typeformSourceIdentity(config: Pick<TypeformConfig, 'baseUrl' | 'region' | 'forms'>): { baseUrl: string; forms: string[] | null } {
  const forms = config.forms === undefined ? null : [...new Set(config.forms)].sort();
  return { baseUrl: baseUrlOf(config), forms };
}
