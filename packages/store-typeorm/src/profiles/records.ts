import { z } from 'zod';
import {
  ConfigError,
  StorageError,
  describeIssues,
  nameTextSchema,
  profileDefinitionSchema,
  identifierSchema,
  type ProfileDefinition,
  type StoredProfile,
} from '@tributary/core';
import { databaseValue, internalTable, type Dialect, type Statement } from '../dialect.js';
import { dateFromDatabase } from '../values.js';
import { Bindings } from './bindings.js';
import type { FeedbackSource } from './schema.js';

// The rows of the profile tables and how they become the port's types, shared by the definitions
// (repository.ts) and the evaluations and their history (evaluations.ts).

/** Rows per DELETE … IN (…) statement: far below either database's parameter limit. */
export const DELETE_CHUNK = 500;

// Checked before any query: a NUL in a bound value fails the statement on PostgreSQL only.
export const workspaceSchema = z.string().trim().pipe(nameTextSchema(200));
// A look-up only needs text a database can bind; a name no profile can have is simply not found.
export const nameSchema = z.string().trim().pipe(nameTextSchema(100));
export const limitSchema = z.number().int().min(1).max(1000);
/** A page of members as a caller asks for it. */
// No NUL: PostgreSQL refuses it in a bound value, where SQLite would simply find nothing.
const noNul = (max: number) => z.string().max(max).refine((text) => !text.includes('\u0000'), { message: 'must not contain a NUL character' });
export const memberPageSchema = z.object({
  after: noNul(500).optional(),
  contains: noNul(200).optional(),
  limit: z.number().int().min(1).max(1000),
});
/** Members per batch of a streamed evaluation. */
export const batchSizeSchema = z.number().int().min(1).max(100_000);
/** An app (connector id) a caller narrows a profile to. */
export const appSchema = identifierSchema;

export interface ProfileRow {
  id: string;
  workspace: string;
  name: string;
  definition: unknown;
  created_at: Date | string;
  updated_at: Date | string;
  evaluated_at: Date | string | null;
  member_count: number | string | null;
}

/** The members of a profile's latest recorded evaluation, and which one that was. */
export interface Membership {
  current: Set<string>;
  previous?: { ordinal: number; evaluatedAt: Date };
}

/** A profile and what it reads. */
export interface Target {
  profile: StoredProfile;
  /** The feedback apps read, in app order. */
  sources: FeedbackSource[];
  /** Whether the caller narrowed an unpinned profile to one app. */
  narrowed: boolean;
}

function storedDefinition(value: unknown, what: string): ProfileDefinition {
  const parsed = profileDefinitionSchema.safeParse(typeof value === 'string' ? JSON.parse(value) : value);
  if (!parsed.success)
    throw new StorageError(
      'STORE_DATA_INVALID',
      `${what} holds an invalid definition: ${describeIssues(parsed.error)}`,
    );
  return parsed.data;
}

export function toProfile(row: ProfileRow): StoredProfile {
  const profile: StoredProfile = {
    id: row.id,
    workspace: row.workspace,
    name: row.name,
    definition: storedDefinition(row.definition, `Profile "${row.name}"`),
    createdAt: dateFromDatabase(row.created_at),
    updatedAt: dateFromDatabase(row.updated_at),
  };
  if (row.evaluated_at !== null && row.member_count !== null) {
    profile.lastEvaluation = {
      evaluatedAt: dateFromDatabase(row.evaluated_at),
      memberCount: Number(row.member_count),
    };
  }
  return profile;
}

export function difference(a: readonly string[], b: ReadonlySet<string>): string[] {
  return a.filter((email) => !b.has(email)).sort();
}

export function notFound(workspace: string, name: string): ConfigError {
  return new ConfigError('PROFILE_NOT_FOUND', `Workspace "${workspace}" has no profile named "${name}".`, {
    hint: `List its profiles with: tributary profiles list --workspace ${workspace}`,
  });
}

/** One of Tributary's own tables, quoted for SQL. */
export function ownTableSql(dialect: Dialect, name: string): string {
  return internalTable(dialect, name).sql;
}

/** A statement whose values are all bound, in the dialect's placeholder style. */
export function boundStatement(dialect: Dialect, build: (b: Bindings) => string): Statement {
  const bindings = new Bindings();
  return bindings.statement(dialect.name, build(bindings));
}

/** A timestamp as the dialect stores it. */
export function timestampValue(dialect: Dialect, date: Date): unknown {
  return databaseValue(dialect.name, 'timestamp', date.toISOString());
}
