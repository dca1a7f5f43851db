import { randomUUID } from 'node:crypto';
import type { DeliveryBatch, DeliveryRecord, DeliveryStatus } from '@tributary/core';
import type { Executor } from '../database.js';
import type { Dialect } from '../dialect.js';
import { dateFromDatabase } from '../values.js';
import { boundStatement, ownTableSql, timestampValue } from '../profiles/records.js';

// The outbox: one row per batch and destination, written in the transaction that records the
// evaluation (or the activation, or the erasure), so that a change recorded is a change delivered.

/** A batch to queue for every push destination a profile is activated to. */
export interface BatchToQueue {
  profileId: string;
  workspace: string;
  profile: string;
  reason: DeliveryBatch['reason'];
  evaluationId?: string;
  evaluatedAt: Date;
  entered: readonly string[];
  left: readonly string[];
  /** Every member after the change, for destinations that want a snapshot. */
  members?: readonly string[];
  /** Only these destinations (an activation queues for its own). */
  destinationId?: string;
}

export interface DeliveryRow {
  seq: number | string;
  id: string;
  destination_id: string;
  profile_id: string;
  reason: DeliveryBatch['reason'];
  payload: unknown;
  change_count: number | string;
  status: DeliveryStatus;
  attempts: number | string;
  next_attempt_at: Date | string | null;
  last_error: string | null;
  created_at: Date | string;
  delivered_at: Date | string | null;
  workspace: string;
  destination: string;
  profile: string;
}

export function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

export function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  const optionalDate = (value: Date | string | null) => (value === null ? null : dateFromDatabase(value));
  return {
    id: row.id,
    workspace: row.workspace,
    destination: row.destination,
    profile: row.profile,
    reason: row.reason,
    count: Number(row.change_count),
    status: row.status,
    attempts: Number(row.attempts),
    createdAt: dateFromDatabase(row.created_at),
    nextAttemptAt: row.status === 'pending' ? optionalDate(row.next_attempt_at) : null,
    deliveredAt: optionalDate(row.delivered_at),
    lastError: row.last_error,
  };
}

/**
 * Queues one batch per push destination the profile is activated to, in the caller's transaction.
 * Nothing is queued when nothing changed. Returns how many batches were queued.
 */
export async function queueBatches(tx: Executor, dialect: Dialect, batch: BatchToQueue, now: Date): Promise<number> {
  if (batch.entered.length + batch.left.length === 0) return 0;
  const targets = await tx.run<{ id: string; snapshot: boolean | number }>(
    boundStatement(
      dialect,
      (b) => `SELECT d."id", d."snapshot" FROM ${ownTableSql(dialect, 'profile_activations')} a
                JOIN ${ownTableSql(dialect, 'destinations')} d ON d."id" = a."destination_id"
               WHERE a."profile_id" = ${b.bind(batch.profileId)} AND d."kind" = 'push'${
                 batch.destinationId === undefined ? '' : ` AND d."id" = ${b.bind(batch.destinationId)}`
               }
               ORDER BY d."id"`,
    ),
  );
  const changes = [
    ...batch.entered.map((email) => ({ email, change: 'entered' as const })),
    ...batch.left.map((email) => ({ email, change: 'left' as const })),
  ];
  for (const target of targets) {
    const id = randomUUID();
    const payload: DeliveryBatch = {
      id,
      workspace: batch.workspace,
      profile: batch.profile,
      reason: batch.reason,
      evaluatedAt: batch.evaluatedAt.toISOString(),
      changes,
      ...(Boolean(target.snapshot) && batch.members ? { members: [...batch.members].sort() } : {}),
    };
    await tx.run(
      boundStatement(
        dialect,
        (b) => `INSERT INTO ${ownTableSql(dialect, 'deliveries')}
                  ("id", "destination_id", "profile_id", "evaluation_id", "reason", "payload", "change_count", "status", "attempts", "next_attempt_at", "created_at")
                VALUES (${b.bind(id)}, ${b.bind(target.id)}, ${b.bind(batch.profileId)}, ${b.bind(batch.evaluationId ?? null)}, ${b.bind(batch.reason)},
                        ${b.bind(JSON.stringify(payload))}, ${b.bind(changes.length)}, 'pending', 0, ${b.bind(timestampValue(dialect, now))}, ${b.bind(timestampValue(dialect, now))})`,
      ),
    );
  }
  return targets.length;
}

/** The SELECT list and joins that name a delivery's workspace, destination and profile. */
export function deliveryColumns(dialect: Dialect, alias: string): { select: string; joins: string } {
  return {
    select: `${alias}."seq", ${alias}."id", ${alias}."destination_id", ${alias}."profile_id", ${alias}."reason", ${alias}."payload", ${alias}."change_count",
             ${alias}."status", ${alias}."attempts", ${alias}."next_attempt_at", ${alias}."last_error", ${alias}."created_at", ${alias}."delivered_at",
             w."name" AS "workspace", dd."name" AS "destination", p."name" AS "profile"`,
    joins: `JOIN ${ownTableSql(dialect, 'destinations')} dd ON dd."id" = ${alias}."destination_id"
            JOIN ${ownTableSql(dialect, 'workspaces')} w ON w."id" = dd."workspace_id"
            JOIN ${ownTableSql(dialect, 'profiles')} p ON p."id" = ${alias}."profile_id"`,
  };
}

/**
 * Claims due batches in one statement: the oldest pending batch of each (destination, profile)
 * whose next attempt is due, moved `leaseMs` on with one more attempt counted. PostgreSQL skips
 * rows another runner is claiming at the same moment; SQLite writes one at a time anyway.
 */
export async function claimDue(
  tx: Executor,
  dialect: Dialect,
  options: { now: Date; limit: number; leaseMs: number },
): Promise<string[]> {
  const table = ownTableSql(dialect, 'deliveries');
  const lease = new Date(options.now.getTime() + options.leaseMs);
  const rows = await tx.run<{ id: string }>(
    boundStatement(dialect, (b) => {
      const due = `SELECT d."seq" FROM ${table} d
                    WHERE d."status" = 'pending' AND d."next_attempt_at" <= ${b.bind(timestampValue(dialect, options.now))}
                      AND NOT EXISTS (SELECT 1 FROM ${table} o
                                       WHERE o."destination_id" = d."destination_id" AND o."profile_id" = d."profile_id"
                                         AND o."status" = 'pending' AND o."seq" < d."seq")
                    ORDER BY d."seq" LIMIT ${b.bind(options.limit)}${dialect.name === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : ''}`;
      return `UPDATE ${table} SET "attempts" = "attempts" + 1, "next_attempt_at" = ${b.bind(timestampValue(dialect, lease))}
               WHERE "seq" IN (${due}) RETURNING "id"`;
    }),
  );
  return rows.map((r) => r.id);
}
