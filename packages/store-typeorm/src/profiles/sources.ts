import { ConfigError, type DataModel } from '@tributary/core';
import { storedCustomerTable } from '../customer-table.js';
import type { Executor } from '../database.js';
import type { Dialect } from '../dialect.js';
import { storedDataModel } from '../installations.js';
import { boundStatement, ownTableSql } from './records.js';
import { feedbackSourceOf, type FeedbackSource } from './schema.js';

// Which installations a profile reads: per app of the workspace, the one installation whose data
// is there to read, and of those the apps whose connector declares a feedback view.

/** An installation as the profile queries select it. */
export interface InstallationRow {
  id: string;
  app: string;
  status: string;
  purged_at: unknown;
  data_model: unknown;
  mappings: unknown;
  customer_table: unknown;
  /** Changes whenever the data model, mappings or customer link change: the key of the parsed source. */
  updated_at: unknown;
}

const json = (value: unknown) => (typeof value === 'string' ? (JSON.parse(value) as unknown) : value);

// Evaluations repeat, and parsing an installation's data model and mappings costs about as much
// as the manual's example takes to run: each installation's source is built once per version of
// its row (every change of model, mappings or customer link sets updated_at).
const SOURCE_CACHE_SIZE = 256;
const cache = new Map<string, FeedbackSource | null>();

function cached(key: string, build: () => FeedbackSource | undefined): FeedbackSource | undefined {
  let source = cache.get(key);
  if (source === undefined) {
    source = build() ?? null;
    if (cache.size >= SOURCE_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, source);
  }
  return source ?? undefined;
}

function dataModelOf(row: InstallationRow): DataModel {
  return storedDataModel(json(row.data_model), `Installation ${row.id}`);
}

function timeKey(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * Each app's installation in a workspace that profiles read: the active one, else the newest
 * uninstalled one whose data was kept, else the newest purged one (which {@link feedbackSources}
 * refuses with a sentence rather than a missing table). In app order.
 */
export async function workspaceInstallations(db: Executor, dialect: Dialect, workspace: string): Promise<InstallationRow[]> {
  const rows = await db.run<InstallationRow>(
    boundStatement(
      dialect,
      (b) => `SELECT ${INSTALLATION_COLUMNS}
                FROM ${ownTableSql(dialect, 'installations')} i
                JOIN ${ownTableSql(dialect, 'workspaces')} w ON w."id" = i."workspace_id"
               WHERE w."name" = ${b.bind(workspace)}
               ORDER BY ${INSTALLATION_ORDER}`,
    ),
  );
  return onePerApp(rows);
}

/** The columns of {@link InstallationRow}, selected from the alias `i`. */
export const INSTALLATION_COLUMNS = 'i."id", i."app", i."status", i."purged_at", i."data_model", i."mappings", i."customer_table", i."updated_at"';
/** By app, the installation to read first. */
export const INSTALLATION_ORDER = `i."app", CASE WHEN i."status" = 'active' THEN 0 WHEN i."purged_at" IS NULL THEN 1 ELSE 2 END, i."created_at" DESC`;

/** The first row of each app, of rows ordered by {@link INSTALLATION_ORDER}. */
export function onePerApp(rows: readonly InstallationRow[]): InstallationRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => row.id !== null && row.id !== undefined && !seen.has(row.app) && seen.add(row.app));
}

const purged = (row: InstallationRow) => row.purged_at !== null && row.purged_at !== undefined;

/**
 * The feedback sources a profile of `workspace` reads: every feedback app of the workspace, or
 * only `app` when the profile is pinned to it or the caller narrows to it. A ConfigError that says
 * what to do when there is nothing to read.
 */
export function feedbackSources(
  dialect: Dialect,
  workspace: string,
  rows: readonly InstallationRow[],
  app: string | undefined,
): FeedbackSource[] {
  const naming = dialect.naming;
  const source = (row: InstallationRow) =>
    cached(`${naming.dialect}|${naming.schema}|${naming.tablePrefix}|${row.id}|${timeKey(row.updated_at)}|${JSON.stringify(row.customer_table)}`, () =>
      feedbackSourceOf(naming, {
        id: row.id,
        app: row.app,
        dataModel: dataModelOf(row),
        mappings: json(row.mappings),
        customerTable: storedCustomerTable(json(row.customer_table)),
      }),
    );
  const feedbackApps = rows.filter((row) => source(row) !== undefined);
  const installHint = (name: string) =>
    `Install it with: tributary install ${name} --workspace ${workspace} (tributary install ${name} --help lists its settings)`;
  if (app !== undefined) {
    const row = rows.find((r) => r.app === app);
    if (!row) {
      throw new ConfigError('APP_NOT_INSTALLED', `Profiles of workspace "${workspace}" read app "${app}", which was never installed there.`, {
        hint: feedbackApps.length > 0 ? `Its feedback apps are: ${feedbackApps.map((r) => r.app).join(', ')}. ${installHint(app)}` : installHint(app),
      });
    }
    const found = source(row);
    if (!found) {
      throw new ConfigError('APP_NOT_FEEDBACK', `App "${app}" of workspace "${workspace}" holds no feedback profiles can read: its connector declares no feedback view.`, {
        hint: feedbackApps.length > 0 ? `Name one of its feedback apps instead: ${feedbackApps.map((r) => r.app).join(', ')}.` : 'Install a feedback connector (tributary connectors lists them) or leave out --app.',
      });
    }
    if (purged(row)) throw purgedError(workspace, [app]);
    return [found];
  }
  const readable = feedbackApps.filter((row) => !purged(row));
  if (readable.length === 0) {
    if (feedbackApps.length > 0) throw purgedError(workspace, feedbackApps.map((r) => r.app));
    const readableApps = rows.filter((row) => !purged(row)).map((row) => row.app);
    if (readableApps.length > 0) {
      throw new ConfigError('APP_NOT_FEEDBACK', `Profiles read feedback, but no app of workspace "${workspace}" (${readableApps.join(', ')}) declares a feedback view.`, {
        hint: `An app installed before its connector declared one takes it at its next sync: tributary sync --workspace ${workspace}. Otherwise install a feedback connector (tributary connectors lists them).`,
      });
    }
    throw new ConfigError('APP_NOT_INSTALLED', `Profiles read feedback, but no feedback app was ever installed in workspace "${workspace}".`, {
      hint: `Install one (tributary connectors lists them), e.g. ${installHint('<app>')}`,
    });
  }
  return readable.map((row) => source(row)!);
}

function purgedError(workspace: string, apps: readonly string[]): ConfigError {
  return new ConfigError(
    'APP_DATA_PURGED',
    `Profiles read feedback, but ${apps.join(', ')} ${apps.length === 1 ? 'was' : 'were'} uninstalled from workspace "${workspace}" and ${apps.length === 1 ? 'its' : 'their'} data purged: there is nothing to evaluate.`,
    { hint: `Install ${apps.length === 1 ? 'it' : 'one'} again with: tributary install ${apps[0]} --workspace ${workspace}, then sync.` },
  );
}
