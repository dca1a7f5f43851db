import { describe, expect, it } from 'vitest';
import { dataModelSchema, profileDefinitionSchema, type CustomerTableLink, type ProfileCondition } from '@tributary/core';
import { closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import type { DialectName, TableNaming } from '../naming.js';
import { answerCopiesOf } from './answer-copies.js';
import { compileProfile } from './compile.js';
import { feedbackSourceOf, type FeedbackSource } from './schema.js';

const INSTALLATION = '6f1c2a8e-3b9d-4c1e-9f00-1234567890ab';
const NOW = new Date('2024-06-20T12:00:00.000Z');
const naming = (dialect: DialectName): TableNaming => ({
  dialect,
  schema: 'tributary',
  tablePrefix: 'tributary_',
});

const MODEL = dataModelSchema.parse(closeAlertDataModel);
const VIEW = MODEL.feedback!;

/** The CloseAlert app's feedback source, with its default mappings (answers copy time and form) or others. */
function source(
  dialect: DialectName,
  options: { mappings?: unknown; customerTable?: CustomerTableLink } = {},
): FeedbackSource {
  return feedbackSourceOf(naming(dialect), {
    id: INSTALLATION,
    app: 'closealert',
    dataModel: MODEL,
    mappings: options.mappings ?? closeAlertDefaultMappings,
    customerTable: options.customerTable,
  })!;
}

const HOSTILE = `x'); DROP TABLE "tributary"."runs"; -- %_\\`;
const everything: ProfileCondition = {
  all: [
    { type: 'responded', withinDays: 10 },
    {
      any: [
        { type: 'form', id: 34 },
        { type: 'form', name: HOSTILE },
      ],
    },
    { type: 'mailing', name: HOSTILE },
    { type: 'group', id: 44 },
    { type: 'question', formId: 34, questionIndex: '1', text: HOSTILE },
    { type: 'score', op: 'in', values: [1, 2] },
    {
      none: [
        { type: 'comment', contains: HOSTILE },
        { type: 'backfilled', value: true },
      ],
    },
    {
      any: [
        { type: 'responded', from: '2024-01-01', to: '2024-06-01' },
        { type: 'score', op: 'between', min: 1, max: 3 },
      ],
    },
  ],
};

// Every name the compiler may write: the fixed tables, columns and aliases of schema.ts and compile.ts.
const ALLOWED_IDENTIFIERS = new Set([
  'tributary',
  'tributary_closealert_form_responses',
  'tributary_closealert_answers',
  'tributary_closealert_forms',
  'tributary_closealert_mailings',
  'tributary_closealert_groups',
  'tributary_closealert_questions',
  'closealert_form_responses',
  'closealert_answers',
  'closealert_forms',
  'closealert_mailings',
  'closealert_groups',
  'closealert_questions',
  'tributary_closealert_contacts',
  'closealert_contacts',
  'installation_id',
  'response_id',
  'created_at',
  'email_normalized',
  'form_id',
  'mailing_id',
  'group_id',
  'backfilled',
  'question_index',
  'question',
  'value_text',
  'score',
  'name',
  'contact_id',
  'tributary_profile_matched',
  'recency',
  'installation_id',
  'email',
  'responded_at',
  'customer_id',
  'C', // COLLATE "C" on PostgreSQL
]);

describe.each(['postgres', 'sqlite'] as const)('compileProfile on %s', (dialect) => {
  const compile = (match: ProfileCondition, over: 'any-response' | 'latest-response' = 'any-response') =>
    compileProfile(profileDefinitionSchema.parse({ name: 'p', match, over }), {
      dialect,
      sources: [source(dialect)],
      now: NOW,
    });

  it('binds every value as a parameter and never writes one into the text', () => {
    const { sql, params } = compile(everything, 'latest-response');
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain(INSTALLATION);
    expect(sql).not.toContain('2024-');
    expect(sql.replaceAll("''", '')).not.toContain("'"); // no literal but the empty string
    expect(params).toContain(INSTALLATION);
    expect(params).toContain(HOSTILE.trim().toLowerCase());
    expect(params).toContain(34);
  });

  it('binds the e-mail a streamed profile reads on after, compared in byte order', () => {
    const definition = profileDefinitionSchema.parse({ name: 'p', match: everything });
    const { sql, params } = compileProfile(definition, { dialect, sources: [source(dialect)], now: NOW, after: HOSTILE });
    expect(sql).not.toContain('DROP');
    expect(params).toContain(HOSTILE);
    const placeholder = dialect === 'postgres' ? `\\$${params.indexOf(HOSTILE) + 1}` : '\\?';
    const collate = dialect === 'postgres' ? ' COLLATE "C"' : '';
    expect(sql).toMatch(new RegExp(`r\\."email_normalized"${collate} > ${placeholder}`));
    expect(compile(everything).sql).not.toMatch(/"email_normalized"( COLLATE "C")? > /);
  });

  it('numbers its placeholders without gaps', () => {
    const { sql, params } = compile(everything);
    if (dialect === 'postgres') {
      const used = new Set([...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
      expect([...used].sort((a, b) => a - b)).toEqual(params.map((_, i) => i + 1));
      expect(sql).not.toContain('?');
    } else {
      expect(sql.split('?').length - 1).toBe(params.length);
      expect(sql).not.toMatch(/\$\d/);
    }
  });

  it('checks the manual\'s "1, or below 3" as one comparison, which an index can hold', () => {
    const { sql, params } = compile({
      all: [
        { type: 'question', formId: 34, questionIndex: '1' },
        {
          any: [
            { type: 'score', op: '=', value: 1 },
            { type: 'score', op: '<', value: 3 },
          ],
        },
      ],
    });
    expect(sql).toMatch(/ja\."score" < (\$\d+|\?)/);
    expect(sql).not.toMatch(/"score" = /);
    expect(params).not.toContain(1);
    expect(params).toContain(3);
  });

  it('names only tables and columns of its fixed list', () => {
    const { sql } = compile(everything, 'latest-response');
    const quoted = [...sql.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    expect(quoted.filter((name) => !ALLOWED_IDENTIFIERS.has(name))).toEqual([]);
  });

  it('quotes the parts of a linked customers table', () => {
    const { sql } = compileProfile(
      profileDefinitionSchema.parse({ name: 'p', match: { type: 'score', op: '=', value: 5 } }),
      {
        dialect,
        now: NOW,
        sources: [
          source(dialect, {
            customerTable: {
              table: dialect === 'postgres' ? 'crm.Customers' : 'Customers',
              emailColumn: 'Email',
              idColumn: 'Id',
            },
          }),
        ],
      },
    );
    expect(sql).toContain(dialect === 'postgres' ? '"crm"."Customers" u' : '"Customers" u');
    expect(sql).toContain('u."Email"');
  });

  it('narrows answers by the time and form around them only when the answers copy those columns', () => {
    const match: ProfileCondition = {
      all: [
        { type: 'responded', withinDays: 10 },
        { type: 'form', id: 34 },
        { type: 'score', op: '<', value: 3 },
      ],
    };
    expect(compile(match).sql).toMatch(/ja\."created_at" >= /);
    expect(compile(match).sql).toMatch(/ja\."form_id" = /);
    const plain = compileProfile(profileDefinitionSchema.parse({ name: 'p', match }), {
      dialect,
      sources: [source(dialect, { mappings: [] })],
      now: NOW,
    });
    expect(plain.sql).not.toMatch(/ja\."created_at"/);
    expect(plain.sql).not.toMatch(/ja\."form_id"/);
  });
});

describe('answerCopiesOf', () => {
  const map = (source: string, table: string, column: string, transform: string, enabled = true) => ({
    source,
    target: { table, column },
    transform,
    enabled,
  });
  const defaults = [
    map('created_at', 'form_responses', 'created_at', 'timestamp'),
    map('$record.created_at', 'answers', 'created_at', 'timestamp'),
    map('form.id', 'form_responses', 'form_id', 'integer'),
    map('$record.form.id', 'answers', 'form_id', 'integer'),
  ];

  it('sees the copies the default mappings make', () => {
    expect(answerCopiesOf(defaults, VIEW)).toEqual({ createdAt: true, formId: true });
    expect(answerCopiesOf(JSON.stringify(defaults), VIEW)).toEqual({ createdAt: true, formId: true });
  });

  it('drops a copy that is switched off, remapped or transformed differently', () => {
    expect(
      answerCopiesOf([defaults[0], { ...defaults[1], enabled: false }, defaults[2], defaults[3]], VIEW),
    ).toEqual({ createdAt: false, formId: true });
    expect(
      answerCopiesOf([
        defaults[0],
        defaults[1],
        defaults[2],
        map('$record.mailing.id', 'answers', 'form_id', 'integer'),
      ], VIEW),
    ).toEqual({ createdAt: true, formId: false });
    expect(
      answerCopiesOf([
        defaults[0],
        map('$record.created_at', 'answers', 'created_at', 'string'),
        defaults[2],
        defaults[3],
      ], VIEW),
    ).toEqual({ createdAt: false, formId: true });
    expect(answerCopiesOf(null, VIEW)).toEqual({ createdAt: false, formId: false });
    expect(answerCopiesOf('not json', VIEW)).toEqual({ createdAt: false, formId: false });
  });
});
