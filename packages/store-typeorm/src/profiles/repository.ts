import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  parseUserInput,
  profileDefinitionSchema,
  type EvaluateProfileOptions,
  type FeedbackForm,
  type Logger,
  type ProfileEvaluation,
  type ProfileHistoryEntry,
  type ProfileMember,
  type ProfilePreview,
  type StoredProfile,
  type StreamedProfileEvaluation,
  type StreamProfileOptions,
  type ProfileMembersOptions,
  type ProfileMemberPage,
} from '@tributary/core';
import type { Database, Executor } from '../database.js';
import type { Statement } from '../dialect.js';
import { isUniqueViolation, storageFailure } from '../errors.js';
import { requireWorkspaceId } from '../workspaces.js';
import type { Bindings } from './bindings.js';
import { compileProfile, explainStatement, type MemberRow } from './compile.js';
import { membership, readHistory } from './evaluations.js';
import { explainStreamed, streamedMemberRows } from './streamed-rows.js';
import { concludeEvaluation, type RecordedEvaluation, type RecordingContext } from './conclude.js';
import {
  boundStatement,
  batchSizeSchema,
  memberPageSchema,
  limitSchema,
  nameSchema,
  notFound,
  ownTableSql,
  appSchema,
  timestampValue,
  toProfile,
  workspaceSchema,
  type Membership,
  type ProfileRow,
  type Target,
} from './records.js';
import { firstMembersStatement, memberCountStatement, memberPageStatement } from './pages.js';
import { feedbackForms, MemberGrouper, recordNarrowed, toMembers } from './members.js';
import { dropView } from '../destinations/views.js';
import { feedbackSources, INSTALLATION_ORDER, onePerApp, workspaceInstallations, type InstallationRow } from './sources.js';

export type { RecordedEvaluation } from './conclude.js';

/**
 * Profiles of a workspace: definitions, evaluation over the workspace's feedback apps, and the
 * membership history (who entered, who left) of recorded evaluations.
 */
