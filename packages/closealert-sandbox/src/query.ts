import { z } from 'zod';
import type { TimeZone } from './time-zone.js';

export const MAX_PER_PAGE = 250;
export const DEFAULT_PER_PAGE = 100;
const DEFAULT_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

export interface FormResponsesQuery {
  formId: number | null;
  /** Inclusive, rounded up to the second (created_at has whole seconds only). */
  sinceMs: number;
  /** Inclusive, rounded down to the second. */
  untilMs: number;
  perPage: number;
  page: number;
  /** Filters as the links must repeat them: the caller's own text, or the rendered default. */
  sinceText: string;
  untilText: string;
}

export type QueryCheck =
  { ok: true; query: FormResponsesQuery } | { ok: false; attributes: Record<string, string> };

const PER_PAGE_MESSAGE = `must be an integer between 1 and ${MAX_PER_PAGE}`;
const PAGE_MESSAGE = 'must be an integer of 0 or more';
const DATE_MESSAGE = 'invalid date-time, expected ISO-8601';

function integerParam(message: string, min: number, max: number) {
  return z
    .string()
    .regex(/^-?\d{1,15}$/, message)
    .transform(Number)
    .pipe(z.number().min(min, message).max(max, message));
}

/**
 * Validates the query of `GET /{project_key}/form_responses` and applies the spec's defaults:
 * since = 7 days ago, until = since + 7 days, per_page 100, page 0; the window spans at most one
 * calendar month. Every problem is reported under its parameter name, as CloseAlert's 422 does.
 */
export function createQueryChecker(zone: TimeZone): (params: URLSearchParams, nowMs: number) => QueryCheck {
  const dateParam = z.string().transform((text, context) => {
    const epochMs = zone.parse(text);
    if (epochMs === undefined) {
      context.addIssue({ code: 'custom', message: DATE_MESSAGE });
      return z.NEVER;
    }
    return epochMs;
  });
  const schema = z.object({
    form_id: integerParam('must be an integer', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).optional(),
    since: dateParam.optional(),
    until: dateParam.optional(),
    per_page: integerParam(PER_PAGE_MESSAGE, 1, MAX_PER_PAGE).optional(),
    page: integerParam(PAGE_MESSAGE, 0, Number.MAX_SAFE_INTEGER).optional(),
  });

  return (params, nowMs) => checkQuery(schema, params, zone, nowMs);
}

type QuerySchema = z.ZodType<{
  form_id?: number | undefined;
  since?: number | undefined;
  until?: number | undefined;
  per_page?: number | undefined;
  page?: number | undefined;
}>;

const PARAM_NAMES = ['form_id', 'since', 'until', 'per_page', 'page'] as const;

function checkQuery(schema: QuerySchema, params: URLSearchParams, zone: TimeZone, nowMs: number): QueryCheck {
  const input: Record<string, string> = {};
  for (const name of PARAM_NAMES) {
    const value = params.get(name);
    if (value !== null) input[name] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const attributes: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'query');
      attributes[name] ??= issue.message;
    }
    return { ok: false, attributes };
  }

  const { form_id, since, until, per_page, page } = parsed.data;
  const sinceMs = since ?? nowMs - DEFAULT_WINDOW_MS;
  const untilMs = until ?? sinceMs + DEFAULT_WINDOW_MS;
  if (untilMs < sinceMs) return { ok: false, attributes: { until: 'must not be before since' } };
  if (untilMs > zone.addOneMonth(sinceMs)) {
    return { ok: false, attributes: { until: 'the date range may span at most one month' } };
  }

  const roundedSince = Math.ceil(sinceMs / 1000) * 1000;
  const roundedUntil = Math.floor(untilMs / 1000) * 1000;
  return {
    ok: true,
    query: {
      formId: form_id ?? null,
      sinceMs: roundedSince,
      untilMs: roundedUntil,
      perPage: per_page ?? DEFAULT_PER_PAGE,
      page: page ?? 0,
      sinceText: params.get('since') ?? zone.format(roundedSince),
      untilText: params.get('until') ?? zone.format(roundedUntil),
    },
  };
}
