import {
  ANSWER_CONDITION_TYPES,
  InternalError,
  type CustomerTableLink,
  type ProfileCondition,
  type ProfileDefinition,
} from '@tributary/core';
import { databaseValue, type Statement } from '../dialect.js';
import { quoteIdentifier as q, type DialectName, type TableNaming } from '../naming.js';
import { Bindings } from './bindings.js';
import { column, profileTables, type ProfileColumn, type ProfileTables } from './schema.js';
import { scoreUnion, type ScoreLeaf } from './score-ranges.js';

/** Which response columns every answer row repeats, as the installation's mappings fill them. */
export interface AnswerCopies {
  /** `answers.created_at` is the response's `created_at`. */
  createdAt: boolean;
  /** `answers.form_id` is the response's `form_id`. */
  formId: boolean;
}

/** What a profile is compiled against. */
export interface ProfileQueryContext {
  dialect: DialectName;
  naming: TableNaming;
  /** The installation whose rows are read. */
  installationId: string;
  /** The instant of the evaluation: responses after it do not exist yet, and "within N days" counts back from it. */
  now: Date;
  /** The user's own customers table, when the installation links one. */
  customerTable?: CustomerTableLink;
  /**
   * Response columns the answers repeat. Time and form conditions then narrow the answers too, so
   * that the database can start from the answers' index; without copies they test the response only.
   */
  answerCopies?: AnswerCopies;
}

/** A row of the compiled query as the driver returns it (bigints may come as text). */
export interface MemberRow {
  email: string;
  response_id: string | number | bigint;
  /**
   * When the member responded: milliseconds since the epoch (as text) on PostgreSQL, whose driver
   * would otherwise parse a timestamp per member, at a cost a large profile notices; ISO-8601 text on SQLite.
   */
  responded_at: string | number;
  form_id: string | number | bigint | null;
  contact_id: string | null;
  customer_id: string | number | null;
  score: string | number | null;
}

type Combinator =
  | Extract<ProfileCondition, { all: unknown }>
  | Extract<ProfileCondition, { any: unknown }>
  | Extract<ProfileCondition, { none: unknown }>;
type Leaf = Exclude<ProfileCondition, Combinator>;
type AnswerLeaf = Extract<Leaf, { type: (typeof ANSWER_CONDITION_TYPES)[number] }>;
type ResponseLeaf = Exclude<Leaf, AnswerLeaf>;
/** A predicate over an answer row, for whichever alias the answer has where it is used. */
type AnswerFilter = (alias: string) => string;

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ANSWER_TYPES: ReadonlySet<string> = new Set(ANSWER_CONDITION_TYPES);

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
function isAnswerLevel(condition: ProfileCondition): boolean {
  if (isLeaf(condition)) return isAnswerLeaf(condition);
  if ('all' in condition) return condition.all.every(isAnswerLevel);
  if ('any' in condition) return condition.any.every(isAnswerLevel);
  return false;
}

