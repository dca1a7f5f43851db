// The run log's filters live in the page's URL (`#/w/acme/runs?status=failed&from=2026-11-01`), so
// that a filtered log can be shared; the API takes instants, people pick days in their own zone.

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'stopped', 'abandoned'] as const;
export type RunStatusFilter = (typeof RUN_STATUSES)[number];

export interface RunFilters {
  status?: RunStatusFilter;
  /** First day shown, `YYYY-MM-DD` in the user's zone. */
  from?: string;
  /** Last day shown (included), `YYYY-MM-DD` in the user's zone. */
  to?: string;
  app?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function localMidnight(day: string, addDays = 0): Date | undefined {
  if (!DAY.test(day)) return undefined;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const date = new Date(y, m - 1, d + addDays);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The filters a URL's query holds; anything malformed is dropped rather than sent. */
export function filtersFromQuery(query: URLSearchParams): RunFilters {
  const status = query.get('status') ?? '';
  const from = query.get('from') ?? '';
  const to = query.get('to') ?? '';
  const app = query.get('app') ?? '';
  return {
    ...((RUN_STATUSES as readonly string[]).includes(status) ? { status: status as RunStatusFilter } : {}),
    ...(localMidnight(from) ? { from } : {}),
    ...(localMidnight(to) ? { to } : {}),
    ...(/^[a-z][a-z0-9_]*$/.test(app) ? { app } : {}),
  };
}

/** The API's query: local days become instants, and the `to` day counts whole (up to the next midnight). */
export function runsQuery(filters: RunFilters): { status?: RunStatusFilter; from?: string; to?: string; app?: string } {
  const from = filters.from ? localMidnight(filters.from) : undefined;
  const to = filters.to ? localMidnight(filters.to, 1) : undefined;
  return {
    ...(filters.status ? { status: filters.status } : {}),
    ...(from ? { from: from.toISOString() } : {}),
    ...(to ? { to: to.toISOString() } : {}),
    ...(filters.app ? { app: filters.app } : {}),
  };
}

/** A run's duration in milliseconds, or null while it runs (or when its end is unknown). */
export function durationMs(run: { startedAt: string; finishedAt: string | null }): number | null {
  if (!run.finishedAt) return null;
  return Math.max(0, new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime());
}
