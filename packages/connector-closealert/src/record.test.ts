import { describe, expect, it } from 'vitest';
import { describeIssues } from '@tributary/sdk';
import { formResponseSchema } from './record.js';

function response(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 1,
    created_at: '2014-03-17T17:22:10',
    email: 'peter@example.com',
    mail_url: 'http://mail.example.com/1',
    user_agent: 'Mozilla/5.0',
    device_type: 'desktop',
    operating_system: 'macos',
    followed_up: true,
    merge_tags: { age: 10, gender: 'male' },
    form: { id: 34, form_type: 'email-satisfaction', name: 'Email satisfaction form' },
    mailing: { id: 42, name: 'Spring mailing' },
    group: { id: 44, name: 'Newsletters' },
    answers: [
      {
        question: 'What do you think?',
        question_type: 'sentiment',
        answer_type: null,
        question_index: '1',
        response_value: 4,
      },
      {
        question: 'Why?',
        question_type: 'comment',
        answer_type: null,
        question_index: '2',
        response_value: 'Great',
      },
      {
        question: 'Score?',
        question_type: 'rating',
        answer_type: null,
        question_index: '3',
        response_value: '4',
      },
    ],
    ...overrides,
  };
}

function issues(input: unknown): string {
  const result = formResponseSchema.safeParse(input);
  if (result.success) throw new Error('expected the record to be refused');
  return describeIssues(result.error);
}

describe('formResponseSchema', () => {
  it('accepts the spec example, numbers and numeric strings as values alike', () => {
    const parsed = formResponseSchema.parse(response());
    expect(parsed.answers.map((a) => a.response_value)).toEqual([4, 'Great', '4']);
  });

  it('keeps unknown fields, since the raw response is stored', () => {
    const parsed = formResponseSchema.parse(
      response({ language: 'nl', form: { id: 34, form_type: 'x', name: 'y', locale: 'nl' } }),
    );
    expect(parsed).toMatchObject({ language: 'nl', form: { locale: 'nl' } });
  });

  it('turns a numeric question_index into text', () => {
    const parsed = formResponseSchema.parse(
      response({
        answers: [
          {
            question: 'Q',
            question_type: 'form',
            answer_type: 'email',
            question_index: 3.1,
            response_value: 'a@b.c',
          },
        ],
      }),
    );
    expect(parsed.answers[0]?.question_index).toBe('3.1');
  });

  it('accepts missing and null descriptive fields', () => {
    const {
      email: _e,
      mail_url: _m,
      user_agent: _u,
      followed_up: _f,
      merge_tags: _t,
      mailing: _ml,
      group: _g,
      ...bare
    } = response();
    expect(formResponseSchema.safeParse(bare).success).toBe(true);
    expect(
      formResponseSchema.safeParse(
        response({
          email: null,
          device_type: null,
          operating_system: null,
          merge_tags: null,
          mailing: null,
          group: null,
          followed_up: null,
        }),
      ).success,
    ).toBe(true);
    expect(formResponseSchema.safeParse(response({ answers: [] })).success).toBe(true);
    expect(
      formResponseSchema.safeParse(
        response({
          answers: [
            {
              question: 'Q',
              question_type: 'yesno',
              answer_type: null,
              question_index: '1',
              response_value: true,
            },
          ],
        }),
      ).success,
    ).toBe(true);
  });

  it.each([
    ['a missing id', { id: undefined }, /^id: /],
    ['a non-positive id', { id: 0 }, /^id: /],
    ['a string id', { id: '7' }, /^id: /],
    ['a missing created_at', { created_at: undefined }, /^created_at: /],
    ['a created_at that is no date', { created_at: 'yesterday' }, /^created_at: .*ISO-8601/],
    ['a created_at with an impossible date', { created_at: '2024-02-30T10:00:00' }, /^created_at: /],
    ['a missing form', { form: undefined }, /^form: /],
    ['a form without id', { form: { name: 'x' } }, /^form\.id: /],
    ['an e-mail that is a number', { email: 5 }, /^email: /],
    ['merge tags that are a list', { merge_tags: [1, 2] }, /^merge_tags: /],
    ['a mailing without id', { mailing: { name: 'x' } }, /^mailing\.id: /],
    ['answers that are not a list', { answers: 'none' }, /^answers: /],
    [
      'an answer without question_index',
      { answers: [{ question: 'Q', question_type: 'x', response_value: 1 }] },
      /^answers\.0\.question_index: /,
    ],
    [
      'an empty question_index',
      { answers: [{ question: 'Q', question_type: 'x', question_index: ' ', response_value: 1 }] },
      /^answers\.0\.question_index: /,
    ],
    [
      'an object as value',
      { answers: [{ question: 'Q', question_type: 'x', question_index: '1', response_value: { a: 1 } }] },
      /^answers\.0\.response_value: /,
    ],
  ])('refuses %s, naming the field', (_label, overrides, expected) => {
    expect(issues(response(overrides))).toMatch(expected);
  });

  it('refuses what is not an object', () => {
    expect(formResponseSchema.safeParse(null).success).toBe(false);
    expect(formResponseSchema.safeParse('x').success).toBe(false);
  });
});
