import {
  ConfigError,
  operatorNameSchema,
  parseUserInput,
  type Logger,
  type WorkspaceAdmin,
} from '@tributary/core';
import type { Database, Executor } from './database.js';
import { databaseValue, internalTable, type Dialect } from './dialect.js';
import { requireWorkspaceId } from './workspaces.js';
import { storageFailure } from './errors.js';
import { dateFromDatabase } from './values.js';

/** A workspace as the checks need it. */
interface WorkspaceRef {
  id: string;
  name: string;
}

function notAdmin(workspace: string, actor: string, action: string, admins: readonly string[]): ConfigError {
  return new ConfigError(
    'NOT_WORKSPACE_ADMIN',
    `"${actor}" may not ${action}: only an administrator of workspace "${workspace}" may (${admins.map((a) => `"${a}"`).join(', ')}).`,
    {
      hint: `Ask an administrator to do it, or to make you one: tributary workspace admins add "${actor}" --workspace ${workspace}`,
    },
  );
}

/**
 * Who administers a workspace: only they may install and remove apps in it, and add or remove
 * administrators. A workspace nobody has claimed yet (a new one, or one from before Tributary knew
 * administrators) is claimed by the first operator who acts on it.
 */
export class WorkspaceAdmins {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  private get dialect(): Dialect {
    return this.db.dialect;
  }

  private table(): string {
    return internalTable(this.dialect, 'workspace_admins').sql;
  }

  private async names(db: Executor, workspaceId: string): Promise<string[]> {
    const rows = await db.query<{ user_name: string }>(
      `SELECT "user_name" FROM ${this.table()} WHERE "workspace_id" = ${this.dialect.placeholder(1)} ORDER BY "user_name"`,
      [workspaceId],
    );
    return rows.map((r) => r.user_name);
  }

  private async insert(db: Executor, workspaceId: string, user: string, addedBy: string | null, now: Date): Promise<void> {
    const p = (n: number) => this.dialect.placeholder(n);
    await db.query(
      `INSERT INTO ${this.table()} ("workspace_id", "user_name", "added_at", "added_by") VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
       ON CONFLICT ("workspace_id", "user_name") DO NOTHING`,
      [workspaceId, user, databaseValue(this.dialect.name, 'timestamp', now.toISOString()), addedBy],
    );
  }

  /**
   * Inside the caller's transaction: lets `actor` go on to `action` in the workspace if they
   * administer it, and makes them its first administrator if nobody does; refuses everyone else.
   */
  async authorize(tx: Executor, workspace: WorkspaceRef, actorInput: string, action: string, now: Date): Promise<void> {
    const actor = parseUserInput(operatorNameSchema, actorInput, 'operator name');
    // Two operators claiming one workspace at once: the second waits and then finds the first.
    const lock = this.dialect.transactionLock(`workspace-admins:${workspace.id}`);
    if (lock) await tx.run(lock);
    const admins = await this.names(tx, workspace.id);
    if (admins.includes(actor)) return;
    if (admins.length > 0) throw notAdmin(workspace.name, actor, action, admins);
    await this.insert(tx, workspace.id, actor, null, now);
    this.logger.info({ workspace: workspace.name, user: actor }, 'workspace claimed: first administrator');
  }

  private async workspaceRef(db: Executor, name: string): Promise<WorkspaceRef> {
    return { id: await requireWorkspaceId(db, this.dialect, name), name };
  }

  async list(workspace: string): Promise<WorkspaceAdmin[]> {
    try {
      return await this.db.withConnection(async (db) => {
        const ref = await this.workspaceRef(db, workspace);
        const rows = await db.query<{ user_name: string; added_at: Date | string; added_by: string | null }>(
          `SELECT "user_name", "added_at", "added_by" FROM ${this.table()} WHERE "workspace_id" = ${this.dialect.placeholder(1)} ORDER BY "user_name"`,
          [ref.id],
        );
        return rows.map((r) => ({
          user: r.user_name,
          addedAt: dateFromDatabase(r.added_at),
          ...(r.added_by === null ? {} : { addedBy: r.added_by }),
        }));
      });
    } catch (error) {
      throw storageFailure(`list the administrators of workspace "${workspace}"`, error);
    }
  }

  /** {@link authorize} on its own transaction, for changes whose store work does not take an actor. */
  async check(workspace: string, actorInput: string, action: string): Promise<void> {
    const actor = parseUserInput(operatorNameSchema, actorInput, 'operator name');
    try {
      await this.db.transaction(async (tx) => {
        await this.authorize(tx, await this.workspaceRef(tx, workspace), actor, action, new Date());
      });
    } catch (error) {
      throw storageFailure(`check the administrators of workspace "${workspace}"`, error);
    }
  }

  async add(workspace: string, userInput: string, actorInput: string): Promise<void> {
    const user = parseUserInput(operatorNameSchema, userInput, 'user');
    const actor = parseUserInput(operatorNameSchema, actorInput, 'operator name');
    const now = new Date();
    try {
      await this.db.transaction(async (tx) => {
        const ref = await this.workspaceRef(tx, workspace);
        await this.authorize(tx, ref, actor, 'add administrators', now);
        await this.insert(tx, ref.id, user, actor, now);
      });
    } catch (error) {
      throw storageFailure(`add an administrator to workspace "${workspace}"`, error);
    }
    this.logger.info({ workspace, user, by: actor }, 'workspace administrator added');
  }

  async remove(workspace: string, userInput: string, actor: string): Promise<void> {
    const user = parseUserInput(operatorNameSchema, userInput, 'user');
    try {
      await this.db.transaction(async (tx) => {
        const ref = await this.workspaceRef(tx, workspace);
        await this.authorize(tx, ref, actor, 'remove administrators', new Date());
        const admins = await this.names(tx, ref.id);
        if (!admins.includes(user)) {
          throw new ConfigError('NOT_WORKSPACE_ADMIN', `"${user}" is not an administrator of workspace "${workspace}".`, {
            hint: `List them with: tributary workspace admins --workspace ${workspace}`,
          });
        }
        if (admins.length === 1) {
          throw new ConfigError('LAST_WORKSPACE_ADMIN', `"${user}" is the last administrator of workspace "${workspace}" and stays one.`, {
            hint: `Add another administrator first: tributary workspace admins add <user> --workspace ${workspace}`,
          });
        }
        await tx.query(
          `DELETE FROM ${this.table()} WHERE "workspace_id" = ${this.dialect.placeholder(1)} AND "user_name" = ${this.dialect.placeholder(2)}`,
          [ref.id, user],
        );
      });
    } catch (error) {
      throw storageFailure(`remove an administrator of workspace "${workspace}"`, error);
    }
    this.logger.info({ workspace, user, by: actor }, 'workspace administrator removed');
  }
}
