import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ConfigError,
  StorageError,
  identifierSchema,
  nameTextSchema,
  parseUserInput,
  type Activation,
  type ClaimedDelivery,
  type DeliveryBatch,
  type DeliveryRecord,
  type DeliveryResult,
  type DeliveryStatus,
  type Logger,
  type NewDestination,
  type StoredDestination,
} from '@tributary/core';
import type { Database, Executor } from '../database.js';
import type { Dialect } from '../dialect.js';
import { isUniqueViolation, storageFailure } from '../errors.js';
import { boundStatement, notFound, ownTableSql, timestampValue, workspaceSchema, nameSchema } from '../profiles/records.js';
import type { SecretCipher, SealedSecret } from '../secrets.js';
import { dateFromDatabase } from '../values.js';
import { requireWorkspaceId } from '../workspaces.js';
import { redactForgetBatch } from '../personal-data-deliveries.js';
import { claimDue, deliveryColumns, parseJson, queueBatches, toDeliveryRecord, type DeliveryRow } from './outbox.js';
import { createMembersView, dropView } from './views.js';

const destinationNameSchema = z.string().trim().pipe(nameTextSchema(100));
const newDestinationSchema = z.object({
  workspace: workspaceSchema,
  name: destinationNameSchema,
  type: identifierSchema,
  kind: z.enum(['push', 'view']),
  snapshot: z.boolean(),
  config: z.record(z.string(), z.unknown()),
  secretFields: z.array(z.string()),
});
const claimSchema = z.object({ limit: z.number().int().min(1).max(1000), leaseMs: z.number().int().min(1000) });
const emailSchema = z.string().trim().toLowerCase().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address');

interface DestinationRow {
  id: string;
  workspace: string;
  name: string;
  type: string;
  kind: 'push' | 'view';
  snapshot: boolean | number;
  config: unknown;
  secrets: unknown;
  created_at: Date | string;
}

/** Binds a sealed secret to its destination and field: a value copied elsewhere does not open. */
function secretContext(destinationId: string, field: string): string {
  return `tributary:destination:${destinationId}:${field}`;
}

function notFoundDestination(workspace: string, name: string): ConfigError {
  return new ConfigError('DESTINATION_NOT_FOUND', `Workspace "${workspace}" has no destination named "${name}".`, {
    hint: `List them with: tributary destinations list --workspace ${workspace}`,
  });
}

/** Destinations, activations and the outbox of deliveries. */
export class Destinations {
  constructor(
    private readonly db: Database,
    private readonly cipher: SecretCipher,
    private readonly logger: Logger,
  ) {}

  private get dialect(): Dialect {
    return this.db.dialect;
  }

  private table(name: string): string {
    return ownTableSql(this.dialect, name);
  }

  private toDestination(row: DestinationRow, open: boolean): StoredDestination {
    const config = { ...(parseJson(row.config) as Record<string, unknown>) };
    const sealed = (parseJson(row.secrets) ?? {}) as Record<string, SealedSecret>;
    if (open) {
      for (const [field, secret] of Object.entries(sealed)) {
        config[field] = JSON.parse(this.cipher.decrypt(secret, secretContext(row.id, field)));
      }
    }
    return {
      id: row.id,
      workspace: row.workspace,
      name: row.name,
      type: row.type,
      kind: row.kind,
      snapshot: Boolean(row.snapshot),
      config,
      secretFields: Object.keys(sealed),
      createdAt: dateFromDatabase(row.created_at),
    };
  }

  private selectDestinations(where: string): string {
    return `SELECT d."id", w."name" AS "workspace", d."name", d."type", d."kind", d."snapshot", d."config", d."secrets", d."created_at"
              FROM ${this.table('destinations')} d JOIN ${this.table('workspaces')} w ON w."id" = d."workspace_id"
             WHERE ${where} ORDER BY w."name", d."name"`;
  }

  private async find(db: Executor, workspace: string, name: string): Promise<DestinationRow | undefined> {
    const [row] = await db.run<DestinationRow>(
      boundStatement(this.dialect, (b) => this.selectDestinations(`w."name" = ${b.bind(workspace)} AND d."name" = ${b.bind(name)}`)),
    );
    return row;
  }

