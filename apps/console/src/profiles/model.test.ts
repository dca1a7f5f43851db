import { describe, expect, it } from 'vitest';
import {
  addChild,
  draftDefinition,
  draftMatch,
  emptyDraft,
  newGroup,
  newLeaf,
  parseSourceId,
  profileDraft,
  removeNode,
  updateNode,
  type Condition,
  type GroupNode,
  type LeafDraft,
  type LeafNode,
} from './model';

const leaf = (draft: LeafDraft): LeafNode => ({ ...newLeaf(draft.type), draft });

/** "Everyone of the past ten days who answered the score question of form 34 with 1, or below 3." */
const MANUAL_EXAMPLE: Condition = {
  all: [
    { type: 'responded', withinDays: 10 },
    { type: 'form', id: 34 },
    { type: 'question', formId: 34, questionIndex: '1' },
    {
      any: [
        { type: 'score', op: '=', value: 1 },
        { type: 'score', op: '<', value: 3 },
      ],
    },
  ],
};

describe('the builder draft', () => {
  it("becomes the manual's example, with ids as numbers and the score group as an any", () => {
    const root = newGroup('all', [
      leaf({ type: 'responded', mode: 'within', days: '10', from: '', to: '' }),
      leaf({ type: 'form', by: 'id', value: '34' }),
      leaf({ type: 'question', formId: '34', by: 'index', value: '1' }),
      newGroup('any', [
        leaf({ type: 'score', op: '=', value: '1', min: '', max: '', values: '' }),
        leaf({ type: 'score', op: '<', value: '3', min: '', max: '', values: '' }),
      ]),
    ]);
    expect(draftMatch(root)).toEqual({ match: MANUAL_EXAMPLE, problems: [] });
  });

  it('reads a saved definition back into the same definition', () => {
    const others: Condition = {
      none: [
        { type: 'responded', from: '2026-01-01', to: '2026-01-31' },
        { type: 'mailing', name: 'Spring' },
        { type: 'form', id: 'lT4Z3j' },
        { type: 'question', formId: 'lT4Z3j', key: 'nps_field' },
        { type: 'question', text: 'How likely are you to recommend us?' },
        { type: 'score', op: 'between', min: 0, max: 6 },
        { type: 'score', op: 'in', values: [1, 2, 9.5] },
        { type: 'comment', contains: '100% "late"' },
        { type: 'backfilled', value: true },
        { type: 'group', id: 7 },
      ],
    };
    for (const match of [MANUAL_EXAMPLE, others]) {
      const draft = profileDraft({ name: 'p', description: 'd', over: 'latest-response', app: 'closealert', match });
      expect(draftDefinition(draft)).toEqual({
        definition: { description: 'd', over: 'latest-response', app: 'closealert', match },
        problems: [],
      });
    }
  });

  it('sends a lone condition as itself and leaves app out when every app is read', () => {
    const draft = profileDraft({ name: 'p', description: '', over: 'any-response', app: null, match: { type: 'comment', contains: 'late' } });
    expect(draft.root.mode).toBe('all');
    expect(draftDefinition(draft).definition).toEqual({ description: '', over: 'any-response', match: { type: 'comment', contains: 'late' } });
  });

  it('names the field to fix instead of sending what the server would refuse', () => {
    const days = leaf({ type: 'responded', mode: 'within', days: '1.5', from: '', to: '' });
    const dates = leaf({ type: 'responded', mode: 'between', days: '', from: '2026-02-01', to: '2026-01-01' });
    const question = leaf({ type: 'question', formId: '', by: 'index', value: 'first' });
    const scores = leaf({ type: 'score', op: 'in', value: '', min: '', max: '', values: '1, x' });
    const range = leaf({ type: 'score', op: 'between', value: '', min: '5', max: '2', values: '' });
    const empty = newGroup('any');
    const result = draftMatch(newGroup('all', [days, dates, question, scores, range, empty]));
    expect(result.match).toBeUndefined();
    expect(result.problems.map((p) => p.id)).toEqual([days.id, dates.id, question.id, scores.id, range.id, empty.id]);
    expect(result.problems[0]!.message).toMatch(/whole number of days/);
    expect(result.problems[1]!.message).toMatch(/not be after/);
  });

  it('reads a decimal comma and keeps text ids as text', () => {
    const score = leaf({ type: 'score', op: '>=', value: '7,5', min: '', max: '', values: '' });
    expect(draftMatch(newGroup('all', [score])).match).toEqual({ type: 'score', op: '>=', value: 7.5 });
    expect(parseSourceId(' 34 ')).toBe(34);
    expect(parseSourceId('lT4Z3j')).toBe('lT4Z3j');
    expect(parseSourceId('034')).toBe('034');
  });

  it('adds, changes and removes nodes without touching the tree it was given', () => {
    const start = emptyDraft().root;
    const group = newGroup('any');
    const withGroup = addChild(start, start.id, group);
    const comment = newLeaf('comment');
    const nested = addChild(withGroup, group.id, comment);
    const changed = updateNode(nested, comment.id, (n) => ({ ...(n as LeafNode), draft: { type: 'comment', contains: 'late' } }));
    expect(start.children).toHaveLength(1);
    expect((nested.children[1] as GroupNode).children).toHaveLength(1);
    expect(draftMatch(changed).match).toEqual({ all: [{ type: 'responded', withinDays: 10 }, { any: [{ type: 'comment', contains: 'late' }] }] });
    expect(removeNode(changed, group.id).children).toHaveLength(1);
    expect(removeNode(changed, changed.id)).toBe(changed);
  });
});