export class Profiles {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Runs in the transaction that records an evaluation (destinations queue their batches there). */
    private readonly onRecorded?: (tx: Executor, recorded: RecordedEvaluation) => Promise<void>,
  ) {}

  /** What concluding an evaluation needs of this repository. */
  private get recording(): RecordingContext {
    return { db: this.db, logger: this.logger, onRecorded: this.onRecorded };
  }

  private get dialect() {
    return this.db.dialect;
  }

  private table(name: string): string {
    return ownTableSql(this.dialect, name);
  }

  private statement(build: (b: Bindings) => string): Statement {
    return boundStatement(this.dialect, build);
  }

  private timestamp(date: Date): unknown {
    return timestampValue(this.dialect, date);
  }

  private selectProfiles(b: Bindings, workspace: string, name?: string): string {
    const evaluations = this.table('profile_evaluations');
    return `SELECT p."id", w."name" AS "workspace", p."name", p."definition", p."created_at", p."updated_at", e."evaluated_at", e."member_count"
      FROM ${this.table('profiles')} p
      JOIN ${this.table('workspaces')} w ON w."id" = p."workspace_id"
      LEFT JOIN ${evaluations} e ON e."profile_id" = p."id"
       AND e."ordinal" = (SELECT MAX(x."ordinal") FROM ${evaluations} x WHERE x."profile_id" = p."id")
     WHERE w."name" = ${b.bind(workspace)}${name === undefined ? '' : ` AND p."name" = ${b.bind(name)}`}
     ORDER BY p."name"`;
  }

  private async find(db: Executor, workspace: string, name: string): Promise<StoredProfile | undefined> {
    const [row] = await db.run<ProfileRow>(this.statement((b) => this.selectProfiles(b, workspace, name)));
    return row ? toProfile(row) : undefined;
  }

  async create(workspaceInput: string, input: unknown, now: Date): Promise<StoredProfile> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const definition = parseUserInput(profileDefinitionSchema, input, 'profile definition');
    const id = randomUUID();
    try {
      await this.db.transaction(async (tx) => {
        const workspaceId = await requireWorkspaceId(tx, this.dialect, workspace);
        await tx.run(
          this.statement(
            (
              b,
            ) => `INSERT INTO ${this.table('profiles')} ("id", "workspace_id", "name", "definition", "created_at", "updated_at")
                    VALUES (${b.bind(id)}, ${b.bind(workspaceId)}, ${b.bind(definition.name)}, ${b.bind(JSON.stringify(definition))}, ${b.bind(this.timestamp(now))}, ${b.bind(this.timestamp(now))})`,
          ),
        );
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConfigError(
          'PROFILE_EXISTS',
          `Workspace "${workspace}" already has a profile named "${definition.name}".`,
          {
            hint: `Delete it first (tributary profiles delete "${definition.name}" --workspace ${workspace}) or choose another name.`,
          },
        );
      }
      throw storageFailure(`save the profile "${definition.name}"`, error);
    }
    this.logger.info({ workspace, profile: definition.name }, 'profile created');
    return { id, workspace, name: definition.name, definition, createdAt: now, updatedAt: now };
  }

  /**
   * Replaces a profile's definition in place (same id, same history): who entered and who left is
   * then measured against the members of the old definition, as a marketer expects of an edit.
   */
  async update(workspaceInput: string, nameInput: string, input: unknown, now: Date): Promise<StoredProfile> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    const definition = parseUserInput(profileDefinitionSchema, { ...(input as object), name }, 'profile definition');
    let updated: StoredProfile | undefined;
    try {
      updated = await this.db.transaction(async (tx) => {
        const found = await this.find(tx, workspace, name);
        if (!found) return undefined;
        await tx.run(
          this.statement(
            (b) => `UPDATE ${this.table('profiles')} SET "definition" = ${b.bind(JSON.stringify(definition))}, "updated_at" = ${b.bind(this.timestamp(now))}
                     WHERE "id" = ${b.bind(found.id)}`,
          ),
        );
        return { ...found, definition, updatedAt: now };
      });
    } catch (error) {
      throw storageFailure(`update the profile "${name}"`, error);
    }
    if (!updated) throw notFound(workspace, name);
    this.logger.info({ workspace, profile: name }, 'profile updated');
    return updated;
  }

  /**
   * The members an unsaved definition would have at `now`, over the same feedback apps a saved one
   * would read; nothing is written (a preview as a marketer edits conditions).
   */
  async preview(workspaceInput: string, input: unknown, options: { now?: Date; app?: string; limit?: number } = {}): Promise<ProfilePreview> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const definition = parseUserInput(profileDefinitionSchema, input, 'profile definition');
    const app = options.app === undefined ? undefined : parseUserInput(appSchema, options.app, 'app');
    // 0 is a count alone; the statement still reads one member, for the count it carries.
    const limit = options.limit === undefined ? undefined : parseUserInput(limitSchema, Math.max(1, options.limit), 'preview limit');
    const now = options.now ?? new Date();
    try {
      return await this.db.readOnly(async (db) => {
        const sources = feedbackSources(this.dialect, workspace, await workspaceInstallations(db, this.dialect, workspace), definition.app ?? app);
        const compiled = compileProfile(definition, { dialect: this.dialect.name, sources, now });
        if (limit === undefined) {
          const members = toMembers(await db.run<MemberRow>(compiled), sources);
          return { definition, evaluatedAt: now, apps: sources.map((s) => s.app), members, count: members.length };
        }
        // The first members with the count of all, in one statement: a large profile never reaches this process.
        const rows = await db.run<MemberRow & { tributary_total: number | string }>(firstMembersStatement(this.dialect.name, compiled, limit));
        const members = toMembers(rows, sources).slice(0, options.limit);
        return { definition, evaluatedAt: now, apps: sources.map((s) => s.app), members, count: Number(rows[0]?.tributary_total ?? 0) };
      });
    } catch (error) {
      throw storageFailure('preview the profile', error, 'PROFILE_QUERY_FAILED');
    }
  }

  async list(workspaceInput: string): Promise<StoredProfile[]> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    try {
      const rows = await this.db.withConnection((db) =>
        db.run<ProfileRow>(this.statement((b) => this.selectProfiles(b, workspace))),
      );
      return rows.map(toProfile);
    } catch (error) {
      throw storageFailure(`list the profiles of workspace "${workspace}"`, error);
    }
  }

  async get(workspaceInput: string, nameInput: string): Promise<StoredProfile | undefined> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    try {
      return await this.db.withConnection((db) => this.find(db, workspace, name));
    } catch (error) {
      throw storageFailure(`read the profile "${name}"`, error);
    }
  }

  async delete(workspaceInput: string, nameInput: string): Promise<boolean> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    try {
      const deleted = await this.db.transaction(async (tx) => {
        const profile = await this.find(tx, workspace, name);
        if (!profile) return false;
        // The views of its view destinations read its members: they go with it, or a user's tool would
        // keep reading an empty list as if it were the profile's.
        const views = await tx.run<{ view_name: string | null }>(
          this.statement((b) => `SELECT "view_name" FROM ${this.table('profile_activations')} WHERE "profile_id" = ${b.bind(profile.id)}`),
        );
        for (const view of views) if (view.view_name) await tx.run(dropView(this.db.dialect, view.view_name));
        // Evaluations, members, changes, activations and batches go with it (ON DELETE CASCADE).
        await tx.run(
          this.statement((b) => `DELETE FROM ${this.table('profiles')} WHERE "id" = ${b.bind(profile.id)}`),
        );
        return true;
      });
      if (deleted) this.logger.info({ workspace, profile: name }, 'profile deleted');
      return deleted;
    } catch (error) {
      throw storageFailure(`delete the profile "${name}"`, error);
    }
  }

  /** A profile by name and the feedback sources it reads (its pinned app, or `app`, or all), on one connection. */
  private async target(db: Executor, workspace: string, name: string, app: string | undefined): Promise<Target> {
    // The profile with each installation of its workspace, in one statement (an evaluation's first of few).
    const evaluations = this.table('profile_evaluations');
    const rows = await db.run<ProfileRow & { [K in keyof InstallationRow as `i_${K}`]: InstallationRow[K] }>(
      this.statement(
        (b) => `SELECT p."id", w."name" AS "workspace", p."name", p."definition", p."created_at", p."updated_at", e."evaluated_at", e."member_count",
                       i."id" AS "i_id", i."app" AS "i_app", i."status" AS "i_status", i."purged_at" AS "i_purged_at",
                       i."data_model" AS "i_data_model", i."mappings" AS "i_mappings", i."customer_table" AS "i_customer_table", i."updated_at" AS "i_updated_at"
                  FROM ${this.table('profiles')} p
                  JOIN ${this.table('workspaces')} w ON w."id" = p."workspace_id"
                  LEFT JOIN ${evaluations} e ON e."profile_id" = p."id"
                   AND e."ordinal" = (SELECT MAX(x."ordinal") FROM ${evaluations} x WHERE x."profile_id" = p."id")
                  LEFT JOIN ${this.table('installations')} i ON i."workspace_id" = w."id"
                 WHERE w."name" = ${b.bind(workspace)} AND p."name" = ${b.bind(name)}
                 ORDER BY ${INSTALLATION_ORDER}`,
      ),
    );
    const row = rows[0];
    if (!row) throw notFound(workspace, name);
    const profile = toProfile(row);
    const pinned = profile.definition.app;
    if (pinned !== undefined && app !== undefined && app !== pinned) {
      throw new ConfigError('PROFILE_APP_PINNED', `The profile "${name}" is pinned to app "${pinned}"; it cannot read "${app}".`, {
        hint: `Leave out --app, or create a profile for "${app}" (tributary profiles create <name> --workspace ${workspace} --app ${app} …).`,
      });
    }
    const installations = onePerApp(
      rows.map((r) => ({
        id: r.i_id,
        app: r.i_app,
        status: r.i_status,
        purged_at: r.i_purged_at,
        data_model: r.i_data_model,
        mappings: r.i_mappings,
        customer_table: r.i_customer_table,
        updated_at: r.i_updated_at,
      })),
    );
    return { profile, sources: feedbackSources(this.dialect, workspace, installations, pinned ?? app), narrowed: pinned === undefined && app !== undefined };
  }

  async forms(workspaceInput: string, options: { app?: string } = {}): Promise<FeedbackForm[]> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const app = options.app === undefined ? undefined : parseUserInput(appSchema, options.app, 'app');
    try {
      return await this.db.withConnection(async (db) => {
        const rows = await workspaceInstallations(db, this.dialect, workspace);
        const forms: FeedbackForm[] = [];
        for (const source of feedbackSources(this.dialect, workspace, rows, app)) forms.push(...(await feedbackForms(db, this.dialect, source)));
        return forms;
      });
    } catch (error) {
      throw storageFailure(`list the forms of workspace "${workspace}"`, error);
    }
  }

  private compiled(target: Target, now: Date): Statement {
    return compileProfile(target.profile.definition, { dialect: this.dialect.name, sources: target.sources, now });
  }

  async evaluate(
    workspaceInput: string,
    nameInput: string,
    options: EvaluateProfileOptions = {},
  ): Promise<ProfileEvaluation> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    const app = options.app === undefined ? undefined : parseUserInput(appSchema, options.app, 'app');
    const now = options.now ?? new Date();
    if (!(now instanceof Date) || Number.isNaN(now.getTime()))
      throw new ConfigError('CONFIG_INVALID', 'Invalid evaluation time: now must be a valid Date.');
    // One read-only connection for the profile, its members and (when nothing is recorded) the
    // previous members to compare with: an evaluation is a handful of round trips.
    const started = performance.now();
    let read: { target: Target; members: ProfileMember[]; record: boolean; previousMembers?: Membership };
    try {
      read = await this.db.readOnly(async (db) => {
        const target = await this.target(db, workspace, name, app);
        const record = recordNarrowed(target, name, options.record);
        const rows = await db.run<MemberRow>(this.compiled(target, now));
        const members = toMembers(rows, target.sources);
        return record
          ? { target, members, record }
          : { target, members, record, previousMembers: await membership(db, this.dialect, target.profile.id) };
      });
    } catch (error) {
      throw storageFailure(`evaluate the profile "${name}"`, error, 'PROFILE_QUERY_FAILED');
    }
    const queryMs = performance.now() - started;
    const { target, members } = read;
    const concluded = await concludeEvaluation(this.recording, {
      workspace,
      name,
      target,
      now,
      emails: members.map((m) => m.email),
      record: read.record,
      ...(read.previousMembers ? { previousMembers: read.previousMembers } : {}),
      memberCount: members.length,
      queryMs,
    });
    const { memberCount: _count, ...evaluation } = concluded;
    return { ...evaluation, members };
  }

  /**
   * An evaluation whose members go to the reader in batches as the database returns them (see
   * ProfileStore.streamProfile). Only e-mails are kept, and only when changes are asked for or the
   * evaluation is recorded; the members themselves are dropped once handed on.
   */
  async *stream(
    workspaceInput: string,
    nameInput: string,
    options: StreamProfileOptions = {},
  ): AsyncGenerator<ProfileMember[], StreamedProfileEvaluation, undefined> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    const app = options.app === undefined ? undefined : parseUserInput(appSchema, options.app, 'app');
    const batchSize = parseUserInput(batchSizeSchema, options.batchSize ?? 1000, 'batch size');
    const now = options.now ?? new Date();
    if (!(now instanceof Date) || Number.isNaN(now.getTime()))
      throw new ConfigError('CONFIG_INVALID', 'Invalid evaluation time: now must be a valid Date.');
    const started = performance.now();
    let target: Target;
    let record: boolean;
    try {
      ({ target, record } = await this.db.readOnly(async (db) => {
        const found = await this.target(db, workspace, name, app);
        return { target: found, record: recordNarrowed(found, name, options.record) };
      }));
    } catch (error) {
      throw storageFailure(`evaluate the profile "${name}"`, error, 'PROFILE_QUERY_FAILED');
    }
    const keepEmails = record || options.changes !== false;
    const emails: string[] = [];
    const grouper = new MemberGrouper(target.sources);
    const rows = streamedMemberRows(this.db, target.profile.definition, { dialect: this.dialect.name, sources: target.sources, now }, batchSize);
    // A reader that leaves early (return() on this generator, at a yield) lands in the finally:
    // the rows' own return() closes the cursor, or stops SQLite's statement, and frees the connection.
    let complete = false;
    let memberCount = 0;
    try {
      for (;;) {
        let next: IteratorResult<MemberRow[], void>;
        try {
          next = await rows.next();
        } catch (error) {
          throw storageFailure(`evaluate the profile "${name}"`, error, 'PROFILE_QUERY_FAILED');
        }
        const members = next.done ? grouper.flush() : grouper.add(next.value);
        if (members.length > 0) {
          memberCount += members.length;
          if (keepEmails) for (const m of members) emails.push(m.email);
          yield members;
        }
        if (next.done) break;
      }
      complete = true;
    } finally {
      if (!complete) await rows.return();
    }
    const queryMs = performance.now() - started;
    let previousMembers: Membership | undefined;
    if (!record && keepEmails) {
      try {
        previousMembers = await this.db.readOnly((db) => membership(db, this.dialect, target.profile.id));
      } catch (error) {
        throw storageFailure(`evaluate the profile "${name}"`, error, 'PROFILE_QUERY_FAILED');
      }
    }
    return concludeEvaluation(this.recording, {
      workspace,
      name,
      target,
      now,
      emails,
      record,
      ...(previousMembers ? { previousMembers } : {}),
      memberCount,
      queryMs,
    });
  }

  async members(workspaceInput: string, nameInput: string, options: ProfileMembersOptions): Promise<ProfileMemberPage> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    const page = parseUserInput(memberPageSchema, { after: options.after, contains: options.contains, limit: options.limit }, 'member page');
    const now = options.now ?? new Date();
    const contains = page.contains?.trim().toLowerCase() || undefined;
    try {
      return await this.db.readOnly(async (db) => {
        const target = await this.target(db, workspace, name, undefined);
        const compiled = this.compiled(target, now);
        const rows = await db.run<MemberRow>(
          memberPageStatement(this.dialect.name, compiled, { limit: page.limit, ...(page.after === undefined ? {} : { after: page.after }), ...(contains ? { contains } : {}) }),
        );
        const [count] = await db.run<{ total: number | string }>(memberCountStatement(this.dialect.name, compiled, contains));
        const members = toMembers(rows, target.sources);
        const shown = members.slice(0, page.limit);
        return { members: shown, after: members.length > page.limit ? shown[shown.length - 1]!.email : null, total: Number(count?.total ?? 0) };
      });
    } catch (error) {
      throw storageFailure(`read the members of the profile "${name}"`, error, 'PROFILE_QUERY_FAILED');
    }
  }

  async history(
    workspaceInput: string,
    nameInput: string,
    options: { limit: number },
  ): Promise<ProfileHistoryEntry[]> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    const limit = parseUserInput(limitSchema, options.limit, 'history limit');
    const profile = await this.get(workspace, name);
    if (!profile) throw notFound(workspace, name);
    try {
      return await this.db.withConnection((db) => readHistory(db, this.dialect, profile.id, limit));
    } catch (error) {
      throw storageFailure(`read the history of the profile "${name}"`, error);
    }
  }

  /**
   * How the database runs a profile's query: the plan's lines (PostgreSQL EXPLAIN [ANALYZE], SQLite
   * EXPLAIN QUERY PLAN). `streamed`: the query a stream reads, planned as the stream's cursor is.
   */
  async explain(
    workspaceInput: string,
    nameInput: string,
    options: { now?: Date; analyze?: boolean; app?: string; streamed?: boolean } = {},
  ): Promise<string[]> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    const app = options.app === undefined ? undefined : parseUserInput(appSchema, options.app, 'app');
    try {
      const lines = await this.db.readOnly(async (db) => {
        const target = await this.target(db, workspace, name, app);
        const context = { dialect: this.dialect.name, sources: target.sources, now: options.now ?? new Date() };
        if (options.streamed === true) return explainStreamed(db, target.profile.definition, context, options.analyze === true);
        const compiled = compileProfile(target.profile.definition, context);
        const rows = await db.run<Record<string, unknown>>(explainStatement(this.dialect.name, compiled, options.analyze));
        return rows.map((r) => String(this.dialect.name === 'postgres' ? r['QUERY PLAN'] : r['detail']));
      });
      return lines;
    } catch (error) {
      throw storageFailure(`explain the profile "${name}"`, error);
    }
  }
}
