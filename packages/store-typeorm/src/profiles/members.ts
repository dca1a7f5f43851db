import { ConfigError, type FeedbackForm, type ProfileMatch, type ProfileMember, type SourceId } from '@tributary/core';
import type { Executor } from '../database.js';
import type { Dialect } from '../dialect.js';
import type { MemberRow } from './compile.js';
import { boundStatement } from './records.js';
import { column, INSTALLATION, isNumericType, type FeedbackSource } from './schema.js';
import type { Target } from './records.js';

// What an evaluation returns, built from the rows of the compiled query, and the forms of each
// feedback app that profiles can name.

/** A member's response time as compileProfile returns it: epoch milliseconds, or ISO-8601 text. */
function respondedAt(value: string | number): Date {
  return new Date(typeof value === 'number' || /^-?\d+$/.test(value) ? Number(value) : value);
}

/** An id as its app's column holds it: a number for a numeric column, else text. */
function sourceId(value: string | number | bigint | null | undefined, numeric: boolean): SourceId | null {
  if (value === null || value === undefined) return null;
  return numeric ? Number(value) : String(value);
}

/**
 * The members from the compiled query's rows (ordered by e-mail; one per customer and app, or, streamed,
 * every match of a customer newest first, of which the first of each app is kept): one
 * member per e-mail, whose own response is the most recent of its matches (on a tie, the app
 * read first), with the match of each app.
 */
export function toMembers(rows: readonly MemberRow[], sources: readonly FeedbackSource[]): ProfileMember[] {
  const order = new Map(sources.map((s, i) => [s.installationId, i]));
  // Per app, once: whether its form ids are numbers (asked per row, it costs a large profile).
  const formNumeric = sources.map((source) => {
    const responses = source.view.responses;
    return responses.form !== undefined && isNumericType(source.typeOf(responses.table, responses.form));
  });
  const byEmail = new Map<string, { row: MemberRow; match: ProfileMatch }[]>();
  for (const row of rows) {
    const index = order.get(String(row.installation_id)) ?? 0;
    const source = sources[index]!;
    const list = byEmail.get(row.email);
    // A streamed query returns every match of an e-mail, newest first: the first of each app counts.
    if (list?.some((entry) => entry.match.installationId === source.installationId)) continue;
    const match: ProfileMatch = {
      app: source.app,
      installationId: source.installationId,
      responseId: String(row.response_id),
      formId: sourceId(row.form_id, formNumeric[index]!),
      score: row.score === null || row.score === undefined ? null : Number(row.score),
      respondedAt: respondedAt(row.responded_at),
    };
    if (list) list.push({ row, match });
    else byEmail.set(row.email, [{ row, match }]);
  }
  return [...byEmail.entries()].map(([email, list]) => {
    if (list.length > 1)
      list.sort(
        (a, b) =>
          b.match.respondedAt.getTime() - a.match.respondedAt.getTime() ||
          order.get(a.match.installationId)! - order.get(b.match.installationId)!,
      );
    const { row, match } = list[0]!;
    // The customer's own id from any app that links a customers table holding the e-mail.
    const customer = list.find((entry) => entry.row.customer_id !== null && entry.row.customer_id !== undefined)?.row.customer_id;
    return {
      email,
      contactId: row.contact_id ?? null,
      customerId: customer === undefined || customer === null ? null : String(customer),
      app: match.app,
      installationId: match.installationId,
      responseId: match.responseId,
      formId: match.formId,
      score: match.score,
      respondedAt: match.respondedAt,
      matches: list.map((entry) => entry.match),
    };
  });
}

/**
 * Members from the compiled query's rows as they arrive in batches. The rows of one e-mail (one per
 * app it matched in) are adjacent, as the query orders them by e-mail, but may straddle two
 * batches: the last e-mail of a batch waits for the next one (or for {@link flush}).
 */
export class MemberGrouper {
  private pending: MemberRow[] = [];

