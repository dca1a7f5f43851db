import type { ProfileEvaluation, ProfileMatch, ProfileMember, StreamedProfileEvaluation } from '@tributary/core';
import { toCsv } from '../csv.js';
import { println, type Io } from '../io.js';
import { formatTable } from '../text-table.js';

// How `tributary profiles run` and `changes` print an evaluation: a table, CSV or JSON.

/** An output format of the profile commands. */
export type Format = 'table' | 'csv' | 'json';

// `app` last, so that scripts reading the columns of earlier versions by position still work.
const MEMBER_HEADER = [
  'email',
  'customer_id',
  'contact_id',
  'response_id',
  'form_id',
  'score',
  'responded_at',
  'app',
];

/** A member's row: its own (most recent) matching response, or `match`, another of its apps' matches. */
function memberFields(member: ProfileMember, match: ProfileMatch = member): (string | number | null)[] {
  return [
    member.email,
    member.customerId ?? member.contactId,
    member.contactId,
    match.responseId,
    match.formId,
    match.score,
    match.respondedAt.toISOString(),
    match.app,
  ];
}

/** One row per member, or with `eachApp` one per member and app it matched in (newest first). */
function memberRows(members: readonly ProfileMember[], eachApp: boolean): (string | number | null)[][] {
  return eachApp ? members.flatMap((m) => m.matches.map((match) => memberFields(m, match))) : members.map((m) => memberFields(m));
}

function memberJson(member: ProfileMember): Record<string, unknown> {
  return {
    ...member,
    customerId: member.customerId ?? member.contactId,
    respondedAt: member.respondedAt.toISOString(),
    matches: member.matches.map((m) => ({ ...m, respondedAt: m.respondedAt.toISOString() })),
  };
}

function summary(evaluation: ProfileEvaluation | StreamedProfileEvaluation): string {
  const count = 'members' in evaluation ? evaluation.members.length : evaluation.memberCount;
  const since = evaluation.previousEvaluatedAt
    ? `since the evaluation of ${evaluation.previousEvaluatedAt.toISOString()}`
    : 'at this first evaluation';
  const recorded = evaluation.evaluationId ? '' : ' (not recorded)';
  const apps = evaluation.apps.length > 1 ? ` across ${evaluation.apps.join(', ')}` : ` in ${evaluation.apps.join(', ')}`;
  return `${count} members of "${evaluation.profile.name}"${apps} at ${evaluation.evaluatedAt.toISOString()}; ${evaluation.entered.length} entered and ${evaluation.left.length} left ${since}${recorded}.`;
}

/** Writes a profile's members as a table for a terminal (CSV and JSON are streamed: {@link streamMembers}). */
export function printMembers(io: Io, evaluation: ProfileEvaluation, maxRows?: number, eachApp = false): void {
  const shown = maxRows === undefined ? evaluation.members : evaluation.members.slice(0, maxRows);
  // The terminal gets one id column: the customer's own id where linked, else the contact id.
  const header = MEMBER_HEADER.filter((column) => column !== 'contact_id');
  const rows = memberRows(shown, eachApp).map((fields) =>
    fields.filter((_, i) => MEMBER_HEADER[i] !== 'contact_id').map((v) => (v === null ? '' : String(v))),
  );
  if (rows.length > 0) println(io.stdout, formatTable(header, rows));
  if (shown.length < evaluation.members.length)
    println(io.stdout, `… and ${evaluation.members.length - shown.length} more`);
  println(io.stdout, summary(evaluation));
}

/**
 * Writes a streamed evaluation's members as CSV or JSON while they are read, waiting for a slow
 * reader, and stops reading (which stops the query and records nothing) once the reader has gone.
 * The summary goes to stderr at the end; undefined when the reader left first.
 */
export async function streamMembers(
  io: Io,
  members: AsyncGenerator<ProfileMember[], StreamedProfileEvaluation, undefined>,
  format: 'csv' | 'json',
  eachApp: boolean,
): Promise<StreamedProfileEvaluation | undefined> {
  const out = io.stdout;
  const write = async (text: string): Promise<boolean> => {
    if (out.write(text) === false && out.drained) await out.drained();
    return !out.closed?.();
  };
  let first = true;
  if (format === 'csv' && !(await write(toCsv(MEMBER_HEADER, [])))) {
    await members.return(undefined as never);
    return undefined;
  }
  for (;;) {
    const next = await members.next();
    if (next.done) {
      // An empty list is `[]`, as the non-streamed output printed it.
      if (format === 'json') await write(first ? '[]\n' : '\n]\n');
      println(io.stderr, summary(next.value));
      return next.value;
    }
    let text: string;
    if (format === 'csv') {
      text = toCsv([], memberRows(next.value, eachApp)).slice(2);
    } else {
      // The same document as JSON.stringify(members, null, 2) printed, one batch at a time.
      text = '';
      for (const member of next.value) {
        text += `${first ? '[\n  ' : ',\n  '}${JSON.stringify(memberJson(member), null, 2).replaceAll('\n', '\n  ')}`;
        first = false;
      }
    }
    if (!(await write(text))) {
      await members.return(undefined as never);
      return undefined;
    }
  }
}

export function printChanges(io: Io, evaluation: ProfileEvaluation, format: Format): void {
  const rows = [
    ...evaluation.entered.map((email) => ['entered', email]),
    ...evaluation.left.map((email) => ['left', email]),
  ];
  if (format === 'json') {
    println(
      io.stdout,
      JSON.stringify(
        {
          profile: evaluation.profile.name,
          evaluatedAt: evaluation.evaluatedAt.toISOString(),
          previousEvaluatedAt: evaluation.previousEvaluatedAt?.toISOString() ?? null,
          members: evaluation.members.length,
          entered: evaluation.entered,
          left: evaluation.left,
        },
        null,
        2,
      ),
    );
    return;
  }
  if (format === 'csv') {
    io.stdout.write(toCsv(['change', 'email'], rows));
    println(io.stderr, summary(evaluation));
    return;
  }
  if (rows.length > 0) println(io.stdout, formatTable(['change', 'email'], rows));
  println(io.stdout, summary(evaluation));
}