/** all-in-all and any-in-any merge into their parent, so that answer conditions meet in one group. */
function flatten(kind: 'all' | 'any', children: readonly ProfileCondition[]): ProfileCondition[] {
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

class ProfileCompiler {
  readonly tables: ProfileTables;
  readonly installation: string;
  readonly now: string;
  private readonly copies: AnswerCopies;
  /** The answer filter of the first answer group outside `none`: it picks the score a member row shows. */
  scoreFilter: AnswerFilter | undefined;

  constructor(
    private readonly context: ProfileQueryContext,
    private readonly bindings: Bindings,
  ) {
    this.tables = profileTables(context.naming);
    this.installation = bindings.bind(context.installationId);
    this.now = this.timestamp(context.now.getTime());
    this.copies = context.answerCopies ?? { createdAt: false, formId: false };
  }

  private timestamp(ms: number): string {
    return this.bindings.bind(databaseValue(this.context.dialect, 'timestamp', new Date(ms).toISOString()));
  }

  private bool(value: boolean): string {
    return this.bindings.bind(databaseValue(this.context.dialect, 'boolean', value));
  }

  private lowered(text: string): string {
    return this.bindings.bind(lowerFor(this.context.dialect, text.trim()));
  }

  /** "responded …" over a timestamp column (the response's, or an answer's copy of it). */
  private responded(createdAt: string, leaf: Extract<ResponseLeaf, { type: 'responded' }>): string {
    if ('withinDays' in leaf)
      return `${createdAt} >= ${this.timestamp(this.context.now.getTime() - leaf.withinDays * DAY_MS)}`;
    const from = DATE_ONLY.test(leaf.from) ? Date.parse(`${leaf.from}T00:00:00Z`) : Date.parse(leaf.from);
    // A date alone as the end means the whole of that day (UTC).
    const to = DATE_ONLY.test(leaf.to)
      ? `${createdAt} < ${this.timestamp(Date.parse(`${leaf.to}T00:00:00Z`) + DAY_MS)}`
      : `${createdAt} <= ${this.timestamp(Date.parse(leaf.to))}`;
    return `(${createdAt} >= ${this.timestamp(from)} AND ${to})`;
  }

  /** A form, mailing or group given by id and/or by name (case-insensitive; every one of that name). */
  private reference(
    target: string,
    leaf: { id?: number; name?: string },
    table: 'forms' | 'mailings' | 'groups',
  ): string {
    const parts: string[] = [];
    if (leaf.id !== undefined) parts.push(`${target} = ${this.bindings.bind(leaf.id)}`);
    if (leaf.name !== undefined) {
      const idColumn =
        table === 'forms'
          ? column('f', table, 'form_id')
          : table === 'mailings'
            ? column('f', table, 'mailing_id')
            : column('f', table, 'group_id');
      parts.push(
        `${target} IN (SELECT ${idColumn} FROM ${this.tables[table]} f WHERE ${column('f', table, 'installation_id')} = ${this.installation} AND LOWER(TRIM(${column('f', table, 'name')})) = ${this.lowered(leaf.name)})`,
      );
    }
    return and(parts);
  }

  /** A response-level leaf as a predicate over the response row `r`. */
  private responseLeaf(leaf: ResponseLeaf): string {
    const r = (name: ProfileColumn<'form_responses'>) => column('r', 'form_responses', name);
    switch (leaf.type) {
      case 'responded':
        return this.responded(r('created_at'), leaf);
      case 'form':
        return this.reference(r('form_id'), leaf, 'forms');
      case 'mailing':
        return this.reference(r('mailing_id'), leaf, 'mailings');
      case 'group':
        return this.reference(r('group_id'), leaf, 'groups');
      case 'backfilled':
        // A response stored before the column existed counts as new feedback.
        return leaf.value
          ? `${r('backfilled')} = ${this.bool(true)}`
          : `(${r('backfilled')} IS NULL OR ${r('backfilled')} = ${this.bool(false)})`;
    }
  }

  /** What a response-level leaf says about the answers of a matching response, through their copies of its columns. */
  private answerCopyOf(leaf: ProfileCondition): AnswerFilter | undefined {
    if (!isLeaf(leaf)) return undefined;
    if (leaf.type === 'responded' && this.copies.createdAt)
      return (alias) => this.responded(column(alias, 'answers', 'created_at'), leaf);
    if (leaf.type === 'form' && this.copies.formId)
      return (alias) => this.reference(column(alias, 'answers', 'form_id'), leaf, 'forms');
    return undefined;
  }

  /** An answer-level leaf as a predicate over the answer row `alias`. */
  private answerLeaf(leaf: AnswerLeaf, alias: string): string {
    const b = this.bindings;
    const a = (name: ProfileColumn<'answers'>) => column(alias, 'answers', name);
    switch (leaf.type) {
      case 'question': {
        const parts: string[] = [];
        if (leaf.formId !== undefined) parts.push(`${a('form_id')} = ${b.bind(leaf.formId)}`);
        if (leaf.questionIndex !== undefined)
          parts.push(`${a('question_index')} = ${b.bind(leaf.questionIndex)}`);
        if (leaf.text !== undefined) {
          // The text as it was when answered, or the question's current text (texts get reworded).
          const text = this.lowered(leaf.text);
          const qq = (name: ProfileColumn<'questions'>) => column('qq', 'questions', name);
          parts.push(
            `(LOWER(TRIM(${a('question')})) = ${text} OR (${a('form_id')}, ${a('question_index')}) IN (SELECT ${qq('form_id')}, ${qq('question_index')} FROM ${this.tables.questions} qq WHERE ${qq('installation_id')} = ${this.installation} AND LOWER(TRIM(${qq('question')})) = ${text}))`,
          );
        }
        return and(parts);
      }
      case 'score': {
        const score = a('score');
        if (leaf.op === 'between') return `${score} BETWEEN ${b.bind(leaf.min)} AND ${b.bind(leaf.max)}`;
        if (leaf.op === 'in') return `${score} IN (${leaf.values.map((v) => b.bind(v)).join(', ')})`;
        const op = leaf.op === '!=' ? '<>' : leaf.op;
        return `${score} ${op} ${b.bind(leaf.value)}`;
      }
      case 'comment': {
        // A substring search, not LIKE: % and _ in the text are ordinary characters.
        const needle = this.lowered(leaf.contains);
        const haystack = `LOWER(${a('value_text')})`;
        return this.context.dialect === 'postgres'
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
    const score = column(alias, 'answers', 'score');
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
    if (parts.length === 0) return '1 = 0';
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

  /** EXISTS an answer of the response `r` that passes `filter`. */
  private answerExists(filter: AnswerFilter, negated: boolean): string {
    if (!negated && this.scoreFilter === undefined) this.scoreFilter = filter;
    const a = (name: ProfileColumn<'answers'>) => column('a', 'answers', name);
    return `EXISTS (SELECT 1 FROM ${this.tables.answers} a WHERE ${a('installation_id')} = ${column('r', 'form_responses', 'installation_id')} AND ${a('response_id')} = ${column('r', 'form_responses', 'response_id')} AND ${filter('a')})`;
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
    if (filter === undefined) return 'NULL';
    const a = (name: ProfileColumn<'answers'>) => column('a', 'answers', name);
    return `(SELECT ${a('score')} FROM ${this.tables.answers} a WHERE ${a('installation_id')} = m."installation_id" AND ${a('response_id')} = m."response_id" AND ${filter('a')} AND ${a('score')} IS NOT NULL ORDER BY ${a('question_index')} LIMIT 1)`;
  }

  latestOnly(): string {
    const r = (name: ProfileColumn<'form_responses'>) => column('r', 'form_responses', name);
    const l = (name: ProfileColumn<'form_responses'>) => column('l', 'form_responses', name);
    return `NOT EXISTS (SELECT 1 FROM ${this.tables.form_responses} l WHERE ${l('installation_id')} = ${r('installation_id')} AND ${l('email_normalized')} = ${r('email_normalized')} AND ${l('created_at')} <= ${this.now} AND (${l('created_at')} > ${r('created_at')} OR (${l('created_at')} = ${r('created_at')} AND ${l('response_id')} > ${r('response_id')})))`;
  }
}

/** `"schema"."table"` of a validated customer-table link, quoted part by part. */
function customerTableSql(link: CustomerTableLink): string {
  return link.table
    .split('.')
    .map((part) => q(part))
    .join('.');
}

/**
 * The answers a member's response is joined with, when the whole profile requires an answer group
 * (its root is one, or an `all` holding one): the join both filters and brings the score along.
 */
function rootAnswerGroup(
  compiler: ProfileCompiler,
  match: ProfileCondition,
): { join: AnswerFilter; rest: ProfileCondition[]; implied: AnswerFilter[] } | undefined {
  // "Not after now" is left to the response: it selects nearly every answer, and would only tempt
  // the planner into the answers' time index.
  const root: AnswerFilter[] = [];
  if (isAnswerLevel(match))
    return { join: compiler.answerGroup([match], 'AND', root), rest: [], implied: root };
  if (!('all' in match)) return undefined;
  const children = flatten('all', match.all);
  const answerLevel = children.filter(isAnswerLevel);
  if (answerLevel.length === 0) return undefined;
  const implied = compiler.impliedBy(children, root);
  return {
    join: compiler.answerGroup(answerLevel, 'AND', implied),
    rest: children.filter((c) => !isAnswerLevel(c)),
    implied,
  };
}

/**
 * Compiles a profile into one statement that returns one row per member ({@link MemberRow}):
 * each customer (by normalized e-mail) with the most recent matching response, ordered by e-mail.
 * Every value is a bound parameter; every identifier comes from the fixed list in schema.ts or from
 * the validated link to the user's customers table.
 */
export function compileProfile(definition: ProfileDefinition, context: ProfileQueryContext): Statement {
  const bindings = new Bindings();
  const compiler = new ProfileCompiler(context, bindings);
  const t = compiler.tables;
  const r = (name: ProfileColumn<'form_responses'>) => column('r', 'form_responses', name);
  const ja = (name: ProfileColumn<'answers'>) => column('ja', 'answers', name);
  const where = [
    `${r('installation_id')} = ${compiler.installation}`,
    `${r('email_normalized')} IS NOT NULL`,
    `${r('email_normalized')} <> ''`,
    `${r('created_at')} <= ${compiler.now}`,
  ];
  const group = rootAnswerGroup(compiler, definition.match);
  let join = '';
  let score: string;
  let order = `${r('created_at')} DESC, ${r('response_id')} DESC`;
  if (group) {
    join = `\n    JOIN ${t.answers} ja ON ${ja('installation_id')} = ${r('installation_id')} AND ${ja('response_id')} = ${r('response_id')} AND ${group.join('ja')}`;
    where.push(...group.rest.map((c) => compiler.responsePredicate(c, false, group.implied)));
    order += `, ${ja('question_index')}`;
    score = `${ja('score')}`;
  } else {
    where.push(compiler.responsePredicate(definition.match, false, []));
    score = 'NULL';
  }
  if (definition.over === 'latest-response') where.push(compiler.latestOnly());
  // Byte order, as SQLite compares: the same member order on both databases, and no locale-aware
  // comparison cost in PostgreSQL's sort.
  const bytewise = context.dialect === 'postgres' ? ' COLLATE "C"' : '';
  const ctes = [
    `"tributary_profile_matched" AS (
  SELECT ${r('installation_id')}, ${r('email_normalized')}, ${r('response_id')}, ${r('created_at')}, ${r('form_id')}, ${r('contact_id')}, ${score} AS "score",
         ROW_NUMBER() OVER (PARTITION BY ${r('email_normalized')}${bytewise} ORDER BY ${order}) AS "recency"
    FROM ${t.form_responses} r${join}
   WHERE ${where.join('\n     AND ')}
)`,
  ];
  let customerSelect = 'NULL';
  let customerJoin = '';
  if (context.customerTable) {
    const link = context.customerTable;
    const email = `LOWER(TRIM(CAST(u.${q(link.emailColumn)} AS TEXT)))`;
    // One pass over the user's table (read only); a customer listed twice under one e-mail gets the smallest id.
    ctes.push(`"tributary_profile_customers" AS (
  SELECT ${email} AS "email", MIN(CAST(u.${q(link.idColumn)} AS TEXT)) AS "id"
    FROM ${customerTableSql(link)} u
   WHERE u.${q(link.emailColumn)} IS NOT NULL
   GROUP BY ${email}
)`);
    customerSelect = 'cu."id"';
    customerJoin = `\n  LEFT JOIN "tributary_profile_customers" cu ON cu."email" = m."email_normalized"`;
  }
  const memberScore = group ? 'm."score"' : compiler.scoreSubquery();
  // The contact id comes with the response; one written without it (by a Tributary from before the
  // column, still running during an upgrade) is looked up, and only then.
  const c = (name: ProfileColumn<'contacts'>) => column('c', 'contacts', name);
  const contactId = `COALESCE(m."contact_id", (SELECT ${c('contact_id')} FROM ${t.contacts} c WHERE ${c('installation_id')} = m."installation_id" AND ${c('email_normalized')} = m."email_normalized"))`;
  const respondedAt =
    context.dialect === 'postgres' ? 'FLOOR(EXTRACT(EPOCH FROM m."created_at") * 1000)' : 'm."created_at"';
  const sql = `WITH ${ctes.join(',\n')}
SELECT m."email_normalized" AS "email", m."response_id" AS "response_id", ${respondedAt} AS "responded_at", m."form_id" AS "form_id",
       ${contactId} AS "contact_id", ${customerSelect} AS "customer_id", ${memberScore} AS "score"
  FROM "tributary_profile_matched" m${customerJoin}
 WHERE m."recency" = 1
 ORDER BY m."email_normalized"${bytewise}`;
  return bindings.statement(context.dialect, sql);
}

/** The statement that shows how the database runs `statement` (PostgreSQL: EXPLAIN, optionally ANALYZE; SQLite: EXPLAIN QUERY PLAN). */
export function explainStatement(dialect: DialectName, statement: Statement, analyze = false): Statement {
  const prefix =
    dialect === 'postgres'
      ? analyze
        ? 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) '
        : 'EXPLAIN (COSTS OFF) '
      : 'EXPLAIN QUERY PLAN ';
  return { sql: prefix + statement.sql, params: statement.params };
}