  constructor(private readonly sources: readonly FeedbackSource[]) {}

  /** The members complete with this batch. */
  add(rows: readonly MemberRow[]): ProfileMember[] {
    if (rows.length === 0) return [];
    const last = rows[rows.length - 1]!.email;
    let cut = rows.length;
    while (cut > 0 && rows[cut - 1]!.email === last) cut -= 1;
    if (cut === 0 && this.pending[0]?.email === last) {
      // The whole batch continues the e-mail already waiting.
      this.pending.push(...rows);
      return [];
    }
    const ready = this.pending.length > 0 ? [...this.pending, ...rows.slice(0, cut)] : rows.slice(0, cut);
    this.pending = rows.slice(cut);
    return ready.length === 0 ? [] : toMembers(ready, this.sources);
  }

  /** The last member, once the rows have ended. */
  flush(): ProfileMember[] {
    const rows = this.pending;
    this.pending = [];
    return rows.length === 0 ? [] : toMembers(rows, this.sources);
  }
}

/**
 * Whether to record an evaluation. Recorded membership is the profile's across all the apps it
 * reads; one narrowed to an app (of a profile that is not pinned to it) is a what-if.
 */
export function recordNarrowed(target: Target, name: string, record: boolean | undefined): boolean {
  if (!target.narrowed) return record ?? true;
  if (record === true) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `The profile "${name}" reads every feedback app of its workspace, and its recorded members are those of all of them: an evaluation narrowed to one app cannot be recorded.`,
      { hint: 'Leave out --record (a narrowed evaluation is a what-if), or create a profile pinned to that app with --app.' },
    );
  }
  return false;
}

/** The forms of one feedback app with their questions, from the tables its view names. */
export async function feedbackForms(db: Executor, dialect: Dialect, source: FeedbackSource): Promise<FeedbackForm[]> {
  const { view, tables } = source;
  const formNumeric = view.forms !== undefined && isNumericType(source.typeOf(view.forms.table, view.forms.id));
  const byId = new Map<string, FeedbackForm>();
  if (view.forms && tables.forms) {
    const f = view.forms;
    const type = f.type === undefined ? 'NULL' : column('f', f.type);
    const rows = await db.run<{ id: string | number; name: string | null; type: string | null }>(
      boundStatement(
        dialect,
        (b) =>
          `SELECT ${column('f', f.id)} AS "id", ${column('f', f.name)} AS "name", ${type} AS "type" FROM ${tables.forms} f WHERE ${column('f', INSTALLATION)} = ${b.bind(source.installationId)} ORDER BY ${column('f', f.id)}`,
      ),
    );
    for (const row of rows)
      byId.set(String(row.id), { app: source.app, id: sourceId(row.id, formNumeric)!, name: row.name, formType: row.type, questions: [] });
  }
  if (view.questions && tables.questions) {
    const qs = view.questions;
    const numeric = isNumericType(source.typeOf(qs.table, qs.form));
    const text = qs.text === undefined ? 'NULL' : column('q', qs.text);
    const type = qs.type === undefined ? 'NULL' : column('q', qs.type);
    const rows = await db.run<{ form: string | number; question: string | number; text: string | null; type: string | null }>(
      boundStatement(
        dialect,
        (b) => `SELECT ${column('q', qs.form)} AS "form", ${column('q', qs.question)} AS "question", ${text} AS "text", ${type} AS "type"
                  FROM ${tables.questions} q WHERE ${column('q', INSTALLATION)} = ${b.bind(source.installationId)} ORDER BY ${column('q', qs.form)}, ${column('q', qs.question)}`,
      ),
    );
    for (const row of rows) {
      let form = byId.get(String(row.form));
      if (!form) {
        form = { app: source.app, id: sourceId(row.form, numeric)!, name: null, formType: null, questions: [] };
        byId.set(String(row.form), form);
      }
      form.questions.push({ index: String(row.question), text: row.text, type: row.type });
    }
  }
  return [...byId.values()];
}
