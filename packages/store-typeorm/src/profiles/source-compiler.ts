import { ANSWER_CONDITION_TYPES, InternalError, type ProfileCondition, type SourceId } from '@tributary/core';
import { databaseValue } from '../dialect.js';
import type { DialectName } from '../naming.js';
import type { Bindings } from './bindings.js';
import { column, idValue, INSTALLATION, isNumericType, questionKeyValue, type FeedbackSource } from './schema.js';
import { scoreUnion, type ScoreLeaf } from './score-ranges.js';

// One app's part of a compiled profile: its conditions as SQL over that app's feedback view. The
// statement around the parts (one per app, joined by UNION ALL) is assembled in compile.ts.

type Combinator =
  | Extract<ProfileCondition, { all: unknown }>
  | Extract<ProfileCondition, { any: unknown }>
  | Extract<ProfileCondition, { none: unknown }>;
type Leaf = Exclude<ProfileCondition, Combinator>;
type AnswerLeaf = Extract<Leaf, { type: (typeof ANSWER_CONDITION_TYPES)[number] }>;
type ResponseLeaf = Exclude<Leaf, AnswerLeaf>;
/** A predicate over an answer row, for whichever alias the answer has where it is used. */
export type AnswerFilter = (alias: string) => string;

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ANSWER_TYPES: ReadonlySet<string> = new Set(ANSWER_CONDITION_TYPES);
// A typed NULL: PostgreSQL types an untyped one in a CTE as text, which a UNION with a number refuses.
export const NO_SCORE = 'CAST(NULL AS NUMERIC)';
/** What a condition compiles to in an app that lacks the column it tests. */
const NOTHING = '1 = 0';

function isLeaf(condition: ProfileCondition): condition is Leaf {
  return 'type' in condition;
}

function isScoreLeaf(condition: ProfileCondition): condition is ScoreLeaf {
  return isLeaf(condition) && condition.type === 'score';
}

function isAnswerLeaf(condition: ProfileCondition): condition is AnswerLeaf {
  return isLeaf(condition) && ANSWER_TYPES.has(condition.type);
}

/**
 * A condition that one answer can satisfy on its own: an answer leaf, or all / any of such. `none`
 * never is: it negates at the level of the response ("no answer of the response is …").
 */
export function isAnswerLevel(condition: ProfileCondition): boolean {
  if (isLeaf(condition)) return isAnswerLeaf(condition);
  if ('all' in condition) return condition.all.every(isAnswerLevel);
  if ('any' in condition) return condition.any.every(isAnswerLevel);
  return false;
}

/** all-in-all and any-in-any merge into their parent, so that answer conditions meet in one group. */
export function flatten(kind: 'all' | 'any', children: readonly ProfileCondition[]): ProfileCondition[] {
  return children.flatMap((child) => {
    if (kind === 'all' && 'all' in child) return flatten('all', child.all);
    if (kind === 'any' && 'any' in child) return flatten('any', child.any);
    return [child];
  });
}

/**
 * Lower-cases a value the way the database's LOWER() will lower the column it is compared with:
 * SQLite's LOWER() (without ICU) only folds ASCII letters.
 */
