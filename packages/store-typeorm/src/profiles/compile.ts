import { InternalError, type CustomerTableLink, type ProfileCondition, type ProfileDefinition } from '@tributary/core';
import { databaseValue, type Statement } from '../dialect.js';
import { quoteIdentifier as q, type DialectName } from '../naming.js';
import { Bindings } from './bindings.js';
import { CONTACT_ID, column, INSTALLATION, type FeedbackSource } from './schema.js';
import { flatten, isAnswerLevel, NO_SCORE, SourceCompiler, type AnswerFilter, type Shared } from './source-compiler.js';

export type { AnswerCopies } from './schema.js';

/** What a profile is compiled against. */
export interface ProfileQueryContext {
  dialect: DialectName;
  /** The feedback apps read, one installation each, in a stable order (ties between apps go to the first). */
  sources: readonly FeedbackSource[];
  /** The instant of the evaluation: responses after it do not exist yet, and "within N days" counts back from it. */
  now: Date;
  /**
   * Rows in member order as the database reads them, for a reader that takes the first row of each
   * e-mail (see toMembers): one app's every matching response, newest first within an e-mail, with
   * no ranking that must finish before the first row. Several apps are ranked as without it.
   */
  streamed?: boolean;
  /**
   * Only e-mails after this one, in byte order (the member order): the rest of a streamed profile
   * whose first members were read already (see streamedMemberRows).
   */
  after?: string;
}

