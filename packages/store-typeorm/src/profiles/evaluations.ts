import { ConfigError, type ProfileHistoryEntry } from '@tributary/core';
import type { Executor } from '../database.js';
import { chunk, internalTable, type Dialect } from '../dialect.js';
import { dateFromDatabase } from '../values.js';
import {
  boundStatement,
  difference,
  DELETE_CHUNK,
  notFound,
  ownTableSql,
  timestampValue,
  type Membership,
} from './records.js';

// The recorded evaluations of profiles: who is a member now, what an evaluation changed, and the
// history of those changes. The definitions and the evaluation itself are in repository.ts.

/** The members as of the latest recorded evaluation, and when that was, in one statement. */
export async function membership(db: Executor, dialect: Dialect, profileId: string): Promise<Membership> {
  const rows = await db.run<{
    email_normalized: string | null;
    ordinal: number | string | null;
    evaluated_at: Date | string | null;
  }>(
    boundStatement(
      dialect,
      (b) => `SELECT NULL AS "email_normalized", e."ordinal", e."evaluated_at"
                FROM ${ownTableSql(dialect, 'profile_evaluations')} e
               WHERE e."profile_id" = ${b.bind(profileId)}
                 AND e."ordinal" = (SELECT MAX(x."ordinal") FROM ${ownTableSql(dialect, 'profile_evaluations')} x WHERE x."profile_id" = ${b.bind(profileId)})
              UNION ALL
              SELECT m."email_normalized", NULL, NULL FROM ${ownTableSql(dialect, 'profile_members')} m WHERE m."profile_id" = ${b.bind(profileId)}`,
    ),
  );
  const current = new Set<string>();
  let previous: { ordinal: number; evaluatedAt: Date } | undefined;
  for (const row of rows) {
    if (row.email_normalized !== null) current.add(row.email_normalized);
    else if (row.ordinal !== null && row.evaluated_at !== null)
      previous = { ordinal: Number(row.ordinal), evaluatedAt: dateFromDatabase(row.evaluated_at) };
  }
  return { current, ...(previous ? { previous } : {}) };
}

/** An evaluation to record: its members' e-mails, compared with the members recorded last. */
export interface EvaluationToRecord {
  workspace: string;
  name: string;
  profileId: string;
  installationId: string;
  evaluationId: string;
  evaluatedAt: Date;
  emails: readonly string[];
}

/**
 * Records an evaluation in the caller's transaction: the evaluation row, who entered and who left
 * since the previous one, and the new members. Returns those changes and the previous evaluation.
 */
