import { describe, expect, it } from 'vitest';
import { describeProfileCondition, MAX_PROFILE_DEPTH, profileDefinitionSchema, type ProfileCondition } from './profile.js';
import { describeIssues } from './validation.js';

function issues(input: unknown): string {
  const result = profileDefinitionSchema.safeParse(input);
  if (result.success) throw new Error('expected a failure');
  return describeIssues(result.error);
}

describe('profileDefinitionSchema', () => {
  it("accepts the manual's examples", () => {
    const unhappy = profileDefinitionSchema.parse({
      name: 'Unhappy last 10 days',
      match: {
        all: [
          { type: 'responded', withinDays: 10 },
          { type: 'form', id: 34 },
          { type: 'question', formId: 34, questionIndex: '1' },
          { any: [{ type: 'score', op: '=', value: 1 }, { type: 'score', op: '<', value: 3 }] },
        ],
      },
    });
    expect(unhappy.over).toBe('any-response');
    const enthusiastic = profileDefinitionSchema.parse({ name: 'Gave a 5', match: { type: 'score', op: '=', value: 5 } });
    expect(enthusiastic.match).toEqual({ type: 'score', op: '=', value: 5 });
  });

  it('accepts every operator and combinator', () => {
    const match = {
      any: [
        { type: 'score', op: 'between', min: 1, max: 3 },
        { type: 'score', op: 'in', values: [1, 5] },
        { none: [{ type: 'comment', contains: 'spam' }] },
        { all: [{ type: 'backfilled', value: false }, { type: 'mailing', name: 'May' }, { type: 'group', id: 2 }] },
        { type: 'responded', from: '2024-01-01', to: '2024-02-01T00:00:00Z' },
        { type: 'question', text: 'How did we do?' },
      ],
    };
    expect(profileDefinitionSchema.parse({ name: 'mix', over: 'latest-response', match }).match).toEqual(match);
  });

  it("takes other sources' string ids and question keys, and an optional pinned app", () => {
    const typeform = profileDefinitionSchema.parse({
      name: 'Detractors',
      app: 'typeform',
      match: { all: [{ type: 'form', id: 'lT4Z3j' }, { type: 'question', formId: 'lT4Z3j', key: 'nps_field' }, { type: 'score', op: '<=', value: 6 }] },
    });
    expect(typeform.app).toBe('typeform');
    expect(describeProfileCondition(typeform.match)).toBe('form "lT4Z3j" AND question "nps_field" of form lT4Z3j AND score <= 6');
    expect(issues({ name: 'x', app: 'Type Form', match: { type: 'score', op: '=', value: 5 } })).toMatch(/^app:/);
    expect(issues({ name: 'x', match: { type: 'form', id: -3 } })).toMatch(/match/);
    expect(issues({ name: 'x', match: { type: 'question', key: 'a\u0000b' } })).toMatch(/match/);
    expect(profileDefinitionSchema.parse({ name: 'x', match: { type: 'score', op: '=', value: 5 } })).not.toHaveProperty('app');
  });

  it('names the field of a bad condition', () => {
    expect(issues({ name: 'x', match: { type: 'score', op: '<<', value: 3 } })).toMatch(/match/);
    expect(issues({ name: 'x', match: { type: 'score', op: 'between', min: 5, max: 1 } })).toMatch(/min/);
    expect(issues({ name: 'x', match: { type: 'responded', withinDays: -1 } })).toMatch(/match/);
    expect(issues({ name: 'x', match: { type: 'form' } })).toMatch(/match/);
    expect(issues({ name: 'x', match: { all: [] } })).toMatch(/match/);
  });

  it('refuses a bad name', () => {
    expect(issues({ name: "x'; drop table y", match: { type: 'score', op: '=', value: 5 } })).toMatch(/^name:/);
    expect(issues({ name: '', match: { type: 'score', op: '=', value: 5 } })).toMatch(/^name:/);
  });

  it('bounds the nesting and the number of conditions', () => {
    let deep: ProfileCondition = { type: 'score', op: '=', value: 5 };
    for (let i = 0; i < MAX_PROFILE_DEPTH; i += 1) deep = { all: [deep] };
    expect(issues({ name: 'deep', match: deep })).toMatch(/^match: nests all \/ any \/ none 9 deep/);
    const wide = { any: Array.from({ length: 101 }, (_, i) => ({ type: 'score', op: '=', value: i })) };
    expect(issues({ name: 'wide', match: wide })).toMatch(/^match: holds 101 conditions/);
  });
});

describe('describeProfileCondition', () => {
  it('reads a definition as one line', () => {
    expect(
      describeProfileCondition({
        all: [
          { type: 'responded', withinDays: 10 },
          { type: 'form', id: 34 },
          { type: 'question', formId: 34, questionIndex: '1' },
          { any: [{ type: 'score', op: '=', value: 1 }, { type: 'score', op: '<', value: 3 }] },
          { none: [{ type: 'comment', contains: 'spam' }, { type: 'backfilled', value: true }] },
          { type: 'mailing', name: 'May' },
          { type: 'score', op: 'between', min: 1, max: 2 },
          { type: 'score', op: 'in', values: [1, 5] },
          { type: 'responded', from: '2024-01-01', to: '2024-02-01' },
          { type: 'question', text: 'Why?' },
        ],
      }),
    ).toBe(
      'responded within the past 10 days AND form 34 AND question 1 of form 34 AND (score = 1 OR score < 3) AND ' +
        'NOT (comment contains "spam" OR backfilled) AND mailing "May" AND score between 1 and 2 AND score in (1, 5) AND ' +
        'responded between 2024-01-01 and 2024-02-01 AND question "Why?"',
    );
  });
});
