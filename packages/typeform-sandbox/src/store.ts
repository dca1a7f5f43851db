import type { StoredResponse } from './generator.js';

/** Orders responses as Typeform processes them: by submission, then by arrival. */
function compare(a: StoredResponse, b: StoredResponse): number {
  return a.submittedMs - b.submittedMs || a.seq - b.seq;
}

/** First index whose entry is not before `probe` (by submission time, then sequence). */
function lowerBound(entries: readonly StoredResponse[], submittedMs: number, seq: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const entry = entries[mid]!;
    if (entry.submittedMs < submittedMs || (entry.submittedMs === submittedMs && entry.seq < seq)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** What one responses request selects. */
export interface PageQuery {
  sinceMs: number;
  untilMs: number;
  pageSize: number;
  /** Oldest first (`sort=submitted_at,asc`, or `after`); else newest first, Typeform's default. */
  ascending: boolean;
  after?: StoredResponse | undefined;
  before?: StoredResponse | undefined;
}

/** The responses of every form, each form's sorted by submission. */
export class ResponseStore {
  private readonly byForm = new Map<string, StoredResponse[]>();
  private readonly byToken = new Map<string, StoredResponse>();
  private count = 0;

  addForm(formId: string): void {
    if (!this.byForm.has(formId)) this.byForm.set(formId, []);
  }

  deleteForm(formId: string): void {
    for (const entry of this.byForm.get(formId) ?? []) this.byToken.delete(entry.token);
    this.count -= this.byForm.get(formId)?.length ?? 0;
    this.byForm.delete(formId);
  }

  hasForm(formId: string): boolean {
    return this.byForm.has(formId);
  }

  /** Adds responses in any order; a late one (submitted before others) lands in its place. */
  add(entries: readonly StoredResponse[]): void {
    const touched = new Set<string>();
    for (const entry of entries) {
      const list = this.byForm.get(entry.formId);
      if (!list) throw new Error(`no form ${entry.formId}`);
      list.push(entry);
      this.byToken.set(entry.token, entry);
      touched.add(entry.formId);
      this.count += 1;
    }
    for (const formId of touched) this.byForm.get(formId)!.sort(compare);
  }

  get size(): number {
    return this.count;
  }

  byTokenOf(token: string): StoredResponse | undefined {
    return this.byToken.get(token);
  }

  all(formId?: string): StoredResponse[] {
    if (formId !== undefined) return [...(this.byForm.get(formId) ?? [])];
    return [...this.byForm.values()].flat().sort(compare);
  }

  /** One page of a form's responses, and how many the query selects in all. */
  page(formId: string, query: PageQuery): { entries: StoredResponse[]; total: number } {
    const list = this.byForm.get(formId) ?? [];
    let start = lowerBound(list, query.sinceMs, Number.NEGATIVE_INFINITY);
    let end = lowerBound(list, query.untilMs + 1, Number.NEGATIVE_INFINITY);
    if (query.after) start = Math.max(start, lowerBound(list, query.after.submittedMs, query.after.seq) + 1);
    if (query.before) end = Math.min(end, lowerBound(list, query.before.submittedMs, query.before.seq));
    const total = Math.max(0, end - start);
    const entries = query.ascending
      ? list.slice(start, Math.min(end, start + query.pageSize))
      : list.slice(Math.max(start, end - query.pageSize), end).reverse();
    return { entries, total };
  }
}
