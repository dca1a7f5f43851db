import type { Executor } from './database.js';
import { internalTable, type Dialect } from './dialect.js';
import { mentions, Params } from './person-tables.js';
import { storedJson } from './migrations/helpers.js';
import { ERASED } from './personal-data-log.js';

// The destinations' outbox holds e-mails in its batches (who entered, who left, the members of a
// snapshot), kept for retries and as a record of what was sent. An erasure takes the person out of
// every batch; a batch left with no change to send is dropped. The one batch that must name them is
// the `left` the erasure itself queues, so that receivers drop them too: once delivered (or given up
// on), its address is erased as well (see {@link redactForgetBatch}).

interface Batch {
  changes?: { email?: unknown }[];
  members?: unknown[];
}

/** Whether the database has the outbox (an older schema may not). */
async function hasOutbox(tx: Executor, dialect: Dialect): Promise<boolean> {
  const table = internalTable(dialect, 'deliveries');
  return (await tx.run(dialect.describeTable(table.schema, table.name))).length > 0;
}

/** Takes the person out of every batch but the pending `left` batches of erasures; returns the batches changed or dropped. */
export async function eraseFromDeliveries(tx: Executor, dialect: Dialect, email: string): Promise<number> {
  if (!(await hasOutbox(tx, dialect))) return 0;
  const deliveries = internalTable(dialect, 'deliveries').sql;
  const params = new Params(dialect);
  const rows = await tx.query<{ id: string; status: string; payload: unknown }>(
    `SELECT "id", "status", "payload" FROM ${deliveries}
      WHERE NOT ("reason" = 'forget' AND "status" = 'pending') AND LOWER(CAST("payload" AS TEXT)) LIKE ${params.add(`%${email.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)} ESCAPE '\\'`,
    params.values,
  );
  let changed = 0;
  for (const row of rows) {
    const batch = storedJson(row.payload) as Batch | undefined;
    if (!batch || typeof batch !== 'object') continue;
    const changes = (batch.changes ?? []).filter((c) => !mentions(c.email, email));
    const members = batch.members?.filter((m) => !mentions(m, email));
    const p = new Params(dialect);
    if (changes.length === 0 && row.status === 'pending') {
      await tx.query(`DELETE FROM ${deliveries} WHERE "id" = ${p.add(row.id)}`, p.values);
    } else {
      const payload = { ...batch, changes, ...(members ? { members } : {}) };
      await tx.query(`UPDATE ${deliveries} SET "payload" = ${p.add(JSON.stringify(payload))}, "change_count" = ${p.add(changes.length)} WHERE "id" = ${p.add(row.id)}`, p.values);
    }
    changed += 1;
  }
  return changed;
}

/** The condition that keeps the pending `left` batches of erasures out of the final sweep. */
export function pendingForgetBatches(dialect: Dialect): { table: string; keep: string } {
  return { table: internalTable(dialect, 'deliveries').name, keep: `("reason" = 'forget' AND "status" = 'pending')` };
}

/** After a `left` batch of an erasure was delivered or given up on: its addresses are erased too. */
export async function redactForgetBatch(db: Executor, dialect: Dialect, id: string): Promise<void> {
  const deliveries = internalTable(dialect, 'deliveries').sql;
  const p = new Params(dialect);
  const [row] = await db.query<{ payload: unknown }>(
    `SELECT "payload" FROM ${deliveries} WHERE "id" = ${p.add(id)} AND "reason" = 'forget' AND "status" <> 'pending'`,
    p.values,
  );
  const batch = row ? (storedJson(row.payload) as Batch | undefined) : undefined;
  if (!batch || typeof batch !== 'object') return;
  const payload = { ...batch, changes: (batch.changes ?? []).map((c) => ({ ...c, email: ERASED })) };
  const u = new Params(dialect);
  await db.query(`UPDATE ${deliveries} SET "payload" = ${u.add(JSON.stringify(payload))} WHERE "id" = ${u.add(id)}`, u.values);
}