function lowerFor(dialect: DialectName, text: string): string {
  return dialect === 'postgres'
    ? text.toLowerCase()
    : text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

const and = (parts: readonly string[]) => (parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`);

/** Values every app's part of the statement shares. */
export interface Shared {
  dialect: DialectName;
  bindings: Bindings;
  now: Date;
  /** The bound evaluation time. */
  nowToken: string;
}

/** Compiles a profile against one app's feedback view, as that app's part of the statement. */
export class SourceCompiler {
  readonly installation: string;
  /** The answer filter of the first answer group outside `none`: it picks the score a member row shows. */
  scoreFilter: AnswerFilter | undefined;

  constructor(
    readonly source: FeedbackSource,
    private readonly shared: Shared,
  ) {
    this.installation = shared.bindings.bind(source.installationId);
  }

  private get view() {
    return this.source.view;
  }

  private get bindings() {
    return this.shared.bindings;
  }

  get now(): string {
    return this.shared.nowToken;
  }

  timestamp(ms: number): string {
    return this.bindings.bind(databaseValue(this.shared.dialect, 'timestamp', new Date(ms).toISOString()));
  }

  /** A text value bound as it is, for a comparison with stored (already normalized) text. */
  text(value: string): string {
    return this.bindings.bind(value);
  }

  private bool(value: boolean): string {
    return this.bindings.bind(databaseValue(this.shared.dialect, 'boolean', value));
  }

  private lowered(text: string): string {
    return this.bindings.bind(lowerFor(this.shared.dialect, text.trim()));
  }

  private numeric(table: string, name: string | undefined): boolean {
    return name !== undefined && isNumericType(this.source.typeOf(table, name));
  }

  /** `column = id`, or nothing at all when the id cannot be a value of the column (a string id, a number column). */
  private idEquals(target: string, numeric: boolean, id: SourceId): string {
    const value = idValue(id, numeric);
    return value === undefined ? NOTHING : `${target} = ${this.bindings.bind(value)}`;
  }

  /** A response column of the alias `r`. */
  r(name: string): string {
    return column('r', name);
  }

  /** "responded …" over a timestamp column (the response's, or an answer's copy of it). */
  private responded(createdAt: string, leaf: Extract<ResponseLeaf, { type: 'responded' }>): string {
    if ('withinDays' in leaf)
      return `${createdAt} >= ${this.timestamp(this.shared.now.getTime() - leaf.withinDays * DAY_MS)}`;
    const from = DATE_ONLY.test(leaf.from) ? Date.parse(`${leaf.from}T00:00:00Z`) : Date.parse(leaf.from);
    // A date alone as the end means the whole of that day (UTC).
    const to = DATE_ONLY.test(leaf.to)
      ? `${createdAt} < ${this.timestamp(Date.parse(`${leaf.to}T00:00:00Z`) + DAY_MS)}`
      : `${createdAt} <= ${this.timestamp(Date.parse(leaf.to))}`;
    return `(${createdAt} >= ${this.timestamp(from)} AND ${to})`;
  }

  /**
   * A form, mailing or group given by id and/or by name (case-insensitive; every one of that name).
   * `target` is the column that holds the reference, `numeric` whether it holds numbers. Where the
   * ids are text (Typeform's "lT4Z3j"), a name also matches the id, so that one flag names either.
   */
  private reference(
    target: string,
    numeric: boolean,
    leaf: { id?: SourceId; name?: string },
    kind: 'forms' | 'mailings' | 'groups',
  ): string {
    const parts: string[] = [];
    if (leaf.id !== undefined) parts.push(this.idEquals(target, numeric, leaf.id));
    if (leaf.name !== undefined) {
      const names = this.view[kind];
      const table = this.source.tables[kind];
      const byName: string[] = [];
      if (names && table) {
        const f = (name: string) => column('f', name);
        byName.push(
          `${target} IN (SELECT ${f(names.id)} FROM ${table} f WHERE ${f(INSTALLATION)} = ${this.installation} AND LOWER(TRIM(${f(names.name)})) = ${this.lowered(leaf.name)})`,
        );
      }
      if (!numeric) byName.push(`${target} = ${this.bindings.bind(leaf.name.trim())}`);
      parts.push(byName.length === 0 ? NOTHING : byName.length === 1 ? byName[0]! : `(${byName.join(' OR ')})`);
    }
    return and(parts);
  }

  /** A response-level leaf as a predicate over the response row `r`. */
  private responseLeaf(leaf: ResponseLeaf): string {
    const responses = this.view.responses;
    const ref = (name: string | undefined, kind: 'forms' | 'mailings' | 'groups') =>
      name === undefined ? NOTHING : this.reference(this.r(name), this.numeric(responses.table, name), leaf as { id?: SourceId; name?: string }, kind);
    switch (leaf.type) {
      case 'responded':
        return this.responded(this.r(responses.time), leaf);
      case 'form':
        return ref(responses.form, 'forms');
      case 'mailing':
        return ref(responses.mailing, 'mailings');
      case 'group':
        return ref(responses.group, 'groups');
      case 'backfilled': {
        // A response stored before the column existed, or from a source that never backfills, counts as new feedback.
        if (responses.backfilled === undefined) return leaf.value ? NOTHING : '1 = 1';
        const b = this.r(responses.backfilled);
        return leaf.value ? `${b} = ${this.bool(true)}` : `(${b} IS NULL OR ${b} = ${this.bool(false)})`;
      }
    }
  }

  /** What a response-level leaf says about the answers of a matching response, through their copies of its columns. */
  private answerCopyOf(leaf: ProfileCondition): AnswerFilter | undefined {
    if (!isLeaf(leaf)) return undefined;
    const answers = this.view.answers;
    const copies = this.source.answerCopies;
    if (leaf.type === 'responded' && copies.createdAt && answers.time !== undefined) {
      const time = answers.time;
      return (alias) => this.responded(column(alias, time), leaf);
    }
    if (leaf.type === 'form' && copies.formId && answers.form !== undefined) {
      const form = answers.form;
      const numeric = this.numeric(answers.table, form);
      return (alias) => this.reference(column(alias, form), numeric, leaf, 'forms');
    }
    return undefined;
  }

  /** The answers of the form `formId`: through the answers' copy of the form, else through their responses. */
  private answerOnForm(alias: string, formId: SourceId): string {
    const { answers, responses } = this.view;
    if (answers.form !== undefined)
      return this.idEquals(column(alias, answers.form), this.numeric(answers.table, answers.form), formId);
    if (responses.form === undefined) return NOTHING;
    const rr = (name: string) => column('rr', name);
    return `${column(alias, answers.response)} IN (SELECT ${rr(responses.id)} FROM ${this.source.tables.responses} rr WHERE ${rr(INSTALLATION)} = ${this.installation} AND ${this.idEquals(rr(responses.form), this.numeric(responses.table, responses.form), formId)})`;
  }

  /** The answers to a question with this text: as answered, or as the question reads now (texts get reworded). */
  private questionText(alias: string, text: string): string {
    const { answers, questions } = this.view;
    const lowered = this.lowered(text);
    const parts: string[] = [];
    if (answers.questionText !== undefined) parts.push(`LOWER(TRIM(${column(alias, answers.questionText)})) = ${lowered}`);
    if (questions?.text !== undefined && this.source.tables.questions) {
      const qq = (name: string) => column('qq', name);
      const keys =
        answers.form !== undefined
          ? `(${column(alias, answers.form)}, ${column(alias, answers.question)}) IN (SELECT ${qq(questions.form)}, ${qq(questions.question)}`
          : `${column(alias, answers.question)} IN (SELECT ${qq(questions.question)}`;
      parts.push(
        `${keys} FROM ${this.source.tables.questions} qq WHERE ${qq(INSTALLATION)} = ${this.installation} AND LOWER(TRIM(${qq(questions.text)})) = ${lowered})`,
      );
    }
    if (parts.length === 0) return NOTHING;
    return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
  }

  /** An answer-level leaf as a predicate over the answer row `alias`. */
  private answerLeaf(leaf: AnswerLeaf, alias: string): string {
    const b = this.bindings;
    const answers = this.view.answers;
    switch (leaf.type) {
      case 'question': {
        const parts: string[] = [];
        if (leaf.formId !== undefined) parts.push(this.answerOnForm(alias, leaf.formId));
        const numeric = this.numeric(answers.table, answers.question);
        for (const key of [leaf.questionIndex, leaf.key]) {
          if (key === undefined) continue;
          const value = questionKeyValue(key, numeric);
          parts.push(value === undefined ? NOTHING : `${column(alias, answers.question)} = ${b.bind(value)}`);
        }
        if (leaf.text !== undefined) parts.push(this.questionText(alias, leaf.text));
        return and(parts);
      }
      case 'score': {
        if (answers.score === undefined) return NOTHING;
        const score = column(alias, answers.score);
        if (leaf.op === 'between') return `${score} BETWEEN ${b.bind(leaf.min)} AND ${b.bind(leaf.max)}`;
        if (leaf.op === 'in') return `${score} IN (${leaf.values.map((v) => b.bind(v)).join(', ')})`;
        const op = leaf.op === '!=' ? '<>' : leaf.op;
        return `${score} ${op} ${b.bind(leaf.value)}`;
      }
      case 'comment': {
        if (answers.comment === undefined) return NOTHING;
        // A substring search, not LIKE: % and _ in the text are ordinary characters.
        const needle = this.lowered(leaf.contains);
        const haystack = `LOWER(${column(alias, answers.comment)})`;
        return this.shared.dialect === 'postgres'
          ? `strpos(${haystack}, ${needle}) > 0`
          : `instr(${haystack}, ${needle}) > 0`;
      }
    }
  }

  private answerPredicate(condition: ProfileCondition, alias: string): string {
    if (isAnswerLeaf(condition)) return this.answerLeaf(condition, alias);
    if ('all' in condition)
      return `(${flatten('all', condition.all)
        .map((c) => this.answerPredicate(c, alias))
        .join(' AND ')})`;
    if ('any' in condition) {
      const children = flatten('any', condition.any);
      if (children.length > 1 && children.every(isScoreLeaf)) return this.scoreRanges(children, alias);
      return `(${children.map((c) => this.answerPredicate(c, alias)).join(' OR ')})`;
    }
    throw new InternalError('PROFILE_COMPILE_FAILED', 'A condition reached the answer-level compiler that is not an answer-level condition.');
  }

  /** Score conditions of which any one must hold, as the fewest comparisons (see scoreUnion). */
  private scoreRanges(leaves: readonly ScoreLeaf[], alias: string): string {
    const b = this.bindings;
    if (this.view.answers.score === undefined) return NOTHING;
    const score = column(alias, this.view.answers.score);
    const points: number[] = [];
    const parts: string[] = [];
    for (const range of scoreUnion(leaves)) {
      const { low, high } = range;
      if (low && high && low.value === high.value) points.push(low.value);
      else if (!low && !high) parts.push(`${score} IS NOT NULL`);
      else
        parts.push(
          and([
            ...(low ? [`${score} ${low.inclusive ? '>=' : '>'} ${b.bind(low.value)}`] : []),
            ...(high ? [`${score} ${high.inclusive ? '<=' : '<'} ${b.bind(high.value)}`] : []),
          ]),
        );
    }
    if (points.length === 1) parts.push(`${score} = ${b.bind(points[0]!)}`);
    if (points.length > 1) parts.push(`${score} IN (${points.map((v) => b.bind(v)).join(', ')})`);
    // Only crossed ranges (BETWEEN 5 AND 1) leave nothing, and those match no score.
    if (parts.length === 0) return NOTHING;
    return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
  }

  /** One answer satisfies all (`AND`) or one (`OR`) of the answer-level conditions, and the filters implied around them. */
  answerGroup(
    conditions: readonly ProfileCondition[],
    joiner: 'AND' | 'OR',
    implied: readonly AnswerFilter[],
  ): AnswerFilter {
    return (alias) => {
      const group = conditions.map((c) => this.answerPredicate(c, alias));
      const own = group.length === 1 ? group[0]! : `(${group.join(` ${joiner} `)})`;
      return and([own, ...implied.map((filter) => filter(alias))]);
    };
  }

  /** `alias` is an answer of the response `ofInstallation`/`ofResponse`. */
  answerOf(alias: string, ofInstallation: string, ofResponse: string): string {
    return `${column(alias, INSTALLATION)} = ${ofInstallation} AND ${column(alias, this.view.answers.response)} = ${ofResponse}`;
  }

  /** EXISTS an answer of the response `r` that passes `filter`. */
  private answerExists(filter: AnswerFilter, negated: boolean): string {
    if (!negated && this.scoreFilter === undefined) this.scoreFilter = filter;
    return `EXISTS (SELECT 1 FROM ${this.source.tables.answers} a WHERE ${this.answerOf('a', this.r(INSTALLATION), this.r(this.view.responses.id))} AND ${filter('a')})`;
  }

  /** Filters that an `all` adds for the answers below it: its time and form conditions, through the answers' copies. */
  impliedBy(children: readonly ProfileCondition[], implied: readonly AnswerFilter[]): AnswerFilter[] {
    return [
      ...implied,
      ...children.map((c) => this.answerCopyOf(c)).filter((f): f is AnswerFilter => f !== undefined),
    ];
  }

  /**
   * Any condition as a predicate over the response row `r`. `implied` are answer filters that hold
   * whenever the conditions around this one do (an enclosing `all`'s time and form): adding them to
   * an answer subquery changes nothing but lets the database start from the answers' index.
   */
  responsePredicate(condition: ProfileCondition, negated: boolean, implied: readonly AnswerFilter[]): string {
    if (isAnswerLevel(condition))
      return this.answerExists(this.answerGroup([condition], 'AND', implied), negated);
    if (isLeaf(condition)) return this.responseLeaf(condition as ResponseLeaf);
    if ('none' in condition) return `NOT (${this.responsePredicate({ any: condition.none }, true, implied)})`;
    const kind = 'all' in condition ? 'all' : 'any';
    const children = flatten(kind, 'all' in condition ? condition.all : condition.any);
    const below = kind === 'all' ? this.impliedBy(children, implied) : implied;
    // Answer conditions side by side hold for one same answer (all) or for any answer (any): one EXISTS.
    const answerLevel = children.filter(isAnswerLevel);
    const parts = children
      .filter((c) => !isAnswerLevel(c))
      .map((c) => this.responsePredicate(c, negated, below));
    if (answerLevel.length > 0)
      parts.push(
        this.answerExists(this.answerGroup(answerLevel, kind === 'all' ? 'AND' : 'OR', below), negated),
      );
    return parts.length === 1 ? parts[0]! : `(${parts.join(kind === 'all' ? ' AND ' : ' OR ')})`;
  }

  /** The score of a member row without a joined answer: that of its answer passing the first answer group, if any. */
  scoreSubquery(): string {
    const filter = this.scoreFilter;
    const answers = this.view.answers;
    if (filter === undefined || answers.score === undefined) return 'NULL';
    const a = (name: string) => column('a', name);
    return `(SELECT ${a(answers.score)} FROM ${this.source.tables.answers} a WHERE ${this.answerOf('a', 'm."installation_id"', 'm."response_id"')} AND ${filter('a')} AND ${a(answers.score)} IS NOT NULL ORDER BY ${a(answers.question)} LIMIT 1)`;
  }

  /**
   * The response `r` is its customer's latest: no later one in this app, nor in any other app read
   * (`others`; at the same instant, the app listed first wins).
   */
  latestOnly(others: readonly { compiler: SourceCompiler; before: boolean }[]): string {
    const { responses } = this.view;
    const l = (name: string) => column('l', name);
    const here = `NOT EXISTS (SELECT 1 FROM ${this.source.tables.responses} l WHERE ${l(INSTALLATION)} = ${this.r(INSTALLATION)} AND ${l(responses.email)} = ${this.r(responses.email)} AND ${l(responses.time)} <= ${this.now} AND (${l(responses.time)} > ${this.r(responses.time)} OR (${l(responses.time)} = ${this.r(responses.time)} AND ${l(responses.id)} > ${this.r(responses.id)})))`;
    const elsewhere = others.map(({ compiler, before }) => {
      const o = compiler.view.responses;
      return `NOT EXISTS (SELECT 1 FROM ${compiler.source.tables.responses} l WHERE ${l(INSTALLATION)} = ${compiler.installation} AND ${l(o.email)} = ${this.r(responses.email)} AND ${l(o.time)} <= ${this.now} AND ${l(o.time)} ${before ? '>=' : '>'} ${this.r(responses.time)})`;
    });
    return and([here, ...elsewhere]);
  }
}
