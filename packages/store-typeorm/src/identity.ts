import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  workspaceRoleSchema,
  type ApiKey,
  type CredentialStore,
  type IdentityStore,
  type Session,
  type User,
  type WorkspaceRole,
} from '@tributary/core';
import type { Database, Executor } from './database.js';
import { databaseValue, internalTable, type Dialect } from './dialect.js';
import { isUniqueViolation, storageFailure } from './errors.js';
import { isStoreId } from './installation-checks.js';
import { dateFromDatabase } from './values.js';

// Users, memberships, sessions and API keys of the HTTP API (tables of the Identity migration).
// Only hashes of secrets arrive here; the caller (`@tributary/auth`) hashes.

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  must_change_password: boolean | number;
  failed_logins: number;
  locked_until: Date | string | null;
  created_at: Date | string;
}

interface ApiKeyRow {
  id: string;
  prefix: string;
  name: string;
  workspace: string;
  role: string;
  created_at: Date | string;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  last_used_at: Date | string | null;
  created_by: string | null;
}

interface SessionRow {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: Date | string;
  expires_at: Date | string;
}

/** A key used again within this long keeps its older `lastUsedAt`: no write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** E-mails are compared trimmed and lower-cased, as users type them in every form. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function optionalDate(value: Date | string | null): Date | undefined {
  return value === null ? undefined : dateFromDatabase(value);
}

function roleOf(value: string): WorkspaceRole {
  return workspaceRoleSchema.parse(value);
}

function apiKeyOf(row: ApiKeyRow): ApiKey {
  const expiresAt = optionalDate(row.expires_at);
  const revokedAt = optionalDate(row.revoked_at);
  const lastUsedAt = optionalDate(row.last_used_at);
  return {
    id: row.id,
    prefix: row.prefix,
    name: row.name,
    workspace: row.workspace,
    role: roleOf(row.role),
    createdAt: dateFromDatabase(row.created_at),
    ...(expiresAt ? { expiresAt } : {}),
    ...(revokedAt ? { revokedAt } : {}),
    ...(lastUsedAt ? { lastUsedAt } : {}),
    ...(row.created_by === null ? {} : { createdBy: row.created_by }),
  };
}

function sessionOf(row: SessionRow): Session {
  return {
    id: row.id,
    userId: row.user_id,
    csrfToken: row.csrf_token,
    createdAt: dateFromDatabase(row.created_at),
    expiresAt: dateFromDatabase(row.expires_at),
  };
}

function userExists(email: string): ConfigError {
  return new ConfigError('USER_EXISTS', `A user with the e-mail "${email}" exists already.`, {
    hint: 'Give them a role in another workspace with: tributary users set-role --email <e> --workspace <ws> --role <role>',
  });
}

/** The TypeORM implementation of the IdentityStore and CredentialStore roles. */
export class Identities implements IdentityStore, CredentialStore {
  constructor(private readonly db: Database) {}

  private get dialect(): Dialect {
    return this.db.dialect;
  }

  private t(name: string): string {
    return internalTable(this.dialect, name).sql;
  }

  private p(n: number): string {
    return this.dialect.placeholder(n);
  }

  private time(value: Date): unknown {
    return databaseValue(this.dialect.name, 'timestamp', value.toISOString());
  }

  private bool(value: boolean): unknown {
    return databaseValue(this.dialect.name, 'boolean', value);
  }

  /** The id of a workspace, created when it does not exist yet (as installing an app does). */
  private async ensureWorkspace(tx: Executor, name: string, now: Date): Promise<string> {
    const workspaces = this.t('workspaces');
    await tx.query(
      `INSERT INTO ${workspaces} ("id", "name", "created_at") VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)}) ON CONFLICT ("name") DO NOTHING`,
      [randomUUID(), name, this.time(now)],
    );
    const [row] = await tx.query<{ id: string }>(`SELECT "id" FROM ${workspaces} WHERE "name" = ${this.p(1)}`, [name]);
    return row!.id;
  }

  private async workspaceId(db: Executor, name: string): Promise<string | undefined> {
    const [row] = await db.query<{ id: string }>(`SELECT "id" FROM ${this.t('workspaces')} WHERE "name" = ${this.p(1)}`, [name]);
    return row?.id;
  }

