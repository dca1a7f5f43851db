import type { ProfileDefinition } from '@tributary/core';
import { FIRST_BATCH, FIRST_ROWS_SETTINGS, type Database, type Executor } from '../database.js';
import type { Statement } from '../dialect.js';
import { compileProfile, explainStatement, type MemberRow, type ProfileQueryContext } from './compile.js';

/**
 * A profile's member rows in member order, a batch at a time, for MemberGrouper. Over one app, in
 * one snapshot, two reads: the first batch through the member-order index (every match in member
 * order, newest first: no sort before the first row), then the rest ranked by the database, which
 * hashes the matching answers once and sorts, where the index's order would probe each response's
 * answers one by one. Several apps keep the ranked union from the start.
 */
export function streamedMemberRows(
  db: Database,
  definition: ProfileDefinition,
  context: Omit<ProfileQueryContext, 'streamed' | 'after'>,
  batchSize: number,
): AsyncGenerator<MemberRow[], void, undefined> {
  if (context.sources.length !== 1) return db.stream<MemberRow>(compileProfile(definition, context), batchSize);
  const firstSize = Math.min(FIRST_BATCH, batchSize);
  return db.snapshot<MemberRow[]>(async function* (reader) {
    const first = reader.rows<MemberRow>(compileProfile(definition, { ...context, streamed: true }), firstSize, { firstRows: true });
    let head: MemberRow[] = [];
    try {
      const next = await first.next();
      if (!next.done) head = next.value;
    } finally {
      // Closed before the second read: one statement at a time in a snapshot.
      await first.return();
    }
    if (head.length > 0) yield head;
    if (head.length < firstSize) return;
    // The first batch may end inside the last e-mail's matches, but it holds that e-mail's first
    // row, its newest match: its member (the first row of each e-mail, see toMembers). The rest
    // starts after it, so that no member is read twice or missed.
    const last = head[head.length - 1]!.email;
    yield* reader.rows<MemberRow>(compileProfile(definition, { ...context, after: last }), batchSize);
  });
}

/** The plan of `statement` as a stream's cursor is planned (PostgreSQL), inside `db`'s transaction. */
async function cursorPlan(db: Executor, context: Pick<ProfileQueryContext, 'dialect'>, statement: Statement, firstRows: boolean, analyze: boolean): Promise<string[]> {
  if (context.dialect !== 'postgres') {
    const rows = await db.run<Record<string, unknown>>(explainStatement(context.dialect, statement));
    return rows.map((r) => String(r['detail']));
  }
  // The settings of Database.stream's cursor; this transaction ends with them.
  for (const setting of firstRows ? FIRST_ROWS_SETTINGS : ['SET LOCAL cursor_tuple_fraction = 1.0']) await db.run({ sql: setting, params: [] });
  const plan = explainStatement(context.dialect, statement, analyze);
  const rows = await db.run<Record<string, unknown>>({
    sql: plan.sql.replace(/\) /, ') DECLARE "tributary_plan" NO SCROLL CURSOR FOR '),
    params: plan.params,
  });
  return rows.map((r) => String(r['QUERY PLAN']));
}

/**
 * The plans of a one-app stream's two reads (see {@link streamedMemberRows}), each as its cursor is
 * planned: the first batch in member order, then, when the first batch is full, the rest after its
 * last e-mail. `analyze` (PostgreSQL) runs each read whole. Over several apps, the ranked union's plan.
 */
export async function explainStreamed(
  db: Executor,
  definition: ProfileDefinition,
  context: Omit<ProfileQueryContext, 'streamed' | 'after'>,
  analyze: boolean,
): Promise<string[]> {
  if (context.sources.length !== 1) return cursorPlan(db, context, compileProfile(definition, context), false, analyze);
  const first = compileProfile(definition, { ...context, streamed: true });
  const lines = await cursorPlan(db, context, first, true, analyze);
  // The first batch itself, for the e-mail the rest starts after.
  const limit = context.dialect === 'postgres' ? `$${first.params.length + 1}` : '?';
  const head = await db.run<{ email: string }>({ sql: `SELECT f."email" FROM (${first.sql}) f LIMIT ${limit}`, params: [...first.params, FIRST_BATCH] });
  if (head.length < FIRST_BATCH) return lines;
  const rest = compileProfile(definition, { ...context, after: head[head.length - 1]!.email });
  return [...lines, '', '-- then the rest, ranked:', ...(await cursorPlan(db, context, rest, false, analyze))];
}
