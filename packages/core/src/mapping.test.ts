import { describe, expect, it } from 'vitest';
import { dataModelSchema } from './data-model.js';
import { ConfigError } from './errors.js';
import { applyMappings, applyTransform, compileMappings, countRecordsWithRow, isUsableEmail, validateMappings, type MappingInput, type SourceFields } from './mapping.js';

const model = dataModelSchema.parse({
  primaryTable: 'responses',
  tables: [
    {
      name: 'responses',
      rowsFrom: { kind: 'record' },
      key: ['response_id'],
      onConflict: 'ignore',
      columns: [
        { name: 'response_id', type: 'bigint', nullable: false },
        { name: 'created_at', type: 'timestamp' },
        { name: 'email', type: 'text' },
        { name: 'segment', type: 'text' },
        { name: 'raw', type: 'json' },
        { name: 'backfilled', type: 'boolean' },
      ],
    },
    {
      name: 'answers',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['response_id', 'question_index'],
      onConflict: 'ignore',
      columns: [
        { name: 'response_id', type: 'bigint', nullable: false },
        { name: 'question_index', type: 'text', nullable: false },
        { name: 'score', type: 'numeric' },
      ],
    },
    {
      name: 'forms',
      rowsFrom: { kind: 'record' },
      key: ['form_id'],
      onConflict: 'update',
      columns: [
        { name: 'form_id', type: 'bigint', nullable: false },
        { name: 'name', type: 'text' },
      ],
    },
  ],
});

const fields: SourceFields = {
  record: ['id', 'created_at', 'email', 'form.id', 'form.name'],
  each: { answers: ['question_index', 'response_value'] },
  openObjects: ['merge_tags'],
  meta: ['backfill'],
};

const mappings: MappingInput[] = [
  { source: 'id', target: { table: 'responses', column: 'response_id' }, transform: 'integer' },
  { source: 'created_at', target: { table: 'responses', column: 'created_at' }, transform: 'timestamp' },
  { source: 'email', target: { table: 'responses', column: 'email' }, transform: 'email' },
  { source: 'merge_tags.segment', target: { table: 'responses', column: 'segment' }, transform: 'string' },
  { source: '$record', target: { table: 'responses', column: 'raw' }, transform: 'json' },
  { source: '$meta.backfill', target: { table: 'responses', column: 'backfilled' } },
  { source: '$record.id', target: { table: 'answers', column: 'response_id' }, transform: 'integer' },
  { source: 'question_index', target: { table: 'answers', column: 'question_index' }, transform: 'string' },
  { source: 'response_value', target: { table: 'answers', column: 'score' }, transform: 'number' },
  { source: 'form.id', target: { table: 'forms', column: 'form_id' }, transform: 'integer' },
  { source: 'form.name', target: { table: 'forms', column: 'name' }, transform: 'string' },
];

const records = [
  {
    id: 7,
    created_at: '2024-03-31T01:30:00',
    email: '  Ann@Example.COM ',
    merge_tags: { segment: 'gold' },
    form: { id: 3, name: 'Old name' },
    answers: [
      { question_index: '1', response_value: '4' },
      { question_index: '2', response_value: 'great mail' },
    ],
  },
  {
    id: 8,
    created_at: '2024-04-01T10:00:00+02:00',
    email: null,
    form: { id: 3, name: 'New name' },
    answers: [{ question_index: '1', response_value: 2 }],
  },
];