  /** Users with their memberships, in the order of `rows`. */
  private async usersOf(db: Executor, rows: readonly UserRow[]): Promise<User[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const memberships = await db.query<{ user_id: string; workspace: string; role: string }>(
      `SELECT m."user_id", w."name" AS "workspace", m."role"
         FROM ${this.t('memberships')} m JOIN ${this.t('workspaces')} w ON w."id" = m."workspace_id"
        WHERE m."user_id" IN (${ids.map((_, i) => this.p(i + 1)).join(', ')})
        ORDER BY w."name"`,
      ids,
    );
    return rows.map((row) => {
      const lockedUntil = optionalDate(row.locked_until);
      return {
        id: row.id,
        email: row.email,
        createdAt: dateFromDatabase(row.created_at),
        ...(lockedUntil ? { lockedUntil } : {}),
        ...(row.must_change_password ? { mustChangePassword: true } : {}),
        memberships: memberships.filter((m) => m.user_id === row.id).map((m) => ({ workspace: m.workspace, role: roleOf(m.role) })),
      };
    });
  }

  private selectUsers(where: string): string {
    return `SELECT "id", "email", "password_hash", "must_change_password", "failed_logins", "locked_until", "created_at" FROM ${this.t('users')} ${where}`;
  }

  async createUser(input: { email: string; passwordHash: string; mustChangePassword?: boolean }): Promise<User> {
    const email = normalizeEmail(input.email);
    const id = randomUUID();
    const now = new Date();
    try {
      await this.db.withConnection((db) =>
        db.query(
          `INSERT INTO ${this.t('users')} ("id", "email", "password_hash", "must_change_password", "failed_logins", "created_at")
           VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)}, ${this.p(4)}, 0, ${this.p(5)})`,
          [id, email, input.passwordHash, this.bool(input.mustChangePassword ?? false), this.time(now)],
        ),
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw userExists(email);
      throw storageFailure(`create the user "${email}"`, error);
    }
    return { id, email, createdAt: now, ...(input.mustChangePassword ? { mustChangePassword: true } : {}), memberships: [] };
  }

  async findUserByEmail(email: string): Promise<{ user: User; passwordHash: string; failedLogins: number } | undefined> {
    try {
      return await this.db.withConnection(async (db) => {
        const rows = await db.query<UserRow>(this.selectUsers(`WHERE "email" = ${this.p(1)}`), [normalizeEmail(email)]);
        const [user] = await this.usersOf(db, rows);
        return user ? { user, passwordHash: rows[0]!.password_hash, failedLogins: Number(rows[0]!.failed_logins) } : undefined;
      });
    } catch (error) {
      throw storageFailure('look up a user by e-mail', error);
    }
  }

  async getUser(userId: string): Promise<User | undefined> {
    if (!isStoreId(userId)) return undefined;
    try {
      return await this.db.withConnection(async (db) => {
        const [user] = await this.usersOf(db, await db.query<UserRow>(this.selectUsers(`WHERE "id" = ${this.p(1)}`), [userId]));
        return user;
      });
    } catch (error) {
      throw storageFailure(`read user ${userId}`, error);
    }
  }

  async setMembership(userId: string, workspace: string, role: WorkspaceRole | undefined): Promise<void> {
    const memberships = this.t('memberships');
    try {
      await this.db.transaction(async (tx) => {
        const [user] = isStoreId(userId) ? await tx.query(`SELECT "id" FROM ${this.t('users')} WHERE "id" = ${this.p(1)}`, [userId]) : [];
        if (!user) throw new ConfigError('USER_NOT_FOUND', `There is no user ${userId}.`);
        if (role === undefined) {
          const workspaceId = await this.workspaceId(tx, workspace);
          if (workspaceId === undefined) return;
          await tx.query(`DELETE FROM ${memberships} WHERE "user_id" = ${this.p(1)} AND "workspace_id" = ${this.p(2)}`, [userId, workspaceId]);
          return;
        }
        const now = new Date();
        const workspaceId = await this.ensureWorkspace(tx, workspace, now);
        await tx.query(
          `INSERT INTO ${memberships} ("user_id", "workspace_id", "role", "created_at") VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)}, ${this.p(4)})
           ON CONFLICT ("user_id", "workspace_id") DO UPDATE SET "role" = excluded."role"`,
          [userId, workspaceId, workspaceRoleSchema.parse(role), this.time(now)],
        );
      });
    } catch (error) {
      throw storageFailure(`set the role of user ${userId} in workspace "${workspace}"`, error);
    }
  }

  async listUsers(workspace: string): Promise<User[]> {
    try {
      return await this.db.withConnection(async (db) => {
        const workspaceId = await this.workspaceId(db, workspace);
        if (workspaceId === undefined) return [];
        const rows = await db.query<UserRow>(
          this.selectUsers(
            `WHERE "id" IN (SELECT "user_id" FROM ${this.t('memberships')} WHERE "workspace_id" = ${this.p(1)}) ORDER BY "email"`,
          ),
          [workspaceId],
        );
        return this.usersOf(db, rows);
      });
    } catch (error) {
      throw storageFailure(`list the users of workspace "${workspace}"`, error);
    }
  }

  async setPassword(userId: string, passwordHash: string, options: { mustChangePassword?: boolean } = {}): Promise<void> {
    const updated = await this.update(
      `UPDATE ${this.t('users')} SET "password_hash" = ${this.p(1)}, "must_change_password" = ${this.p(2)}, "failed_logins" = 0, "locked_until" = NULL
        WHERE "id" = ${this.p(3)} RETURNING "id"`,
      [passwordHash, this.bool(options.mustChangePassword ?? false), userId],
      `set the password of user ${userId}`,
      userId,
    );
    if (updated.length === 0) throw new ConfigError('USER_NOT_FOUND', `There is no user ${userId}.`);
  }

  async recordFailedLogin(userId: string, lockUntil?: Date): Promise<number> {
    const [row] = await this.update<{ failed_logins: number }>(
      `UPDATE ${this.t('users')} SET "failed_logins" = "failed_logins" + 1, "locked_until" = COALESCE(${this.p(1)}, "locked_until")
        WHERE "id" = ${this.p(2)} RETURNING "failed_logins"`,
      [lockUntil ? this.time(lockUntil) : null, userId],
      `count a failed sign-in of user ${userId}`,
      userId,
    );
    return Number(row?.failed_logins ?? 0);
  }

  async clearFailedLogins(userId: string): Promise<void> {
    await this.update(
      `UPDATE ${this.t('users')} SET "failed_logins" = 0, "locked_until" = NULL WHERE "id" = ${this.p(1)} RETURNING "id"`,
      [userId],
      `clear the failed sign-ins of user ${userId}`,
      userId,
    );
  }

  /** Runs a write that returns the rows it touched; nothing for an id that cannot be one of ours. */
  private async update<T = Record<string, unknown>>(sql: string, params: unknown[], action: string, id: string): Promise<T[]> {
    if (!isStoreId(id)) return [];
    try {
      return await this.db.withConnection((db) => db.query<T>(sql, params));
    } catch (error) {
      throw storageFailure(action, error);
    }
  }

  // ---- Credentials ----

  async createSession(input: { userId: string; tokenHash: string; csrfToken: string; expiresAt: Date }): Promise<Session> {
    const session: Session = { id: randomUUID(), userId: input.userId, csrfToken: input.csrfToken, createdAt: new Date(), expiresAt: input.expiresAt };
    try {
      await this.db.withConnection((db) =>
        db.query(
          `INSERT INTO ${this.t('sessions')} ("id", "user_id", "token_hash", "csrf_token", "created_at", "expires_at")
           VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)}, ${this.p(4)}, ${this.p(5)}, ${this.p(6)})`,
          [session.id, session.userId, input.tokenHash, session.csrfToken, this.time(session.createdAt), this.time(session.expiresAt)],
        ),
      );
    } catch (error) {
      throw storageFailure(`open a session of user ${input.userId}`, error);
    }
    return session;
  }

  async findSession(tokenHash: string, now: Date): Promise<Session | undefined> {
    try {
      const [row] = await this.db.withConnection((db) =>
        db.query<SessionRow>(
          `SELECT "id", "user_id", "csrf_token", "created_at", "expires_at" FROM ${this.t('sessions')}
            WHERE "token_hash" = ${this.p(1)} AND "expires_at" > ${this.p(2)}`,
          [tokenHash, this.time(now)],
        ),
      );
      return row ? sessionOf(row) : undefined;
    } catch (error) {
      throw storageFailure('look up a session', error);
    }
  }

  async deleteSession(tokenHash: string): Promise<void> {
    try {
      await this.db.withConnection((db) => db.query(`DELETE FROM ${this.t('sessions')} WHERE "token_hash" = ${this.p(1)}`, [tokenHash]));
    } catch (error) {
      throw storageFailure('end a session', error);
    }
  }

  async deleteUserSessions(userId: string): Promise<number> {
    const rows = await this.update(
      `DELETE FROM ${this.t('sessions')} WHERE "user_id" = ${this.p(1)} RETURNING "id"`,
      [userId],
      `end the sessions of user ${userId}`,
      userId,
    );
    return rows.length;
  }

  private selectKeys(where: string): string {
    return `SELECT k."id", k."prefix", k."name", w."name" AS "workspace", k."role", k."created_at", k."expires_at", k."revoked_at", k."last_used_at", k."created_by"
              FROM ${this.t('api_keys')} k JOIN ${this.t('workspaces')} w ON w."id" = k."workspace_id" ${where}`;
  }

  async createApiKey(key: Omit<ApiKey, 'id' | 'createdAt' | 'revokedAt' | 'lastUsedAt'> & { secretHash: string }): Promise<ApiKey> {
    const id = randomUUID();
    const now = new Date();
    try {
      await this.db.transaction(async (tx) => {
        const workspaceId = await this.ensureWorkspace(tx, key.workspace, now);
        await tx.query(
          `INSERT INTO ${this.t('api_keys')} ("id", "prefix", "secret_hash", "name", "workspace_id", "role", "created_at", "expires_at", "created_by")
           VALUES (${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => this.p(n)).join(', ')})`,
          [
            id,
            key.prefix,
            key.secretHash,
            key.name,
            workspaceId,
            workspaceRoleSchema.parse(key.role),
            this.time(now),
            key.expiresAt ? this.time(key.expiresAt) : null,
            key.createdBy ?? null,
          ],
        );
      });
    } catch (error) {
      throw storageFailure(`create an API key in workspace "${key.workspace}"`, error);
    }
    return {
      id,
      prefix: key.prefix,
      name: key.name,
      workspace: key.workspace,
      role: key.role,
      createdAt: now,
      ...(key.expiresAt ? { expiresAt: key.expiresAt } : {}),
      ...(key.createdBy === undefined ? {} : { createdBy: key.createdBy }),
    };
  }

  async findApiKey(secretHash: string, now: Date): Promise<ApiKey | undefined> {
    try {
      return await this.db.withConnection(async (db) => {
        const [row] = await db.query<ApiKeyRow>(
          this.selectKeys(`WHERE k."secret_hash" = ${this.p(1)} AND k."revoked_at" IS NULL AND (k."expires_at" IS NULL OR k."expires_at" > ${this.p(2)})`),
          [secretHash, this.time(now)],
        );
        if (!row) return undefined;
        const lastUsed = optionalDate(row.last_used_at);
        if (!lastUsed || now.getTime() - lastUsed.getTime() >= LAST_USED_RESOLUTION_MS) {
          await db.query(`UPDATE ${this.t('api_keys')} SET "last_used_at" = ${this.p(1)} WHERE "id" = ${this.p(2)}`, [this.time(now), row.id]);
          row.last_used_at = now;
        }
        return apiKeyOf(row);
      });
    } catch (error) {
      throw storageFailure('look up an API key', error);
    }
  }

  async listApiKeys(workspace: string): Promise<ApiKey[]> {
    try {
      const rows = await this.db.withConnection((db) =>
        db.query<ApiKeyRow>(this.selectKeys(`WHERE w."name" = ${this.p(1)} ORDER BY k."created_at", k."id"`), [workspace]),
      );
      return rows.map(apiKeyOf);
    } catch (error) {
      throw storageFailure(`list the API keys of workspace "${workspace}"`, error);
    }
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    const rows = await this.update(
      `UPDATE ${this.t('api_keys')} SET "revoked_at" = ${this.p(1)} WHERE "id" = ${this.p(2)} AND "revoked_at" IS NULL RETURNING "id"`,
      [this.time(at), id],
      `revoke API key ${id}`,
      id,
    );
    return rows.length > 0;
  }
}