export async function recordEvaluation(
  tx: Executor,
  dialect: Dialect,
  evaluation: EvaluationToRecord,
): Promise<{ entered: string[]; left: string[]; previous: Membership['previous'] }> {
  const { workspace, name, profileId, evaluationId, emails } = evaluation;
  const now = evaluation.evaluatedAt;
  const memberSet = new Set(emails);
  // Two evaluations of one profile at once would both diff against the same members; one waits.
  const lock = dialect.transactionLock(`profile:${profileId}`);
  if (lock) await tx.run(lock);
  const [still] = await tx.run<{ id: string }>(
    boundStatement(
      dialect,
      (b) => `SELECT "id" FROM ${ownTableSql(dialect, 'profiles')} WHERE "id" = ${b.bind(profileId)}`,
    ),
  );
  if (!still) throw notFound(workspace, name);
  const { current, previous } = await membership(tx, dialect, profileId);
  // Entered and left are measured from the latest recorded evaluation: one recorded back in time
  // would become that baseline, and the next evaluation would announce everyone again.
  if (previous && previous.evaluatedAt.getTime() > now.getTime()) {
    throw new ConfigError(
      'PROFILE_EVALUATION_OUT_OF_ORDER',
      `The profile "${name}" was last recorded as of ${previous.evaluatedAt.toISOString()}; an evaluation as of ${now.toISOString()} cannot be recorded after it.`,
      { hint: 'Leave out --record (an evaluation as of an earlier time is a what-if), or evaluate as of a later time.' },
    );
  }
  const entered = difference(emails, current);
  const left = difference([...current], memberSet);
  await tx.run(
    boundStatement(
      dialect,
      (b) => `INSERT INTO ${ownTableSql(dialect, 'profile_evaluations')}
                ("id", "profile_id", "installation_id", "ordinal", "evaluated_at", "recorded_at", "member_count", "entered_count", "left_count")
              VALUES (${b.bind(evaluationId)}, ${b.bind(profileId)}, ${b.bind(evaluation.installationId)}, ${b.bind((previous?.ordinal ?? 0) + 1)},
                      ${b.bind(timestampValue(dialect, now))}, ${b.bind(timestampValue(dialect, new Date()))}, ${b.bind(emails.length)}, ${b.bind(entered.length)}, ${b.bind(left.length)})`,
    ),
  );
  const changes = [
    ...entered.map((email) => [evaluationId, email, 'entered']),
    ...left.map((email) => [evaluationId, email, 'left']),
  ];
  for (const statement of dialect.buildInsert({
    table: internalTable(dialect, 'profile_membership_changes'),
    columns: [
      { name: 'evaluation_id', type: 'uuid' },
      { name: 'email_normalized', type: 'text' },
      { name: 'change', type: 'text' },
    ],
    rows: changes,
    conflictKey: [],
    onConflict: { action: 'nothing' },
  })) {
    await tx.run(statement);
  }
  for (const emailsLeft of chunk(left, DELETE_CHUNK)) {
    await tx.run(
      boundStatement(
        dialect,
        (b) =>
          `DELETE FROM ${ownTableSql(dialect, 'profile_members')} WHERE "profile_id" = ${b.bind(profileId)} AND "email_normalized" IN (${emailsLeft.map((e) => b.bind(e)).join(', ')})`,
      ),
    );
  }
  for (const statement of dialect.buildInsert({
    table: internalTable(dialect, 'profile_members'),
    columns: [
      { name: 'profile_id', type: 'uuid' },
      { name: 'email_normalized', type: 'text' },
      { name: 'since_evaluation_id', type: 'uuid' },
    ],
    rows: entered.map((email) => [profileId, email, evaluationId]),
    conflictKey: [],
    onConflict: { action: 'nothing' },
  })) {
    await tx.run(statement);
  }
  return { entered, left, previous };
}

/** The latest `limit` recorded evaluations of a profile with their membership changes, newest first. */
export async function readHistory(
  db: Executor,
  dialect: Dialect,
  profileId: string,
  limit: number,
): Promise<ProfileHistoryEntry[]> {
  const evaluations = await db.run<{
    id: string;
    evaluated_at: Date | string;
    member_count: number | string;
  }>(
    boundStatement(
      dialect,
      (b) => `SELECT "id", "evaluated_at", "member_count" FROM ${ownTableSql(dialect, 'profile_evaluations')}
               WHERE "profile_id" = ${b.bind(profileId)} ORDER BY "ordinal" DESC LIMIT ${b.bind(limit)}`,
    ),
  );
  const entries = new Map<string, ProfileHistoryEntry>(
    evaluations.map((e) => [
      e.id,
      {
        evaluationId: e.id,
        evaluatedAt: dateFromDatabase(e.evaluated_at),
        memberCount: Number(e.member_count),
        entered: [],
        left: [],
      },
    ]),
  );
  for (const ids of chunk([...entries.keys()], DELETE_CHUNK)) {
    const changes = await db.run<{
      evaluation_id: string;
      email_normalized: string;
      change: 'entered' | 'left';
    }>(
      boundStatement(
        dialect,
        (
          b,
        ) => `SELECT "evaluation_id", "email_normalized", "change" FROM ${ownTableSql(dialect, 'profile_membership_changes')}
                 WHERE "evaluation_id" IN (${ids.map((id) => b.bind(id)).join(', ')})`,
      ),
    );
    for (const change of changes)
      entries.get(change.evaluation_id)?.[change.change].push(change.email_normalized);
  }
  // Sorted here rather than by the database, whose text order depends on its collation.
  for (const entry of entries.values()) {
    entry.entered.sort();
    entry.left.sort();
  }
  return [...entries.values()];
}