/** A row of the compiled query as the driver returns it (bigints may come as text). */
export interface MemberRow {
  email: string;
  /** The installation of the row's response. */
  installation_id: string;
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
  compiler: SourceCompiler,
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

/** One app's part of the statement: its matched responses (a CTE) and its member rows (a SELECT over it). */
function compileSource(
  definition: ProfileDefinition,
  compiler: SourceCompiler,
  others: readonly { compiler: SourceCompiler; before: boolean }[],
  names: { matched: string; customers: string },
  union: boolean,
  dialect: DialectName,
  streamed: boolean,
  after: string | undefined,
): { ctes: string[]; select: string; order: string } {
  const { view, tables } = compiler.source;
  const responses = view.responses;
  const r = (name: string) => compiler.r(name);
  const ja = (name: string) => column('ja', name);
  const where = [
    `${r(INSTALLATION)} = ${compiler.installation}`,
    `${r(responses.email)} IS NOT NULL`,
    `${r(responses.email)} <> ''`,
    // Streamed on SQLite, "not after now" is kept off the time index (unary +): a planner without
    // statistics would range over it and sort, where the member-order index needs no sort at all.
    `${streamed && dialect === 'sqlite' ? '+' : ''}${r(responses.time)} <= ${compiler.now}`,
  ];
  // Byte order, as SQLite compares: the same member order on both databases, and no locale-aware
  // comparison cost in PostgreSQL's sort.
  const bytewise = dialect === 'postgres' ? ' COLLATE "C"' : '';
  // In the member-order index's own order, so that it ranges over the e-mails left.
  if (after !== undefined) where.push(`${r(responses.email)}${bytewise} > ${compiler.text(after)}`);
  const group = rootAnswerGroup(compiler, definition.match);
  let join = '';
  let score: string;
  let order = `${r(responses.time)} DESC, ${r(responses.id)} DESC`;
  let question = 'NULL';
  if (group) {
    join = `\n    JOIN ${tables.answers} ja ON ${compiler.answerOf('ja', r(INSTALLATION), r(responses.id))} AND ${group.join('ja')}`;
    where.push(...group.rest.map((c) => compiler.responsePredicate(c, false, group.implied)));
    order += `, ${ja(view.answers.question)}`;
    question = ja(view.answers.question);
    score = view.answers.score === undefined ? NO_SCORE : ja(view.answers.score);
  } else {
    where.push(compiler.responsePredicate(definition.match, false, []));
    score = NO_SCORE;
  }
  if (definition.over === 'latest-response') where.push(compiler.latestOnly(others));
  const form = responses.form === undefined ? 'NULL' : r(responses.form);
  const contact = compiler.source.hasContactId ? r(CONTACT_ID) : 'NULL';
  // Streamed, each e-mail's matches come newest first (the member-order index's order) and the
  // reader keeps the first; otherwise the database ranks them and keeps the first itself.
  const ranking = streamed
    ? `${question} AS "question"`
    : `ROW_NUMBER() OVER (PARTITION BY ${r(responses.email)}${bytewise} ORDER BY ${order}) AS "recency"`;
  const ctes = [
    `${q(names.matched)} AS (
  SELECT ${r(INSTALLATION)} AS "installation_id", ${r(responses.email)} AS "email", ${r(responses.id)} AS "response_id", ${r(responses.time)} AS "created_at", ${form} AS "form_id", ${contact} AS "contact_id", ${score} AS "score",
         ${ranking}
    FROM ${tables.responses} r${join}
   WHERE ${where.join('\n     AND ')}
)`,
  ];
  let customerSelect = 'NULL';
  let customerJoin = '';
  const link = compiler.source.customerTable;
  if (link) {
    const email = `LOWER(TRIM(CAST(u.${q(link.emailColumn)} AS TEXT)))`;
    // One pass over the user's table (read only); a customer listed twice under one e-mail gets the smallest id.
    ctes.push(`${q(names.customers)} AS (
  SELECT ${email} AS "email", MIN(CAST(u.${q(link.idColumn)} AS TEXT)) AS "id"
    FROM ${customerTableSql(link)} u
   WHERE u.${q(link.emailColumn)} IS NOT NULL
   GROUP BY ${email}
)`);
    customerSelect = 'cu."id"';
    customerJoin = `\n  LEFT JOIN ${q(names.customers)} cu ON cu."email" = m."email"`;
  }
  const memberScore = group ? 'm."score"' : compiler.scoreSubquery();
  // The contact id comes with the response; one written without it (by a Tributary from before the
  // column, still running during an upgrade) is looked up, and only then.
  const c = (name: string) => column('c', name);
  const lookup = `(SELECT ${c(CONTACT_ID)} FROM ${tables.contacts} c WHERE ${c(INSTALLATION)} = m."installation_id" AND ${c('email_normalized')} = m."email")`;
  const contactId = compiler.source.hasContactId ? `COALESCE(m."contact_id", ${lookup})` : lookup;
  const respondedAt =
    dialect === 'postgres' ? 'FLOOR(EXTRACT(EPOCH FROM m."created_at") * 1000)' : 'm."created_at"';
  // Apps may key responses and forms by numbers or by text: one column type for all of them.
  const asText = (expr: string) => (union ? `CAST(${expr} AS TEXT)` : expr);
  const select = `SELECT m."email" AS "email", m."installation_id" AS "installation_id", ${asText('m."response_id"')} AS "response_id", ${respondedAt} AS "responded_at", ${asText('m."form_id"')} AS "form_id",
       ${contactId} AS "contact_id", ${customerSelect} AS "customer_id", ${memberScore} AS "score"
  FROM ${q(names.matched)} m${customerJoin}${streamed ? '' : '\n WHERE m."recency" = 1'}`;
  const within = streamed ? `, m."created_at" DESC, m."response_id" DESC${group ? ', m."question"' : ''}` : '';
  return { ctes, select, order: `m."email"${bytewise}${within}` };
}

/**
 * Compiles a profile into one statement that returns, for each app read, one row per customer (by
 * normalized e-mail) with that customer's most recent matching response there ({@link MemberRow}),
 * ordered by e-mail. Over several apps it is a UNION ALL of one part per app, each with that app's
 * own indexes; a customer who matched in two apps has two rows, which the caller makes one member.
 * Every value is a bound parameter; every identifier comes from the apps' validated feedback views
 * (schema.ts) or from the validated link to the user's customers table.
 */
export function compileProfile(definition: ProfileDefinition, context: ProfileQueryContext): Statement {
  if (context.sources.length === 0)
    throw new InternalError('PROFILE_COMPILE_FAILED', 'A profile was compiled without a feedback app to read.');
  const bindings = new Bindings();
  const shared: Shared = {
    dialect: context.dialect,
    bindings,
    now: context.now,
    nowToken: bindings.bind(databaseValue(context.dialect, 'timestamp', context.now.toISOString())),
  };
  const compilers = context.sources.map((source) => new SourceCompiler(source, shared));
  const union = compilers.length > 1;
  const streamed = context.streamed === true && !union;
  const parts = compilers.map((compiler, i) =>
    compileSource(
      definition,
      compiler,
      compilers.flatMap((other, j) => (j === i ? [] : [{ compiler: other, before: j < i }])),
      union
        ? { matched: `tributary_profile_matched_${i}`, customers: `tributary_profile_customers_${i}` }
        : { matched: 'tributary_profile_matched', customers: 'tributary_profile_customers' },
      union,
      context.dialect,
      streamed,
      context.after,
    ),
  );
  const bytewise = context.dialect === 'postgres' ? ' COLLATE "C"' : '';
  const ctes = parts.flatMap((p) => p.ctes).join(',\n');
  const sql = union
    ? `WITH ${ctes}
SELECT * FROM (
${parts.map((p) => p.select).join('\nUNION ALL\n')}
) u
 ORDER BY u."email"${bytewise}`
    : `WITH ${ctes}
${parts[0]!.select}
 ORDER BY ${parts[0]!.order}`;
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
