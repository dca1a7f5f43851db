import type { ProfileDefinition } from '@tributary/core';
import { FIRST_BATCH, type Database } from '../database.js';
import { compileProfile, type MemberRow, type ProfileQueryContext } from './compile.js';

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
