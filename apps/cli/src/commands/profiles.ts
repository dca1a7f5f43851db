import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  ConfigError,
  describeProfileCondition,
  parseUserInput,
  type EvaluateProfileOptions,
  type ProfileDefinitionInput,
  type ProfileEvaluation,
  type StoredProfile,
  type StreamedProfileEvaluation,
} from '@tributary/core';
import { withContext, type CliContext } from '../context.js';
import { println, type Io } from '../io.js';
import { toCsv } from '../csv.js';
import { printChanges, printMembers, streamMembers } from './profile-output.js';
import { definitionFromFlags, hasConditionFlags, type ProfileFlags } from '../profile-flags.js';
import { formatTable } from '../text-table.js';
import { parseWorkspace, requireWorkspace } from '../workspace.js';
import { jsonFlag, outputFor } from '../cli-options.js';

const formatSchema = z.enum(['table', 'csv', 'json']);
type Format = z.infer<typeof formatSchema>;
const limitSchema = z.coerce.number().int().min(1).max(1000);
const atSchema = z
  .string()
  .refine((text) => z.iso.datetime({ offset: true }).or(z.iso.date()).safeParse(text).success, {
    message: 'must be an ISO-8601 date or time, such as 2026-06-01 or 2026-06-01T09:30:00Z',
  });

interface CommonOptions {
  workspace: string;
  json?: boolean;
}

interface EvaluateOptions extends CommonOptions {
  format: string;
  at?: string;
  /** From --record / --no-record; unset means: record unless --at (or --app) is given. */
  record?: boolean;
  /** Read only this feedback app of the workspace. */
  app?: string;
}

/** The workspace of `--workspace`, which must exist: a typo never reads as "no profiles". */
function workspaceOf(ctx: CliContext, options: CommonOptions): Promise<string> {
  return ctx.existingStore().then((store) => requireWorkspace(store, options.workspace));
}

/** `--format`, with `--json` as the short form of `--format json`. */
function formatOf(options: { format: string; json?: boolean }): Format {
  const format = parseUserInput(formatSchema, options.format, '--format');
  if (options.json && format !== 'json' && format !== 'table') {
    throw new ConfigError('USAGE', `--json and --format ${format} ask for two formats; give one.`);
  }
  return options.json ? 'json' : format;
}

/**
 * Whether to record an evaluation in the membership history. One "as of" another time is a
 * what-if by default: recorded, it would put a past or future membership into the history.
 */
function recordOf(options: EvaluateOptions): boolean | undefined {
  // Narrowed to one app, the store decides: recorded for a profile pinned to it, a what-if otherwise.
  if (options.app !== undefined && options.record === undefined) return options.at === undefined ? undefined : false;
  return options.record ?? options.at === undefined;
}

/** What to evaluate: the time, whether to record, and the app to narrow to. */
function evaluateOptions(options: EvaluateOptions, record: boolean | undefined): EvaluateProfileOptions {
  return {
    now: evaluationTime(options.at),
    ...(record !== undefined ? { record } : {}),
    ...(options.app !== undefined ? { app: options.app } : {}),
  };
}

/** The evaluation time from `--at`, or now. */
function evaluationTime(at: string | undefined): Date {
  if (at === undefined) return new Date();
  return new Date(parseUserInput(atSchema, at, '--at'));
}

function readDefinitionFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('USAGE', `--file: cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('USAGE', `--file: ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      'USAGE',
      `--file: ${path} must hold a JSON object with "match" (and optionally "description" and "over").`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** Creates a profile from `--file` or from the condition flags. */
export async function createProfile(
  ctx: CliContext,
  name: string,
  options: CommonOptions & ProfileFlags & { file?: string },
): Promise<StoredProfile> {
  const workspace = await workspaceOf(ctx, options);
  let definition: ProfileDefinitionInput;
  if (options.file !== undefined) {
    if (hasConditionFlags(options))
      throw new ConfigError(
        'USAGE',
        'Give either --file or condition flags (--form, --question, --score, --within, …), not both.',
      );
    // The name on the command line wins over one in the file, so that one file can serve several profiles.
    const file = readDefinitionFile(options.file);
    definition = { ...file, name, ...(options.app !== undefined ? { app: options.app } : {}) } as ProfileDefinitionInput;
  } else {
    definition = definitionFromFlags(name, options);
  }
  const store = await ctx.store();
  const profile = await store.createProfile(workspace, definition);
  const out = outputFor(ctx.io, options);
  out.say(`Created profile "${profile.name}" in workspace "${workspace}": ${describeProfile(profile)}`);
  out.result(profileJson(workspace, profile));
  return profile;
}

function profileJson(workspace: string, profile: StoredProfile): Record<string, unknown> {
  return { ...profile, workspace, conditions: describeProfile(profile) };
}

function describeProfile(profile: StoredProfile): string {
  const over = profile.definition.over === 'latest-response' ? " (each customer's latest response)" : '';
  const app = profile.definition.app === undefined ? '' : ` [app ${profile.definition.app}]`;
  return `${describeProfileCondition(profile.definition.match)}${over}${app}`;
}

/**
 * Evaluates a profile (recording it unless told not to) and prints its members. CSV and JSON are
 * streamed as the store reads them: a large profile's first rows come at once, and a reader that
 * stops early (`| head -1`) stops the query, the evaluation then not being recorded.
 */
export async function runProfile(
  ctx: CliContext,
  name: string,
  options: EvaluateOptions & { maxRows?: number; eachApp?: boolean },
): Promise<ProfileEvaluation | StreamedProfileEvaluation | undefined> {
  const format = formatOf(options);
  const evaluate = evaluateOptions(options, recordOf(options));
  const workspace = await workspaceOf(ctx, options);
  const store = await ctx.existingStore();
  if (format !== 'table') return streamMembers(ctx.io, store.streamProfile(workspace, name, evaluate), format, options.eachApp ?? false);
  const evaluation = await store.evaluateProfile(workspace, name, evaluate);
  printMembers(ctx.io, evaluation, options.maxRows, options.eachApp ?? false);
  return evaluation;
}

async function showHistory(
  ctx: CliContext,
  name: string,
  workspace: string,
  limitText: string,
  format: Format,
): Promise<void> {
  const limit = parseUserInput(limitSchema, limitText, '--limit');
  const store = await ctx.existingStore();
  const history = await store.profileHistory(workspace, name, { limit });
  if (format === 'json') {
    println(
      ctx.io.stdout,
      JSON.stringify(
        history.map((h) => ({ ...h, evaluatedAt: h.evaluatedAt.toISOString() })),
        null,
        2,
      ),
    );
    return;
  }
  const rows = history.flatMap((h) => [
    ...h.entered.map((e) => [h.evaluatedAt.toISOString(), 'entered', e]),
    ...h.left.map((e) => [h.evaluatedAt.toISOString(), 'left', e]),
  ]);
  if (format === 'csv') {
    ctx.io.stdout.write(toCsv(['evaluated_at', 'change', 'email'], rows));
    return;
  }
  if (history.length === 0) {
    println(ctx.io.stdout, `"${name}" has not been evaluated yet.`);
    return;
  }
  for (const h of history) {
    println(
      ctx.io.stdout,
      `${h.evaluatedAt.toISOString()}  ${h.memberCount} members, ${h.entered.length} entered, ${h.left.length} left`,
    );
    for (const email of h.entered) println(ctx.io.stdout, `  + ${email}`);
    for (const email of h.left) println(ctx.io.stdout, `  - ${email}`);
  }
}

/** Registers `tributary profiles …`. */
export function registerProfiles(program: Command, io: Io): void {
  const profiles = program
    .command('profiles')
    .description('segments over the feedback: who answered what, exported, with who entered and who left');

  profiles
    .command('create')
    .description(
      'define a profile from a JSON file or from flags (all flags must hold; question and score on one same answer)',
    )
    .argument('<name>', 'profile name, unique in the workspace')
    .requiredOption('--workspace <ws>', 'workspace of the profile')
    .option(
      '--file <definition.json>',
      'definition: { "description"?, "over"?, "match": <conditions> } (see the store README)',
    )
    .option('--form <id|name>', 'responses to this form')
    .option('--question <index>', 'the answer to this question (index on the form, e.g. 1 or 3.1)')
    .option(
      '--score <expr>',
      "score: '<3', '<=3', '>4', '>=4', '=5', '!=5', '1-2' (between), '1,2' (any of); repeat for either",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--within <duration>', 'responded within the past 10d / 2w')
    .option('--mailing <id|name>', 'responses to this mailing')
    .option('--group <id|name>', 'responses to mailings of this group')
    .option('--comment <text>', 'an answer contains this text (case-insensitive, literal)')
    .option('--exclude-backfilled', 'leave out the history read by the first sync (old news)')
    .option('--latest', "only each customer's latest response counts (across the apps read)")
    .option('--app <app>', 'pin the profile to this feedback app; without it, it spans every feedback app of the workspace')
    .option('--description <text>', 'what the profile is for')
    .addOption(jsonFlag())
    .action(async (name: string, options: CommonOptions & ProfileFlags & { file?: string }) => {
      parseWorkspace(options.workspace);
      await withContext(io, (ctx) => createProfile(ctx, name, options));
    });

  profiles
    .command('list')
    .description('list the profiles of a workspace')
    .requiredOption('--workspace <ws>', 'workspace')
    .option('--json', 'print JSON for scripts')
    .action(async (options: CommonOptions & { json?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const workspace = await workspaceOf(ctx, options);
        const list = await (await ctx.existingStore()).listProfiles(workspace);
        if (options.json) {
          println(io.stdout, JSON.stringify(list, null, 2));
          return;
        }
        if (list.length === 0) {
          println(
            io.stdout,
            `No profiles in workspace "${workspace}" yet. Create one with: tributary profiles create <name> --workspace ${workspace} …`,
          );
          return;
        }
        const rows = list.map((p) => [
          p.name,
          p.lastEvaluation ? p.lastEvaluation.evaluatedAt.toISOString() : 'never',
          p.lastEvaluation ? String(p.lastEvaluation.memberCount) : '',
          describeProfile(p),
        ]);
        println(io.stdout, formatTable(['name', 'last evaluated', 'members', 'conditions'], rows));
      });
    });

  profiles
    .command('show')
    .description('show a profile: its conditions, its definition and its last evaluations')
    .argument('<name>', 'profile name')
    .requiredOption('--workspace <ws>', 'workspace')
    .addOption(jsonFlag())
    .action(async (name: string, options: CommonOptions) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const workspace = await workspaceOf(ctx, options);
        const store = await ctx.existingStore();
        const profile = await store.getProfile(workspace, name);
        if (!profile)
          throw new ConfigError(
            'PROFILE_NOT_FOUND',
            `Workspace "${workspace}" has no profile named "${name}".`,
          );
        const history = await store.profileHistory(workspace, name, { limit: 5 });
        if (options.json) {
          const evaluations = history.map((h) => ({ ...h, evaluatedAt: h.evaluatedAt.toISOString() }));
          println(io.stdout, JSON.stringify({ ...profileJson(workspace, profile), evaluations }, null, 2));
          return;
        }
        println(
          io.stdout,
          `${profile.name}${profile.definition.description ? ` — ${profile.definition.description}` : ''}`,
        );
        println(io.stdout, `  conditions: ${describeProfile(profile)}`);
        println(io.stdout, `  created:    ${profile.createdAt.toISOString()}`);
        // The runner records an evaluation after each sync and every hour; this says when it last did.
        println(
          io.stdout,
          `  last evaluated: ${profile.lastEvaluation ? `${profile.lastEvaluation.evaluatedAt.toISOString()} (${profile.lastEvaluation.memberCount} members)` : 'never (the runner evaluates it after the next sync)'}`,
        );
        for (const h of history) {
          println(
            io.stdout,
            `  evaluated:  ${h.evaluatedAt.toISOString()}  ${h.memberCount} members (${h.entered.length} entered, ${h.left.length} left)`,
          );
        }
        const { name: _name, ...definition } = profile.definition;
        println(io.stdout, `  definition: ${JSON.stringify(definition, null, 2).replaceAll('\n', '\n  ')}`);
      });
    });

  profiles
    .command('run')
    .description(
      'evaluate a profile and export its customers: e-mail, customer id, the matching response, score and date',
    )
    .argument('<name>', 'profile name')
    .requiredOption('--workspace <ws>', 'workspace')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--json', 'the same as --format json')
    .option('--at <time>', 'evaluate as of this time (ISO-8601; not recorded unless --record); default now')
    .option('--record', 'record this evaluation in the membership history (the default without --at)')
    .option('--no-record', 'do not record this evaluation in the membership history')
    .option('--app <app>', 'read only this feedback app (not recorded unless the profile is pinned to it)')
    .option('--each-app', 'one row per member and app it matched in (its latest matching response there), not one per member')
    .action(async (name: string, options: EvaluateOptions & { eachApp?: boolean }) => {
      parseWorkspace(options.workspace);
      await withContext(io, (ctx) => runProfile(ctx, name, options));
    });

  profiles
    .command('changes')
    .description(
      'evaluate a profile and show who entered and who left since the previous evaluation (or --history)',
    )
    .argument('<name>', 'profile name')
    .requiredOption('--workspace <ws>', 'workspace')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--json', 'the same as --format json')
    .option('--at <time>', 'evaluate as of this time (ISO-8601); default now')
    .option('--no-record', 'do not record this evaluation in the membership history')
    .option('--app <app>', 'read only this feedback app (not recorded unless the profile is pinned to it)')
    .option('--history', 'show the recorded evaluations and their changes instead of evaluating now')
    .option('--limit <n>', 'with --history: how many evaluations', '10')
    .action(async (name: string, options: EvaluateOptions & { history?: boolean; limit: string }) => {
      const format = formatOf(options);
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const workspace = await workspaceOf(ctx, options);
        if (options.history) {
          await showHistory(ctx, name, workspace, options.limit, format);
          return;
        }
        // `changes` has only --no-record (commander then defaults record to true): narrowed to an
        // app, the store decides unless --no-record was given.
        const record = options.app !== undefined && options.record !== false ? undefined : (options.record ?? true);
        const evaluation = await (await ctx.existingStore()).evaluateProfile(workspace, name, evaluateOptions(options, record));
        printChanges(io, evaluation, format);
      });
    });

  profiles
    .command('forms')
    .description("list the forms and questions of a workspace's feedback apps: the ids and question keys profiles name")
    .requiredOption('--workspace <ws>', 'workspace')
    .option('--app <app>', 'only this feedback app')
    .addOption(jsonFlag())
    .action(async (options: CommonOptions & { app?: string }) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const workspace = await workspaceOf(ctx, options);
        const forms = await (await ctx.existingStore()).listFeedbackForms(workspace, options.app === undefined ? {} : { app: options.app });
        if (options.json) {
          println(io.stdout, JSON.stringify(forms, null, 2));
          return;
        }
        if (forms.length === 0)
          println(io.stdout, `No feedback in workspace "${workspace}" yet: run a sync first.`);
        for (const form of forms) {
          println(
            io.stdout,
            `${form.app}  form ${form.id}  ${form.name ?? ''}${form.formType ? ` (${form.formType})` : ''}`,
          );
          for (const q of form.questions)
            println(
              io.stdout,
              `  question ${q.index.padEnd(4)} ${q.type ? `[${q.type}] ` : ''}${q.text ?? ''}`,
            );
        }
      });
    });

  profiles
    .command('delete')
    .description('delete a profile with its membership history and activations (a view destination drops its view)')
    .argument('<name>', 'profile name')
    .requiredOption('--workspace <ws>', 'workspace')
    .addOption(jsonFlag())
    .action(async (name: string, options: CommonOptions) => {
      parseWorkspace(options.workspace);
      await withContext(io, async (ctx) => {
        const workspace = await workspaceOf(ctx, options);
        const deleted = await (await ctx.store()).deleteProfile(workspace, name);
        if (!deleted)
          throw new ConfigError(
            'PROFILE_NOT_FOUND',
            `Workspace "${workspace}" has no profile named "${name}".`,
          );
        const out = outputFor(io, options);
        out.say(`Deleted profile "${name}" from workspace "${workspace}".`);
        out.result({ workspace, profile: name, deleted: true });
      });
    });
}
