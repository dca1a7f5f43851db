import { z } from 'zod';
import { parseUserInput, type AuditEvent, type AuditStore } from '@tributary/core';
import type { Database } from './database.js';
import { databaseValue, internalTable } from './dialect.js';
import { storageFailure } from './errors.js';
import { dateFromDatabase } from './values.js';

interface AuditRow {
  id: string | number;
  at: Date | string;
  actor: string;
  action: string;
  workspace: string | null;
  target: string | null;
  address: string | null;
  outcome: AuditEvent['outcome'];
  details: unknown;
}

const filterSchema = z.object({
  workspace: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(1000),
  // Ids are the log's sequence numbers; anything else cannot name an event.
  before: z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be the id of an audit event').optional(),
});

/** PostgreSQL's jsonb cannot hold a NUL character; a caller's detail must not make an event fail. */
function detailsText(details: Record<string, unknown>): string {
  return JSON.stringify(details, (_key, value: unknown) => (typeof value === 'string' ? value.replaceAll('\u0000', '') : value));
}

/** JSON as the drivers return it: parsed already by pg (jsonb), text on SQLite. */
function parsedDetails(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function eventOf(row: AuditRow): AuditEvent {
  const details = parsedDetails(row.details);
  return {
    id: String(row.id),
    at: dateFromDatabase(row.at),
    actor: row.actor,
    action: row.action,
    ...(row.workspace === null ? {} : { workspace: row.workspace }),
    ...(row.target === null ? {} : { target: row.target }),
    ...(row.address === null ? {} : { address: row.address }),
    outcome: row.outcome,
    ...(details !== null && typeof details === 'object' ? { details: details as Record<string, unknown> } : {}),
  };
}

/**
 * The audit log: append-only, numbered in the order events were recorded, so that pages read
 * newest first by id stay stable while new events arrive.
 */
export class AuditLog implements AuditStore {
  constructor(private readonly db: Database) {}

  async recordAudit(event: Omit<AuditEvent, 'id'>): Promise<void> {
    const dialect = this.db.dialect;
    const p = (n: number) => dialect.placeholder(n);
    try {
      await this.db.withConnection((db) =>
        db.query(
          `INSERT INTO ${internalTable(dialect, 'audit_events').sql} ("at", "actor", "action", "workspace", "target", "address", "outcome", "details")
           VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)})`,
          [
            databaseValue(dialect.name, 'timestamp', event.at.toISOString()),
            event.actor,
            event.action,
            event.workspace ?? null,
            event.target ?? null,
            event.address ?? null,
            event.outcome,
            event.details === undefined ? null : detailsText(event.details),
          ],
        ),
      );
    } catch (error) {
      throw storageFailure(`record the audit event "${event.action}"`, error);
    }
  }

  async listAudit(input: { workspace?: string; limit: number; before?: string }): Promise<AuditEvent[]> {
    const filter = parseUserInput(filterSchema, input, 'audit filter');
    const dialect = this.db.dialect;
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.workspace !== undefined) {
      params.push(filter.workspace);
      conditions.push(`"workspace" = ${dialect.placeholder(params.length)}`);
    }
    if (filter.before !== undefined) {
      params.push(dialect.name === 'postgres' ? filter.before : Number(filter.before));
      conditions.push(`"id" < ${dialect.placeholder(params.length)}`);
    }
    params.push(filter.limit);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    try {
      const rows = await this.db.withConnection((db) =>
        db.query<AuditRow>(
          `SELECT "id", "at", "actor", "action", "workspace", "target", "address", "outcome", "details"
             FROM ${internalTable(dialect, 'audit_events').sql} ${where} ORDER BY "id" DESC LIMIT ${dialect.placeholder(params.length)}`,
          params,
        ),
      );
      return rows.map(eventOf);
    } catch (error) {
      throw storageFailure('read the audit log', error);
    }
  }
}
