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
  type StoredProfile,
} from '@tributary/core';
import { storedCustomerTable } from '../customer-table.js';
import type { Database, Executor } from '../database.js';
import type { Statement } from '../dialect.js';
import { isUniqueViolation, storageFailure } from '../errors.js';
import { requireWorkspaceId } from '../workspaces.js';
import type { Bindings } from './bindings.js';
import { answerCopiesOf } from './answer-copies.js';
import { compileProfile, explainStatement, type MemberRow } from './compile.js';
import { membership, readHistory, recordEvaluation } from './evaluations.js';
import {
  boundStatement,
  difference,
  limitSchema,
  nameSchema,
  notFound,
  ownTableSql,
  timestampValue,
  toMember,
  toProfile,
  workspaceSchema,
  type Membership,
  type ProfileRow,
  type Target,
} from './records.js';
import { PROFILE_APP, profileTables } from './schema.js';

/** A recorded evaluation, as the transaction that recorded it hands it on. */
export interface RecordedEvaluation {
  workspace: string;
  name: string;
  profileId: string;
  evaluationId: string;
  evaluatedAt: Date;
  entered: readonly string[];
  left: readonly string[];
  members: readonly string[];
}

/**
 * Profiles of a workspace: definitions, evaluation over the workspace's CloseAlert data, and the
 * membership history (who entered, who left) of recorded evaluations.
 */