describe('validateMappings', () => {
  it('accepts valid mappings and fills defaults', () => {
    const valid = validateMappings(mappings, model, fields);
    expect(valid).toHaveLength(mappings.length);
    expect(valid.every((m) => m.enabled)).toBe(true);
  });

  const refuse = (edit: MappingInput[], pattern: RegExp) => {
    let error: unknown;
    try {
      validateMappings(edit, model, fields);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(pattern);
  };

  it('refuses an unknown column, an unknown table and a type clash', () => {
    refuse([...mappings, { source: 'email', target: { table: 'responses', column: 'mail' } }], /no column "mail"/);
    refuse([...mappings, { source: 'email', target: { table: 'people', column: 'mail' } }], /no table "people"/);
    refuse(
      [...mappings.filter((m) => m.target.column !== 'created_at'), { source: 'created_at', target: { table: 'responses', column: 'created_at' }, transform: 'number' }],
      /cannot write a timestamp column/,
    );
  });

  it('refuses an unknown source path but accepts keys of open objects', () => {
    refuse([...mappings.filter((m) => m.target.column !== 'segment'), { source: 'nope', target: { table: 'responses', column: 'segment' } }], /"nope" is not a field/);
    refuse([...mappings.filter((m) => m.target.column !== 'segment'), { source: 'merge_tags', target: { table: 'responses', column: 'segment' } }], /not a field/);
  });

  it('refuses SQL in a name and a malformed path', () => {
    refuse([...mappings, { source: 'email', target: { table: 'responses', column: 'x; drop table y' } }], /target\.column/);
    refuse([...mappings, { source: "email'); drop", target: { table: 'responses', column: 'segment' } }], /source/);
  });

  it('refuses a column fed twice and a key column left without a mapping', () => {
    refuse([...mappings, { source: 'form.name', target: { table: 'responses', column: 'email' } }], /fed by both/);
    refuse(mappings.map((m) => (m.target.column === 'form_id' ? { ...m, enabled: false } : m)), /key column forms\.form_id/);
  });

  it('accepts merge tag keys with dashes', () => {
    const edited = [...mappings.filter((m) => m.target.column !== 'segment'), { source: 'merge_tags.first-name', target: { table: 'responses', column: 'segment' } }];
    expect(validateMappings(edited, model, fields).find((m) => m.target.column === 'segment')?.source).toBe('merge_tags.first-name');
  });

  it('allows a disabled duplicate', () => {
    expect(() => validateMappings([...mappings, { source: 'form.name', target: { table: 'responses', column: 'email' }, enabled: false }], model, fields)).not.toThrow();
  });
});

describe('applyMappings', () => {
  const compiled = compileMappings(validateMappings(mappings, model, fields), model);

  it('maps records to rows per table', () => {
    const rows = applyMappings(records, compiled, { backfill: true, timeZone: 'Europe/Amsterdam' });
    expect(rows.responses).toEqual([
      {
        response_id: 7,
        // 01:30 on the night clocks go forward in Amsterdam is still winter time (UTC+1)
        created_at: '2024-03-31T00:30:00.000Z',
        email: 'ann@example.com',
        segment: 'gold',
        raw: JSON.stringify(records[0]),
        backfilled: true,
      },
      {
        response_id: 8,
        created_at: '2024-04-01T08:00:00.000Z',
        email: null,
        segment: null,
        raw: JSON.stringify(records[1]),
        backfilled: true,
      },
    ]);
    expect(rows.answers).toEqual([
      { response_id: 7, question_index: '1', score: 4 },
      { response_id: 7, question_index: '2', score: null },
      { response_id: 8, question_index: '1', score: 2 },
    ]);
  });

  it('collapses rows with the same key to the last one', () => {
    const rows = applyMappings(records, compiled, { backfill: false, timeZone: 'UTC' });
    expect(rows.forms).toEqual([{ form_id: 3, name: 'New name' }]);
  });

  it('leaves out rows whose key is incomplete and leaves disabled columns NULL', () => {
    const partial = compileMappings(
      validateMappings(mappings.map((m) => (m.target.column === 'email' ? { ...m, enabled: false } : m)), model, fields),
      model,
    );
    const rows = applyMappings([{ id: 9, form: null, answers: 'not an array' }], partial, { backfill: false, timeZone: 'UTC' });
    expect(rows.forms).toEqual([]);
    expect(rows.answers).toEqual([]);
    expect(rows.responses?.[0]).toMatchObject({ response_id: 9, email: null });
  });

  it('counts the records that make a row of a record table, and only those', () => {
    const meta = { backfill: false, timeZone: 'UTC' };
    const mixed = [...records, { form: { id: 5, name: 'A form alone' } }, { id: 'not a number' }];
    expect(countRecordsWithRow(mixed, compiled, 'responses', meta)).toBe(2);
    expect(countRecordsWithRow(mixed, compiled, 'forms', meta)).toBe(3);
    expect(countRecordsWithRow(mixed, compiled, 'answers', meta)).toBe(mixed.length);
  });

  it('does not mutate its input', () => {
    const copy = structuredClone(records);
    applyMappings(records, compiled, { backfill: false, timeZone: 'UTC' });
    expect(records).toEqual(copy);
  });
});

describe('applyTransform', () => {
  it('parses numbers and numeric strings, and nothing else, as numbers', () => {
    expect(applyTransform('4', 'number', 'UTC')).toBe(4);
    expect(applyTransform(' 3.5 ', 'number', 'UTC')).toBe(3.5);
    expect(applyTransform(5, 'number', 'UTC')).toBe(5);
    expect(applyTransform('four', 'number', 'UTC')).toBeNull();
    expect(applyTransform('', 'number', 'UTC')).toBeNull();
    expect(applyTransform(true, 'number', 'UTC')).toBeNull();
  });

  it('converts integers, booleans, e-mails, timestamps and JSON', () => {
    expect(applyTransform('12', 'integer', 'UTC')).toBe(12);
    expect(applyTransform(1.5, 'integer', 'UTC')).toBeNull();
    expect(applyTransform('true', 'boolean', 'UTC')).toBe(true);
    expect(applyTransform('maybe', 'boolean', 'UTC')).toBeNull();
    expect(applyTransform('   ', 'email', 'UTC')).toBeNull();
    expect(applyTransform('not a date', 'timestamp', 'UTC')).toBeNull();
    expect(applyTransform({ a: 1 }, 'json', 'UTC')).toBe('{"a":1}');
    expect(applyTransform({ a: 1 }, 'none', 'UTC')).toBe('{"a":1}');
    expect(applyTransform(undefined, 'string', 'UTC')).toBeNull();
  });
});

describe('isUsableEmail', () => {
  it('accepts addresses, in any script', () => {
    for (const email of ['ann@example.com', 'a.b+tag@mail.example.co.uk', "o'brien@example.ie", 'jürgen@bücher.de', 'x@y.io']) {
      expect(isUsableEmail(email), email).toBe(true);
    }
  });

  it('refuses phone numbers, formulas, empty and garbage', () => {
    for (const value of ['+31612345678', '=HYPERLINK("http://x.example","a@b.com")', '', 'garbage', '@example.com', 'ann@', 'ann@localhost', 'a b@example.com', '-1@example.com', 'ann@@example.com', 'ann@example..com']) {
      expect(isUsableEmail(value), value).toBe(false);
    }
  });

  it('makes the email transform return null for what is not an address', () => {
    expect(applyTransform(' Ann@Example.COM ', 'email', 'UTC')).toBe('ann@example.com');
    expect(applyTransform('+31612345678', 'email', 'UTC')).toBeNull();
  });
});
