import type { Statement } from '../dialect.js';
import type { DialectName } from '../naming.js';

// A page of a profile's members in SQL: the compiled profile (compile.ts) wrapped in a keyset on
// the e-mail, a literal "contains" filter and a limit on distinct e-mails, with its total from a
// COUNT, so that no caller holds the whole profile to show fifty of its members.

/** What page of members to read. */
export interface MemberPage {
  /** Only e-mails after this one (the last of the previous page). */
  after?: string;
  /** Only e-mails containing this text (literal, already lower-case as stored e-mails are). */
  contains?: string;
  limit: number;
}

/** `compiled` with more values bound after its own ones: `bind` returns each value's placeholder. */
function extend(dialect: DialectName, compiled: Statement, build: (bind: (value: unknown) => string) => string): Statement {
  const params = [...compiled.params];
  const bind = (value: unknown) => {
    params.push(value);
    return dialect === 'postgres' ? `$${params.length}` : '?';
  };
  return { sql: build(bind), params };
}

function containsFilter(dialect: DialectName, bind: (value: unknown) => string, contains: string | undefined): string[] {
  if (!contains) return [];
  // A position, not LIKE: `%` and `_` in what a user types are plain characters.
  return [dialect === 'postgres' ? `STRPOS(p."email", ${bind(contains)}) > 0` : `INSTR(p."email", ${bind(contains)}) > 0`];
}

/**
 * The member rows of one page plus the first e-mail after it (whose rows say there is a next page):
 * every row of the first `limit + 1` e-mails after `after`, in e-mail order.
 */
export function memberPageStatement(dialect: DialectName, compiled: Statement, page: MemberPage): Statement {
  const bytewise = dialect === 'postgres' ? ' COLLATE "C"' : '';
  return extend(dialect, compiled, (bind) => {
    const where = [
      ...(page.after === undefined ? [] : [`p."email"${bytewise} > ${bind(page.after)}`]),
      ...containsFilter(dialect, bind, page.contains),
    ];
    return `SELECT r."email", r."installation_id", r."response_id", r."responded_at", r."form_id", r."contact_id", r."customer_id", r."score"
  FROM (SELECT p.*, DENSE_RANK() OVER (ORDER BY p."email"${bytewise}) AS "tributary_page_rank"
          FROM (${compiled.sql}) p${where.length > 0 ? `\n         WHERE ${where.join(' AND ')}` : ''}) r
 WHERE r."tributary_page_rank" <= ${bind(page.limit + 1)}
 ORDER BY r."email"${bytewise}`;
  });
}

/** How many members contain `contains` (all of them without it). */
export function memberCountStatement(dialect: DialectName, compiled: Statement, contains: string | undefined): Statement {
  return extend(dialect, compiled, (bind) => {
    const where = containsFilter(dialect, bind, contains);
    return `SELECT COUNT(DISTINCT p."email") AS "total" FROM (${compiled.sql}) p${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
  });
}

/**
 * The rows of the first `limit` members, each with the count of all members (`tributary_total`):
 * one evaluation of the profile, of which only the first members leave the database.
 */
export function firstMembersStatement(dialect: DialectName, compiled: Statement, limit: number): Statement {
  const bytewise = dialect === 'postgres' ? ' COLLATE "C"' : '';
  return extend(dialect, compiled, (bind) => `SELECT r."email", r."installation_id", r."response_id", r."responded_at", r."form_id", r."contact_id", r."customer_id", r."score", r."tributary_total"
  FROM (SELECT q.*, MAX(q."tributary_page_rank") OVER () AS "tributary_total"
          FROM (SELECT p.*, DENSE_RANK() OVER (ORDER BY p."email"${bytewise}) AS "tributary_page_rank" FROM (${compiled.sql}) p) q) r
 WHERE r."tributary_page_rank" <= ${bind(limit)}
 ORDER BY r."email"${bytewise}`);
}
