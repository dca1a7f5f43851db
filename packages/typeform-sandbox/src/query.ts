import { CHOICES, type StoredResponse } from './generator.js';
import type { PageQuery } from './store.js';

/** Page size when the request gives none, and the most Typeform serves. */
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 1000;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** `since`/`until`: Unix seconds, or ISO-8601 (UTC when it has no offset). */
export function parseInstant(text: string): number | undefined {
  if (/^\d{1,12}$/.test(text)) return Number(text) * 1000;
  if (!ISO.test(text)) return undefined;
  const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

export type ParsedQuery = { ok: true; query: PageQuery & { completed: boolean | undefined } } | { ok: false; description: string };

/** Reads a responses request as Typeform does, refusing what Typeform refuses (with a 400). */
export function parseResponsesQuery(params: URLSearchParams, tokenOf: (token: string) => StoredResponse | undefined): ParsedQuery {
  const sizeText = params.get('page_size');
  const pageSize = sizeText === null ? DEFAULT_PAGE_SIZE : Number(sizeText);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    return { ok: false, description: `page_size must be an integer between 1 and ${MAX_PAGE_SIZE}` };
  }
  const bounds: Record<'since' | 'until', number | undefined> = { since: undefined, until: undefined };
  for (const name of ['since', 'until'] as const) {
    const text = params.get(name);
    if (text === null) continue;
    const ms = parseInstant(text);
    if (ms === undefined) return { ok: false, description: `${name} must be Unix seconds or an ISO-8601 date-time such as 2020-03-20T14:00:59` };
    bounds[name] = ms;
  }
  const sort = params.get('sort');
  const afterText = params.get('after');
  const beforeText = params.get('before');
  if (sort !== null && (afterText !== null || beforeText !== null)) {
    return { ok: false, description: 'sort cannot be used together with after or before' };
  }
  if (afterText !== null && beforeText !== null) return { ok: false, description: 'after and before cannot be used together' };
  if (sort !== null && sort !== 'submitted_at,asc' && sort !== 'submitted_at,desc') {
    return { ok: false, description: 'sort must be submitted_at,asc or submitted_at,desc' };
  }
  const after = afterText === null ? undefined : tokenOf(afterText);
  const before = beforeText === null ? undefined : tokenOf(beforeText);
  if ((afterText !== null && !after) || (beforeText !== null && !before)) return { ok: false, description: 'after/before must be the token of a response of this form' };
  const completedText = params.get('completed');
  const completed = completedText === null ? undefined : completedText === 'true';
  return {
    ok: true,
    query: {
      sinceMs: bounds.since ?? Number.NEGATIVE_INFINITY,
      untilMs: bounds.until ?? Number.POSITIVE_INFINITY,
      pageSize,
      // `after` walks forward in submission order; `before` and the default walk newest first.
      ascending: after !== undefined || sort === 'submitted_at,asc',
      after,
      before,
      completed,
    },
  };
}

/** The one workspace the sandbox's forms live in. */
export const WORKSPACE_ID = 'sandboxWs';
/** `GET /forms`: page size when the request gives none, and the most Typeform lists per page. */
export const DEFAULT_FORMS_PAGE_SIZE = 10;
export const MAX_FORMS_PAGE_SIZE = 200;

/** What one `GET /forms` request selects. */
export interface FormsQuery {
  page: number;
  pageSize: number;
  search?: string | undefined;
  workspaceId?: string | undefined;
  sortBy?: 'created_at' | 'last_updated_at' | undefined;
  orderBy?: 'asc' | 'desc' | undefined;
}

/** Reads a `GET /forms` request as Typeform does: `page` from 1, `page_size` 1-200, `search`, `workspace_id`, `sort_by`, `order_by`. */
export function parseFormsQuery(params: URLSearchParams): { ok: true; query: FormsQuery } | { ok: false; description: string } {
  const page = Number(params.get('page') ?? '1');
  const pageSize = Number(params.get('page_size') ?? String(DEFAULT_FORMS_PAGE_SIZE));
  if (!Number.isInteger(page) || page < 1) return { ok: false, description: 'page must be an integer of 1 or more' };
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_FORMS_PAGE_SIZE) {
    return { ok: false, description: `page_size must be an integer between 1 and ${MAX_FORMS_PAGE_SIZE}` };
  }
  const sortBy = params.get('sort_by') ?? undefined;
  if (sortBy !== undefined && sortBy !== 'created_at' && sortBy !== 'last_updated_at') {
    return { ok: false, description: 'sort_by must be created_at or last_updated_at' };
  }
  const orderBy = params.get('order_by') ?? undefined;
  if (orderBy !== undefined && orderBy !== 'asc' && orderBy !== 'desc') return { ok: false, description: 'order_by must be asc or desc' };
  return { ok: true, query: { page, pageSize, search: params.get('search') ?? undefined, workspaceId: params.get('workspace_id') ?? undefined, sortBy, orderBy } };
}

const SCALE_STEPS: Record<string, number> = { nps: 11, opinion_scale: 5, rating: 5 };

/** The `properties` of a field as a form definition has them, for the field types the sandbox's forms use. */
export function fieldProperties(type: string): Record<string, unknown> {
  if (type in SCALE_STEPS) return { steps: SCALE_STEPS[type], start_at_one: type !== 'nps', ...(type === 'rating' ? { shape: 'star' } : {}) };
  if (type === 'multiple_choice') {
    const choices = CHOICES.map((label, index) => ({ id: `choice${index + 1}`, ref: label.toLowerCase().replace(/\W+/g, '_'), label }));
    return { randomize: false, allow_multiple_selection: true, allow_other_choice: false, vertical_alignment: true, choices };
  }
  if (type === 'date') return { structure: 'YYYY-MM-DD', separator: '-' };
  return {};
}