  async add(input: NewDestination, now: Date): Promise<StoredDestination> {
    const destination = parseUserInput(newDestinationSchema, input, 'destination');
    const id = randomUUID();
    const secrets = new Set(destination.secretFields);
    const plain = Object.fromEntries(Object.entries(destination.config).filter(([key]) => !secrets.has(key)));
    const sealed = Object.fromEntries(
      Object.entries(destination.config)
        .filter(([key, value]) => secrets.has(key) && value !== undefined)
        .map(([key, value]) => [key, this.cipher.encrypt(JSON.stringify(value), secretContext(id, key))]),
    );
    try {
      await this.db.transaction(async (tx) => {
        const workspaceId = await requireWorkspaceId(tx, this.dialect, destination.workspace);
        await tx.run(
          boundStatement(
            this.dialect,
            (b) => `INSERT INTO ${this.table('destinations')} ("id", "workspace_id", "name", "type", "kind", "snapshot", "config", "secrets", "created_at")
                    VALUES (${b.bind(id)}, ${b.bind(workspaceId)}, ${b.bind(destination.name)}, ${b.bind(destination.type)}, ${b.bind(destination.kind)},
                            ${b.bind(this.dialect.name === 'postgres' ? destination.snapshot : destination.snapshot ? 1 : 0)}, ${b.bind(JSON.stringify(plain))},
                            ${b.bind(Object.keys(sealed).length > 0 ? JSON.stringify(sealed) : null)}, ${b.bind(timestampValue(this.dialect, now))})`,
          ),
        );
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConfigError('DESTINATION_EXISTS', `Workspace "${destination.workspace}" already has a destination named "${destination.name}".`, {
          hint: `Remove it first (tributary destinations remove "${destination.name}" --workspace ${destination.workspace}) or choose another name.`,
        });
      }
      throw storageFailure(`save the destination "${destination.name}"`, error);
    }
    this.logger.info({ workspace: destination.workspace, destination: destination.name, type: destination.type }, 'destination added');
    return {
      id,
      workspace: destination.workspace,
      name: destination.name,
      type: destination.type,
      kind: destination.kind,
      snapshot: destination.snapshot,
      config: plain,
      secretFields: Object.keys(sealed),
      createdAt: now,
    };
  }

  async list(workspaceInput?: string): Promise<StoredDestination[]> {
    const workspace = workspaceInput === undefined ? undefined : parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    try {
      const rows = await this.db.withConnection((db) =>
        db.run<DestinationRow>(boundStatement(this.dialect, (b) => this.selectDestinations(workspace === undefined ? '1 = 1' : `w."name" = ${b.bind(workspace)}`))),
      );
      return rows.map((row) => this.toDestination(row, false));
    } catch (error) {
      throw storageFailure('list the destinations', error);
    }
  }

  async get(workspaceInput: string, nameInput: string): Promise<StoredDestination | undefined> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(destinationNameSchema, nameInput, 'destination name');
    let row: DestinationRow | undefined;
    try {
      row = await this.db.withConnection((db) => this.find(db, workspace, name));
    } catch (error) {
      throw storageFailure(`read the destination "${name}"`, error);
    }
    return row ? this.toDestination(row, true) : undefined;
  }

