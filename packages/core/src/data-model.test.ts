import { describe, expect, it } from 'vitest';
import { adoptDeclaredModel, dataModelSchema } from './data-model.js';
import { describeIssues } from './validation.js';

const table = {
  name: 'responses',
  rowsFrom: { kind: 'record' as const },
  key: ['response_id'],
  onConflict: 'ignore' as const,
  columns: [
    { name: 'response_id', type: 'bigint' as const, nullable: false },
    { name: 'score', type: 'numeric' as const },
  ],
  indexes: [['score']],
};

function issues(input: unknown): string {
  const result = dataModelSchema.safeParse(input);
  if (result.success) throw new Error('expected a failure');
  return describeIssues(result.error);
}

describe('dataModelSchema', () => {
  it('accepts a valid model', () => {
    expect(dataModelSchema.parse({ tables: [table], primaryTable: 'responses' }).tables).toHaveLength(1);
  });

  it('names the bad column type', () => {
    expect(issues({ tables: [{ ...table, columns: [{ name: 'response_id', type: 'varchar' }] }], primaryTable: 'responses' })).toMatch(
      /tables\.0\.columns\.0\.type/,
    );
  });

  it('refuses identifiers that could carry SQL', () => {
    expect(issues({ tables: [{ ...table, name: 'x"; drop table y; --' }], primaryTable: 'responses' })).toMatch(/tables\.0\.name/);
    expect(issues({ tables: [{ ...table, name: 'select' }], primaryTable: 'responses' })).toMatch(/SQL keyword/);
  });

  it('refuses a nullable or missing key column, and unknown index columns', () => {
    expect(issues({ tables: [{ ...table, key: ['score'] }], primaryTable: 'responses' })).toMatch(/must not be nullable/);
    expect(issues({ tables: [{ ...table, key: ['nope'] }], primaryTable: 'responses' })).toMatch(/key column "nope"/);
    expect(issues({ tables: [{ ...table, indexes: [['nope']] }], primaryTable: 'responses' })).toMatch(/tables\.0\.indexes\.0/);
  });

  it('refuses duplicate tables and a primary table fed per array element', () => {
    expect(issues({ tables: [table, table], primaryTable: 'responses' })).toMatch(/declared twice/);
    expect(issues({ tables: [{ ...table, rowsFrom: { kind: 'each', path: 'answers' } }], primaryTable: 'responses' })).toMatch(
      /one row per record/,
    );
  });

  it('refuses a customer e-mail column the primary table lacks', () => {
    expect(issues({ tables: [table], primaryTable: 'responses', customerEmailColumn: 'mail' })).toMatch(/customerEmailColumn/);
  });

  describe('feedback view', () => {
    const model = (feedback: unknown, extra: object[] = []) => ({
      tables: [{ ...table, columns: [...table.columns, { name: 'at', type: 'timestamp' as const }, { name: 'email', type: 'text' as const }, ...extra] }],
      primaryTable: 'responses',
      feedback,
    });
    const responses = { table: 'responses', id: 'response_id', time: 'at', email: 'email' };
    const answers = { table: 'responses', response: 'response_id', question: 'response_id', score: 'score' };

    it('accepts roles that name declared columns', () => {
      expect(dataModelSchema.parse(model({ responses, answers })).feedback?.answers.score).toBe('score');
    });

    it('names a role whose table or column is not declared', () => {
      expect(issues(model({ responses: { ...responses, form: 'form_id' }, answers }))).toMatch(/responses\.form names "form_id", which is not a column of "responses"/);
      expect(issues(model({ responses, answers: { ...answers, table: 'answers' } }))).toMatch(/answers\.response names table "answers", which is not declared/);
    });

    it('requires the response time to be a timestamp', () => {
      expect(issues(model({ responses: { ...responses, time: 'score' }, answers }))).toMatch(/must be a timestamp column/);
    });
  });
});

describe('adoptDeclaredModel', () => {
  const parse = (indexes: string[][], extra: object = {}) =>
    dataModelSchema.parse({ primaryTable: 'responses', tables: [{ ...table, indexes }], ...extra });

  it("takes the indexes the connector declares now on tables the installation has, and nothing else", () => {
    const stored = parse([['score']]);
    const adopted = adoptDeclaredModel(stored, parse([['score'], ['response_id', 'score']]));
    expect(adopted?.tables[0]?.indexes).toEqual([['score'], ['response_id', 'score']]);
    // Nothing new, or an index over a column the stored table lacks: nothing to adopt.
    expect(adoptDeclaredModel(stored, parse([['score']]))).toBeUndefined();
    const wider = dataModelSchema.parse({
      primaryTable: 'responses',
      tables: [{ ...table, columns: [...table.columns, { name: 'extra', type: 'text' }], indexes: [['extra']] }],
    });
    expect(adoptDeclaredModel(stored, wider)).toBeUndefined();
  });
});

