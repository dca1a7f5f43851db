import { describe, expect, it } from 'vitest';
import { dataModelSchema } from '@tributary/core';
import { closeAlertDataModel } from '@tributary/connector-closealert';
import { containsPattern, mentions, personTablesOf } from './person-tables.js';

const naming = { naming: { dialect: 'sqlite' as const, schema: '', tablePrefix: 'tributary_' } };

describe('personTablesOf', () => {
  it('finds CloseAlert answers through the feedback view and leaves reference tables alone', () => {
    const tables = personTablesOf(naming, 'closealert', dataModelSchema.parse(closeAlertDataModel));
    expect(tables.primary.name).toBe('form_responses');
    expect(tables.email).toBe('email_normalized');
    expect(tables.time).toBe('created_at');
    expect(tables.linked.map((l) => [l.name, l.links])).toEqual([['answers', [['response_id', 'response_id']]]]);
  });

  it('links any table that carries the primary key of a connector without a feedback view, and has no time to age by', () => {
    const model = dataModelSchema.parse({
      primaryTable: 'tickets',
      customerEmailColumn: 'requester',
      tables: [
        { name: 'tickets', rowsFrom: { kind: 'record' }, key: ['site', 'ticket'], onConflict: 'ignore', columns: [{ name: 'site', type: 'text', nullable: false }, { name: 'ticket', type: 'bigint', nullable: false }, { name: 'requester', type: 'text' }] },
        { name: 'replies', rowsFrom: { kind: 'each', path: 'replies' }, key: ['site', 'ticket', 'n'], onConflict: 'ignore', columns: [{ name: 'site', type: 'text', nullable: false }, { name: 'ticket', type: 'bigint', nullable: false }, { name: 'n', type: 'integer', nullable: false }, { name: 'body', type: 'text' }] },
        { name: 'sites', rowsFrom: { kind: 'record' }, key: ['site'], onConflict: 'update', columns: [{ name: 'site', type: 'text', nullable: false }] },
      ],
    });
    const tables = personTablesOf(naming, 'desk', model);
    expect(tables.keyColumns).toEqual(['site', 'ticket']);
    expect(tables.time).toBeUndefined();
    expect(tables.linked.map((l) => [l.name, l.links])).toEqual([['replies', [['site', 'site'], ['ticket', 'ticket']]]]);
  });
});

describe('matching an address in stored text', () => {
  it("escapes LIKE's wildcards, so that an underscore is not any character", () => {
    expect(containsPattern('a_b%c@x.com')).toBe('%a\\_b\\%c@x.com%');
  });

  it('finds the address in any case inside text and JSON', () => {
    expect(mentions('Ask ANN@Example.com today', 'ann@example.com')).toBe(true);
    expect(mentions({ tags: { contact: 'Ann@example.COM' } }, 'ann@example.com')).toBe(true);
    expect(mentions('annie@example.com', 'ann@example.com')).toBe(false);
    expect(mentions(null, 'ann@example.com')).toBe(false);
  });
});
