import { ConfigError, type ProfileCondition, type ProfileDefinitionInput } from '@tributary/core';

/** The flags of `tributary profiles create` for the common case, as commander hands them over. */
export interface ProfileFlags {
  description?: string;
  /** Form id (digits), or a name (or a text id such as Typeform's `lT4Z3j`). */
  form?: string;
  /** Question index, e.g. `1` or `3.1`, or another source's question key (a field id or ref). */
  question?: string;
  /** Score expressions; several mean any of them: `<3`, `=5`, `1-2`, `1,2`. */
  score?: string[];
  /** `10d`, `2w` or a number of days. */
  within?: string;
  /** Mailing id or name. */
  mailing?: string;
  /** Group id or name. */
  group?: string;
  /** Text a comment contains. */
  comment?: string;
  /** Leave out feedback read by the first backfill. */
  excludeBackfilled?: boolean;
  /** Look at each customer's latest response only. */
  latest?: boolean;
  /** The one feedback app the profile reads (pinned); without it, every feedback app of the workspace. */
  app?: string;
}

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
const COMPARISON = new RegExp(String.raw`^(<=|>=|!=|<>|=|<|>)?\s*(${NUMBER})$`);
const BETWEEN = new RegExp(String.raw`^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)$`);
const IN_SET = new RegExp(String.raw`^${NUMBER}(?:\s*,\s*${NUMBER})+$`);
const WITHIN = /^(\d+)\s*(d|days?|w|weeks?)?$/i;
const ID = /^\d+$/;
const QUESTION_INDEX = /^\d+(\.\d+)*$/;

function usage(flag: string, message: string): ConfigError {
  return new ConfigError('USAGE', `${flag}: ${message}`);
}

/** `<3`, `<=3`, `>4`, `>=4`, `=5` (or `5`), `!=5`, `1-2` (between, inclusive), `1,2` (any of). */
export function parseScore(text: string): ProfileCondition {
  const value = text.trim();
  const between = BETWEEN.exec(value);
  if (between) {
    const [min, max] = [Number(between[1]), Number(between[2])];
    if (min > max)
      throw usage('--score', `"${value}" runs from ${min} down to ${max}; write the smaller score first.`);
    return { type: 'score', op: 'between', min, max };
  }
  if (IN_SET.test(value))
    return { type: 'score', op: 'in', values: value.split(',').map((v) => Number(v.trim())) };
  const comparison = COMPARISON.exec(value);
  if (comparison) {
    const op =
      comparison[1] === '<>' ? '!=' : ((comparison[1] ?? '=') as '=' | '!=' | '<' | '<=' | '>' | '>=');
    return { type: 'score', op, value: Number(comparison[2]) };
  }
  throw usage(
    '--score',
    `cannot read "${text}"; write <3, <=3, >4, >=4, =5, !=5, 1-2 (between) or 1,2 (any of).`,
  );
}

/** `10d`, `10 days`, `2w` or `10` (days) as a number of days. */
export function parseWithin(text: string): number {
  const match = WITHIN.exec(text.trim());
  if (!match) throw usage('--within', `cannot read "${text}"; write a number of days (10d) or weeks (2w).`);
  const days = Number(match[1]) * (match[2]?.toLowerCase().startsWith('w') ? 7 : 1);
  if (days < 1) throw usage('--within', 'must be at least one day.');
  return days;
}

function byIdOrName<T extends 'form' | 'mailing' | 'group'>(type: T, value: string): ProfileCondition {
  const trimmed = value.trim();
  if (trimmed === '') throw usage(`--${type}`, 'must not be empty.');
  return ID.test(trimmed)
    ? ({ type, id: Number(trimmed) } as ProfileCondition)
    : ({ type, name: trimmed } as ProfileCondition);
}

/** Whether any condition flag was given. */
export function hasConditionFlags(flags: ProfileFlags): boolean {
  return (
    [flags.form, flags.question, flags.within, flags.mailing, flags.group, flags.comment].some(
      (f) => f !== undefined,
    ) ||
    (flags.score?.length ?? 0) > 0 ||
    Boolean(flags.excludeBackfilled)
  );
}

/**
 * A profile definition from flags: every flag given is a condition, all of which must hold; the
 * question and score flags hold for one same answer. `--form 34 --question 1 --score '<3' --within 10d`
 * is the manual's "everyone of the past ten days who answered the score question of form 34 below 3".
 */
export function definitionFromFlags(name: string, flags: ProfileFlags): ProfileDefinitionInput {
  const conditions: ProfileCondition[] = [];
  if (flags.within !== undefined)
    conditions.push({ type: 'responded', withinDays: parseWithin(flags.within) });
  if (flags.form !== undefined) conditions.push(byIdOrName('form', flags.form));
  if (flags.mailing !== undefined) conditions.push(byIdOrName('mailing', flags.mailing));
  if (flags.group !== undefined) conditions.push(byIdOrName('group', flags.group));
  if (flags.excludeBackfilled) conditions.push({ type: 'backfilled', value: false });
  if (flags.question !== undefined) {
    const question = flags.question.trim();
    if (question === '') throw usage('--question', 'must not be empty.');
    const formId =
      flags.form !== undefined && ID.test(flags.form.trim()) ? Number(flags.form.trim()) : undefined;
    // An index such as 3.1 stays an index (CloseAlert's); anything else is another source's question key.
    const which = QUESTION_INDEX.test(question) ? { questionIndex: question } : { key: question };
    conditions.push({ type: 'question', ...which, ...(formId !== undefined ? { formId } : {}) });
  }
  const scores = (flags.score ?? []).map(parseScore);
  if (scores.length === 1) conditions.push(scores[0]!);
  if (scores.length > 1) conditions.push({ any: scores });
  if (flags.comment !== undefined) conditions.push({ type: 'comment', contains: flags.comment });
  if (conditions.length === 0) {
    throw new ConfigError(
      'USAGE',
      'A profile needs conditions: give --file <definition.json>, or flags such as --form, --question, --score, --within.',
      {
        hint: `Example: tributary profiles create "${name}" --workspace <ws> --form 34 --question 1 --score '<3' --within 10d`,
      },
    );
  }
  return {
    name,
    ...(flags.description !== undefined ? { description: flags.description } : {}),
    ...(flags.app !== undefined ? { app: flags.app } : {}),
    over: flags.latest ? 'latest-response' : 'any-response',
    match: conditions.length === 1 ? conditions[0]! : { all: conditions },
  };
}