export class Profiles {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Runs in the transaction that records an evaluation (destinations queue their batches there). */
    private readonly onRecorded?: (tx: Executor, recorded: RecordedEvaluation) => Promise<void>,
  ) {}

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
        // Evaluations, members and changes go with it (ON DELETE CASCADE).
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

  /**
   * The id of the installation a workspace's profiles read, as a subquery over the workspace id
   * `workspaceId`: the active one, else the newest uninstalled one whose data was kept, else the
   * newest purged one (which {@link sourceOf} refuses with a sentence rather than a missing table).
   */
  private sourceInstallation(b: Bindings, workspaceId: string): string {
    return `(SELECT si."id" FROM ${this.table('installations')} si
              WHERE si."workspace_id" = ${workspaceId} AND si."app" = ${b.bind(PROFILE_APP)}
              ORDER BY CASE WHEN si."status" = 'active' THEN 0 WHEN si."purged_at" IS NULL THEN 1 ELSE 2 END, si."created_at" DESC
              LIMIT 1)`;
  }

  private sourceOf(
    workspace: string,
    installation: { id: string | null; customer_table: unknown; mappings: unknown; purged_at?: unknown } | undefined,
  ): Omit<Target, 'profile'> {
    if (installation?.id && installation.purged_at !== null && installation.purged_at !== undefined) {
      throw new ConfigError(
        'APP_DATA_PURGED',
        `Profiles read CloseAlert feedback, but ${PROFILE_APP} was uninstalled from workspace "${workspace}" and its data purged: there is nothing to evaluate.`,
        {
          hint: `Install it again with: tributary install ${PROFILE_APP} --workspace ${workspace} --project <key> --token-file <file>`,
        },
      );
    }
    if (!installation?.id) {
      throw new ConfigError(
        'APP_NOT_INSTALLED',
        `Profiles read CloseAlert feedback, but ${PROFILE_APP} was never installed in workspace "${workspace}".`,
        {
          hint: `Install it with: tributary install ${PROFILE_APP} --workspace ${workspace} --project <key> --token-file <file>`,
        },
      );
    }
    const link =
      typeof installation.customer_table === 'string'
        ? JSON.parse(installation.customer_table)
        : installation.customer_table;
    const customerTable = storedCustomerTable(link);
    return {
      installationId: installation.id,
      answerCopies: answerCopiesOf(installation.mappings),
      ...(customerTable ? { customerTable } : {}),
    };
  }

  /** The installation a workspace's profiles read. */
  private async source(db: Executor, workspace: string): Promise<Omit<Target, 'profile'>> {
    const [installation] = await db.run<{ id: string; customer_table: unknown; mappings: unknown; purged_at: unknown }>(
      this.statement(
        (b) => `SELECT i."id", i."customer_table", i."mappings", i."purged_at" FROM ${this.table('installations')} i
                 JOIN ${this.table('workspaces')} w ON w."id" = i."workspace_id"
                WHERE w."name" = ${b.bind(workspace)} AND i."id" = ${this.sourceInstallation(b, 'w."id"')}`,
      ),
    );
    return this.sourceOf(workspace, installation);
  }

  /** A profile and the installation it reads, in one statement (an evaluation's first of few). */
  private async target(db: Executor, workspace: string, name: string): Promise<Target> {
    const evaluations = this.table('profile_evaluations');
    const [row] = await db.run<
      ProfileRow & { installation_id: string | null; customer_table: unknown; mappings: unknown; purged_at: unknown }
    >(
      this.statement(
        (
          b,
        ) => `SELECT p."id", w."name" AS "workspace", p."name", p."definition", p."created_at", p."updated_at", e."evaluated_at", e."member_count",
                       i."id" AS "installation_id", i."customer_table", i."mappings", i."purged_at"
                  FROM ${this.table('profiles')} p
                  JOIN ${this.table('workspaces')} w ON w."id" = p."workspace_id"
                  LEFT JOIN ${evaluations} e ON e."profile_id" = p."id"
                   AND e."ordinal" = (SELECT MAX(x."ordinal") FROM ${evaluations} x WHERE x."profile_id" = p."id")
                  LEFT JOIN ${this.table('installations')} i ON i."id" = ${this.sourceInstallation(b, 'w."id"')}
                 WHERE w."name" = ${b.bind(workspace)} AND p."name" = ${b.bind(name)}`,
      ),
    );
    if (!row) throw notFound(workspace, name);
    return {
      profile: toProfile(row),
      ...this.sourceOf(workspace, {
        id: row.installation_id,
        customer_table: row.customer_table,
        mappings: row.mappings,
        purged_at: row.purged_at,
      }),
    };
  }

  async forms(workspaceInput: string): Promise<FeedbackForm[]> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    try {
      return await this.db.withConnection(async (db) => {
        const { installationId } = await this.source(db, workspace);
        const tables = profileTables(this.dialect.naming);
        const forms = await db.run<{
          form_id: string | number;
          name: string | null;
          form_type: string | null;
        }>(
          this.statement(
            (b) =>
              `SELECT "form_id", "name", "form_type" FROM ${tables.forms} WHERE "installation_id" = ${b.bind(installationId)} ORDER BY "form_id"`,
          ),
        );
        const questions = await db.run<{
          form_id: string | number;
          question_index: string;
          question: string | null;
          question_type: string | null;
        }>(
          this.statement(
            (b) => `SELECT "form_id", "question_index", "question", "question_type" FROM ${tables.questions}
                     WHERE "installation_id" = ${b.bind(installationId)} ORDER BY "form_id", "question_index"`,
          ),
        );
        const byId = new Map<number, FeedbackForm>(
          forms.map((f) => [
            Number(f.form_id),
            { id: Number(f.form_id), name: f.name, formType: f.form_type, questions: [] },
          ]),
        );
        for (const question of questions) {
          byId.get(Number(question.form_id))?.questions.push({
            index: question.question_index,
            text: question.question,
            type: question.question_type,
          });
        }
        return [...byId.values()];
      });
    } catch (error) {
      throw storageFailure(`list the forms of workspace "${workspace}"`, error);
    }
  }

  private compiled(target: Target, now: Date): Statement {
    return compileProfile(target.profile.definition, {
      dialect: this.dialect.name,
      naming: this.dialect.naming,
      installationId: target.installationId,
      now,
      answerCopies: target.answerCopies,
      ...(target.customerTable ? { customerTable: target.customerTable } : {}),
    });
  }

  async evaluate(
    workspaceInput: string,
    nameInput: string,
    options: EvaluateProfileOptions = {},
  ): Promise<ProfileEvaluation> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    const now = options.now ?? new Date();
    if (!(now instanceof Date) || Number.isNaN(now.getTime()))
      throw new ConfigError('CONFIG_INVALID', 'Invalid evaluation time: now must be a valid Date.');
    const record = options.record ?? true;
    // One read-only connection for the profile, its members and (when nothing is recorded) the
    // previous members to compare with: an evaluation is a handful of round trips.
    const started = performance.now();
    let read: { target: Target; members: ProfileMember[]; previousMembers?: Membership };
    try {
      read = await this.db.readOnly(async (db) => {
        const target = await this.target(db, workspace, name);
        const rows = await db.run<MemberRow>(this.compiled(target, now));
        const members = rows.map(toMember);
        return record
          ? { target, members }
          : { target, members, previousMembers: await membership(db, this.dialect, target.profile.id) };
      });
    } catch (error) {
      throw storageFailure(`evaluate the profile "${name}"`, error, 'PROFILE_QUERY_FAILED');
    }
    const queryMs = performance.now() - started;
    const { target, members } = read;
    const emails = members.map((m) => m.email);
    const memberSet = new Set(emails);
    const profileId = target.profile.id;

    try {
      if (read.previousMembers) {
        const { current, previous } = read.previousMembers;
        return {
          profile: target.profile,
          installationId: target.installationId,
          evaluatedAt: now,
          members,
          entered: difference(emails, current),
          left: difference([...current], memberSet),
          ...(previous ? { previousEvaluatedAt: previous.evaluatedAt } : {}),
        };
      }
      const evaluationId = randomUUID();
      const result = await this.db.transaction(async (tx) => {
        const recorded = await recordEvaluation(tx, this.dialect, {
          workspace,
          name,
          profileId,
          installationId: target.installationId,
          evaluationId,
          evaluatedAt: now,
          emails,
        });
        await this.onRecorded?.(tx, { workspace, name, profileId, evaluationId, evaluatedAt: now, entered: recorded.entered, left: recorded.left, members: emails });
        return recorded;
      });
      this.logger.debug(
        {
          workspace,
          profile: name,
          members: members.length,
          entered: result.entered.length,
          left: result.left.length,
          queryMs: Math.round(queryMs),
        },
        'profile evaluated',
      );
      return {
        profile: { ...target.profile, lastEvaluation: { evaluatedAt: now, memberCount: members.length } },
        installationId: target.installationId,
        evaluatedAt: now,
        evaluationId,
        members,
        entered: result.entered,
        left: result.left,
        ...(result.previous ? { previousEvaluatedAt: result.previous.evaluatedAt } : {}),
      };
    } catch (error) {
      throw storageFailure(`record an evaluation of the profile "${name}"`, error);
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

  /** How the database runs a profile's query: the plan's lines (PostgreSQL EXPLAIN [ANALYZE], SQLite EXPLAIN QUERY PLAN). */
  async explain(
    workspaceInput: string,
    nameInput: string,
    options: { now?: Date; analyze?: boolean } = {},
  ): Promise<string[]> {
    const workspace = parseUserInput(workspaceSchema, workspaceInput, 'workspace');
    const name = parseUserInput(nameSchema, nameInput, 'profile name');
    try {
      const rows = await this.db.readOnly(async (db) => {
        const target = await this.target(db, workspace, name);
        const statement = explainStatement(
          this.dialect.name,
          this.compiled(target, options.now ?? new Date()),
          options.analyze,
        );
        return db.run<Record<string, unknown>>(statement);
      });
      return this.dialect.name === 'postgres'
        ? rows.map((r) => String(r['QUERY PLAN']))
        : rows.map((r) => String(r['detail']));
    } catch (error) {
      throw storageFailure(`explain the profile "${name}"`, error);
    }
  }
}