  async remove(workspaceInput: string, nameInput: string): Promise<boolean> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(destinationNameSchema, nameInput, 'destination name');
    try {
      return await this.db.transaction(async (tx) => {
        const row = await this.find(tx, workspace, name);
        if (!row) return false;
        const views = await tx.run<{ view_name: string | null }>(
          boundStatement(this.dialect, (b) => `SELECT "view_name" FROM ${this.table('profile_activations')} WHERE "destination_id" = ${b.bind(row.id)}`),
        );
        for (const view of views) if (view.view_name) await tx.run(dropView(this.dialect, view.view_name));
        // Its activations and batches go with it (ON DELETE CASCADE).
        await tx.run(boundStatement(this.dialect, (b) => `DELETE FROM ${this.table('destinations')} WHERE "id" = ${b.bind(row.id)}`));
        return true;
      });
    } catch (error) {
      throw storageFailure(`remove the destination "${name}"`, error);
    }
  }

  private async profileRow(tx: Executor, workspace: string, name: string): Promise<{ id: string; workspace_id: string }> {
    const [row] = await tx.run<{ id: string; workspace_id: string }>(
      boundStatement(
        this.dialect,
        (b) => `SELECT p."id", p."workspace_id" FROM ${this.table('profiles')} p JOIN ${this.table('workspaces')} w ON w."id" = p."workspace_id"
                 WHERE w."name" = ${b.bind(workspace)} AND p."name" = ${b.bind(name)}`,
      ),
    );
    if (!row) throw notFound(workspace, name);
    return row;
  }

  async activate(workspaceInput: string, profileInput: string, destinationInput: string, now: Date): Promise<Activation> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const profile = parseUserInput(nameSchema, profileInput, 'profile name');
    const name = parseUserInput(destinationNameSchema, destinationInput, 'destination name');
    try {
      return await this.db.transaction(async (tx) => {
        const target = await this.profileRow(tx, workspace, profile);
        const destination = await this.find(tx, workspace, name);
        if (!destination) throw notFoundDestination(workspace, name);
        // The members are read under the profile's lock, so that an evaluation recorded meanwhile
        // either comes before (its members are the baseline) or after (it queues its own changes).
        const lock = this.dialect.transactionLock(`profile:${target.id}`);
        if (lock) await tx.run(lock);
        let view: string | undefined;
        if (destination.kind === 'view') {
          const config = parseJson(destination.config) as { prefix?: string };
          view = await createMembersView(tx, this.dialect, { profileId: target.id, workspaceId: target.workspace_id, profile, prefix: config.prefix ?? 'suppress_' });
        }
        try {
          await tx.run(
            boundStatement(
              this.dialect,
              (b) => `INSERT INTO ${this.table('profile_activations')} ("profile_id", "destination_id", "view_name", "created_at")
                      VALUES (${b.bind(target.id)}, ${b.bind(destination.id)}, ${b.bind(view ?? null)}, ${b.bind(timestampValue(this.dialect, now))})`,
            ),
          );
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
          throw new ConfigError('ACTIVATION_EXISTS', `The profile "${profile}" is already activated to "${name}".`, {
            hint: `Deactivate it first: tributary profiles deactivate "${profile}" --destination "${name}" --workspace ${workspace}`,
          });
        }
        if (destination.kind === 'push') {
          const members = await tx.run<{ email_normalized: string }>(
            boundStatement(this.dialect, (b) => `SELECT "email_normalized" FROM ${this.table('profile_members')} WHERE "profile_id" = ${b.bind(target.id)}`),
          );
          const emails = members.map((m) => m.email_normalized).sort();
          await queueBatches(
            tx,
            this.dialect,
            { profileId: target.id, workspace, profile, reason: 'activation', evaluatedAt: now, entered: emails, left: [], members: emails, destinationId: destination.id },
            now,
          );
        }
        this.logger.info({ workspace, profile, destination: name }, 'profile activated');
        return { workspace, profile, destination: name, createdAt: now, ...(view ? { view } : {}) };
      });
    } catch (error) {
      throw storageFailure(`activate the profile "${profile}"`, error);
    }
  }

  async deactivate(workspaceInput: string, profileInput: string, destinationInput: string): Promise<boolean> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const profile = parseUserInput(nameSchema, profileInput, 'profile name');
    const name = parseUserInput(destinationNameSchema, destinationInput, 'destination name');
    try {
      return await this.db.transaction(async (tx) => {
        const target = await this.profileRow(tx, workspace, profile);
        const destination = await this.find(tx, workspace, name);
        if (!destination) throw notFoundDestination(workspace, name);
        const [activation] = await tx.run<{ view_name: string | null }>(
          boundStatement(
            this.dialect,
            (b) => `SELECT "view_name" FROM ${this.table('profile_activations')} WHERE "profile_id" = ${b.bind(target.id)} AND "destination_id" = ${b.bind(destination.id)}`,
          ),
        );
        if (!activation) return false;
        if (activation.view_name) await tx.run(dropView(this.dialect, activation.view_name));
        await tx.run(
          boundStatement(
            this.dialect,
            (b) => `DELETE FROM ${this.table('profile_activations')} WHERE "profile_id" = ${b.bind(target.id)} AND "destination_id" = ${b.bind(destination.id)}`,
          ),
        );
        return true;
      });
    } catch (error) {
      throw storageFailure(`deactivate the profile "${profile}"`, error);
    }
  }

  async activations(workspaceInput?: string): Promise<Activation[]> {
    const workspace = workspaceInput === undefined ? undefined : parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    try {
      const rows = await this.db.withConnection((db) =>
        db.run<{ workspace: string; profile: string; destination: string; view_name: string | null; created_at: Date | string }>(
          boundStatement(
            this.dialect,
            (b) => `SELECT w."name" AS "workspace", p."name" AS "profile", d."name" AS "destination", a."view_name", a."created_at"
                      FROM ${this.table('profile_activations')} a
                      JOIN ${this.table('profiles')} p ON p."id" = a."profile_id"
                      JOIN ${this.table('destinations')} d ON d."id" = a."destination_id"
                      JOIN ${this.table('workspaces')} w ON w."id" = d."workspace_id"
                     WHERE ${workspace === undefined ? '1 = 1' : `w."name" = ${b.bind(workspace)}`}
                     ORDER BY w."name", p."name", d."name"`,
          ),
        ),
      );
      return rows.map((r) => ({
        workspace: r.workspace,
        profile: r.profile,
        destination: r.destination,
        createdAt: dateFromDatabase(r.created_at),
        ...(r.view_name ? { view: r.view_name } : {}),
      }));
    } catch (error) {
      throw storageFailure('list the activations', error);
    }
  }

  async claim(options: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
    parseUserInput(claimSchema, { limit: options.limit, leaseMs: options.leaseMs }, 'delivery claim');
    let rows: (DeliveryRow & { d_config: unknown; d_secrets: unknown; d_type: string; d_kind: 'push' | 'view'; d_snapshot: boolean | number; d_created_at: Date | string })[];
    try {
      rows = await this.db.transaction(async (tx) => {
        const ids = await claimDue(tx, this.dialect, options);
        if (ids.length === 0) return [];
        const { select, joins } = deliveryColumns(this.dialect, 'x');
        return tx.run(
          boundStatement(
            this.dialect,
            (b) => `SELECT ${select}, dd."config" AS "d_config", dd."secrets" AS "d_secrets", dd."type" AS "d_type", dd."kind" AS "d_kind",
                           dd."snapshot" AS "d_snapshot", dd."created_at" AS "d_created_at"
                      FROM ${this.table('deliveries')} x ${joins}
                     WHERE x."id" IN (${ids.map((id) => b.bind(id)).join(', ')}) ORDER BY x."seq"`,
          ),
        );
      });
    } catch (error) {
      throw storageFailure('claim due deliveries', error);
    }
    return rows.map((row) => {
      const destination = this.toDestination(
        {
          id: row.destination_id,
          workspace: row.workspace,
          name: row.destination,
          type: row.d_type,
          kind: row.d_kind,
          snapshot: row.d_snapshot,
          config: row.d_config,
          secrets: row.d_secrets,
          created_at: row.d_created_at,
        },
        true,
      );
      const batch = parseJson(row.payload) as DeliveryBatch;
      if (batch?.id !== row.id) throw new StorageError('STORE_DATA_INVALID', `The delivery ${row.id} holds a payload of another batch.`);
      return { record: toDeliveryRecord(row), destination, batch };
    });
  }

  async finish(id: string, result: DeliveryResult, at: Date): Promise<void> {
    const error = result.status === 'delivered' ? null : result.error.slice(0, 2000);
    try {
      await this.db.withConnection((db) =>
        db.run(
          boundStatement(this.dialect, (b) => {
            const set =
              result.status === 'delivered'
                ? `"status" = 'delivered', "delivered_at" = ${b.bind(timestampValue(this.dialect, at))}, "next_attempt_at" = NULL, "last_error" = NULL`
                : result.status === 'retry'
                  ? `"next_attempt_at" = ${b.bind(timestampValue(this.dialect, result.nextAttemptAt))}, "last_error" = ${b.bind(error)}`
                  : `"status" = 'dead', "next_attempt_at" = NULL, "last_error" = ${b.bind(error)}`;
            return `UPDATE ${this.table('deliveries')} SET ${set} WHERE "id" = ${b.bind(id)} AND "status" = 'pending'`;
          }),
        ),
      );
      // The `left` of an erased person names them only until it is sent (or given up on).
      if (result.status !== 'retry') await this.db.withConnection((db) => redactForgetBatch(db, this.dialect, id));
    } catch (failure) {
      throw storageFailure(`record the delivery ${id}`, failure);
    }
  }

  async deliveries(filter: { workspace?: string; status?: DeliveryStatus; limit: number; before?: string }): Promise<DeliveryRecord[]> {
    const workspace = filter.workspace === undefined ? undefined : parseUserInput(workspaceSchema, filter.workspace, 'workspace');
    const before = filter.before === undefined ? undefined : parseUserInput(z.uuid(), filter.before, 'batch id');
    const status = filter.status === undefined ? undefined : parseUserInput(z.enum(['pending', 'delivered', 'dead']), filter.status, 'status');
    const limit = parseUserInput(z.number().int().min(1).max(10_000), filter.limit, 'limit');
    const { select, joins } = deliveryColumns(this.dialect, 'x');
    try {
      const rows = await this.db.withConnection((db) =>
        db.run<DeliveryRow>(
          boundStatement(
            this.dialect,
            (b) => `SELECT ${select} FROM ${this.table('deliveries')} x ${joins}
                     WHERE ${workspace === undefined ? '1 = 1' : `w."name" = ${b.bind(workspace)}`}${status === undefined ? '' : ` AND x."status" = ${b.bind(status)}`}${
                       // A page ends at a batch; the next starts below its place in the queue (a batch erased meanwhile ends the list).
                       before === undefined ? '' : ` AND x."seq" < (SELECT y."seq" FROM ${this.table('deliveries')} y WHERE y."id" = ${b.bind(before)})`
                     }
                     ORDER BY x."seq" DESC LIMIT ${b.bind(limit)}`,
          ),
        ),
      );
      return rows.map(toDeliveryRecord);
    } catch (error) {
      throw storageFailure('list the deliveries', error);
    }
  }

  /** Seals every destination secret not under the current key again, in the caller's transaction (key rotation). */
  async reseal(tx: Executor): Promise<number> {
    const rows = await tx.run<{ id: string; secrets: unknown }>({ sql: `SELECT "id", "secrets" FROM ${this.table('destinations')} WHERE "secrets" IS NOT NULL`, params: [] });
    let resealed = 0;
    for (const row of rows) {
      const sealed = parseJson(row.secrets) as Record<string, SealedSecret>;
      const stale = Object.entries(sealed).filter(([, secret]) => secret.keyId !== this.cipher.currentKeyId);
      if (stale.length === 0) continue;
      for (const [field, secret] of stale) {
        const context = secretContext(row.id, field);
        sealed[field] = this.cipher.encrypt(this.cipher.decrypt(secret, context), context);
      }
      await tx.run(boundStatement(this.dialect, (b) => `UPDATE ${this.table('destinations')} SET "secrets" = ${b.bind(JSON.stringify(sealed))} WHERE "id" = ${b.bind(row.id)}`));
      resealed += stale.length;
    }
    return resealed;
  }

  /** How many destination secrets each key id sealed. */
  async usage(db: Executor): Promise<Record<string, number>> {
    const rows = await db.run<{ secrets: unknown }>({ sql: `SELECT "secrets" FROM ${this.table('destinations')} WHERE "secrets" IS NOT NULL`, params: [] });
    const usage: Record<string, number> = {};
    for (const row of rows) {
      for (const secret of Object.values(parseJson(row.secrets) as Record<string, SealedSecret>)) usage[secret.keyId] = (usage[secret.keyId] ?? 0) + 1;
    }
    return usage;
  }

  /** Queues a `left` for one person in the caller's transaction; see {@link DestinationStore.enqueueForgetLeft}. */
  async forgetLeftIn(tx: Executor, workspace: string, email: string, now: Date): Promise<number> {
    const profiles = await tx.run<{ id: string; name: string }>(
      boundStatement(
        this.dialect,
        (b) => `SELECT DISTINCT p."id", p."name" FROM ${this.table('profiles')} p
                  JOIN ${this.table('workspaces')} w ON w."id" = p."workspace_id"
                  JOIN ${this.table('profile_activations')} a ON a."profile_id" = p."id"
                  JOIN ${this.table('profile_members')} m ON m."profile_id" = p."id" AND m."email_normalized" = ${b.bind(email)}
                 WHERE w."name" = ${b.bind(workspace)} ORDER BY p."name"`,
      ),
    );
    let queued = 0;
    for (const profile of profiles) {
      queued += await queueBatches(tx, this.dialect, { profileId: profile.id, workspace, profile: profile.name, reason: 'forget', evaluatedAt: now, entered: [], left: [email] }, now);
    }
    return queued;
  }

  async forgetLeft(workspaceInput: string, emailInput: string, now: Date): Promise<number> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const email = parseUserInput(emailSchema, emailInput, 'e-mail');
    try {
      return await this.db.transaction((tx) => this.forgetLeftIn(tx, workspace, email, now));
    } catch (error) {
      throw storageFailure('queue the departure of a forgotten person', error);
    }
  }
}
