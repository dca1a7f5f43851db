import { describe, expect, it } from 'vitest';
import { ConfigError, profileDefinitionSchema } from '@tributary/core';
import { definitionFromFlags, parseScore, parseWithin } from './profile-flags.js';

describe('profile flags', () => {
  it('reads every score form', () => {
    expect(parseScore('<3')).toEqual({ type: 'score', op: '<', value: 3 });
    expect(parseScore('<= 3')).toEqual({ type: 'score', op: '<=', value: 3 });
    expect(parseScore('>4')).toEqual({ type: 'score', op: '>', value: 4 });
    expect(parseScore('>=4')).toEqual({ type: 'score', op: '>=', value: 4 });
    expect(parseScore('=5')).toEqual({ type: 'score', op: '=', value: 5 });
    expect(parseScore('5')).toEqual({ type: 'score', op: '=', value: 5 });
    expect(parseScore('!=5')).toEqual({ type: 'score', op: '!=', value: 5 });
    expect(parseScore('<>5')).toEqual({ type: 'score', op: '!=', value: 5 });
    expect(parseScore('1-2')).toEqual({ type: 'score', op: 'between', min: 1, max: 2 });
    expect(parseScore('1,2, 5')).toEqual({ type: 'score', op: 'in', values: [1, 2, 5] });
    expect(parseScore('=-1')).toEqual({ type: 'score', op: '=', value: -1 });
    expect(parseScore('7.5')).toEqual({ type: 'score', op: '=', value: 7.5 });
  });

  it('refuses a score it cannot read, naming the flag', () => {
    for (const bad of ['', 'three', '<<3', '3-1', '1,', "1' OR 1=1"]) {
      expect(() => parseScore(bad)).toThrow(ConfigError);
      expect(() => parseScore(bad)).toThrow(/--score/);
    }
  });

  it('reads durations in days or weeks', () => {
    expect(parseWithin('10d')).toBe(10);
    expect(parseWithin('10')).toBe(10);
    expect(parseWithin('2w')).toBe(14);
    expect(parseWithin('3 days')).toBe(3);
    expect(() => parseWithin('0d')).toThrow(/--within/);
    expect(() => parseWithin('10h')).toThrow(/--within/);
  });

  it("builds the manual's first example from flags", () => {
    const definition = definitionFromFlags('Unhappy', {
      form: '34',
      question: '1',
      score: ['=1', '<3'],
      within: '10d',
    });
    expect(profileDefinitionSchema.parse(definition)).toEqual({
      name: 'Unhappy',
      description: '',
      over: 'any-response',
      match: {
        all: [
          { type: 'responded', withinDays: 10 },
          { type: 'form', id: 34 },
          { type: 'question', questionIndex: '1', formId: 34 },
          {
            any: [
              { type: 'score', op: '=', value: 1 },
              { type: 'score', op: '<', value: 3 },
            ],
          },
        ],
      },
    });
  });

  it("builds the manual's second example, and names, mailings, groups, comments and backfill", () => {
    expect(definitionFromFlags('Gave a 5', { score: ['=5'] }).match).toEqual({
      type: 'score',
      op: '=',
      value: 5,
    });
    const definition = definitionFromFlags('x', {
      form: 'Net promoter score',
      question: '1',
      mailing: '7',
      group: 'News',
      comment: 'late',
      excludeBackfilled: true,
      latest: true,
    });
    expect(definition.over).toBe('latest-response');
    expect(definition.match).toEqual({
      all: [
        { type: 'form', name: 'Net promoter score' },
        { type: 'mailing', id: 7 },
        { type: 'group', name: 'News' },
        { type: 'backfilled', value: false },
        { type: 'question', questionIndex: '1' },
        { type: 'comment', contains: 'late' },
      ],
    });
  });

  it("takes another source's question key and form id, and pins the profile to an app", () => {
    const definition = definitionFromFlags('x', { app: 'typeform', form: 'lT4Z3j', question: 'nps_field', score: ['<=6'] });
    expect(definition.app).toBe('typeform');
    expect(definition.match).toEqual({
      all: [
        { type: 'form', name: 'lT4Z3j' },
        { type: 'question', key: 'nps_field' },
        { type: 'score', op: '<=', value: 6 },
      ],
    });
    expect(definitionFromFlags('y', { question: '3.1' }).match).toEqual({ type: 'question', questionIndex: '3.1' });
    expect(definitionFromFlags('z', { score: ['5'] })).not.toHaveProperty('app');
  });

  it('refuses a profile without conditions', () => {
    expect(() => definitionFromFlags('empty', {})).toThrow(/needs conditions/);
  });
});
