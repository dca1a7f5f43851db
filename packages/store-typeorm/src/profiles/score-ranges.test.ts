import { describe, expect, it } from 'vitest';
import { scoreUnion, type ScoreLeaf, type ScoreRange } from './score-ranges.js';

const s = (op: '=' | '!=' | '<' | '<=' | '>' | '>=', value: number): ScoreLeaf => ({
  type: 'score',
  op,
  value,
});

/** A range as text, to compare with what a reader would write. */
function text(ranges: ScoreRange[]): string[] {
  return ranges.map((r) => {
    if (r.low && r.high && r.low.value === r.high.value) return `=${r.low.value}`;
    const low = r.low ? `${r.low.inclusive ? '[' : '('}${r.low.value}` : '(-inf';
    const high = r.high ? `${r.high.value}${r.high.inclusive ? ']' : ')'}` : 'inf)';
    return `${low},${high}`;
  });
}

/** Whether a score passes any of the leaves, as SQL would decide it. */
function passes(leaves: ScoreLeaf[], score: number): boolean {
  return leaves.some((leaf) => {
    switch (leaf.op) {
      case '=':
        return score === leaf.value;
      case '!=':
        return score !== leaf.value;
      case '<':
        return score < leaf.value;
      case '<=':
        return score <= leaf.value;
      case '>':
        return score > leaf.value;
      case '>=':
        return score >= leaf.value;
      case 'between':
        return score >= leaf.min && score <= leaf.max;
      case 'in':
        return leaf.values.includes(score);
    }
  });
}

function inRanges(ranges: ScoreRange[], score: number): boolean {
  return ranges.some(
    (r) =>
      (!r.low || score > r.low.value || (r.low.inclusive && score === r.low.value)) &&
      (!r.high || score < r.high.value || (r.high.inclusive && score === r.high.value)),
  );
}

describe('scoreUnion', () => {
  it('makes the manual\'s "1, or below 3" one comparison', () => {
    expect(text(scoreUnion([s('=', 1), s('<', 3)]))).toEqual(['(-inf,3)']);
  });

  it('joins ranges that touch and keeps apart those that do not', () => {
    expect(text(scoreUnion([s('<', 3), s('=', 3)]))).toEqual(['(-inf,3]']);
    expect(text(scoreUnion([s('<', 3), s('>', 3)]))).toEqual(['(-inf,3)', '(3,inf)']);
    expect(text(scoreUnion([s('<=', 3), s('>=', 3)]))).toEqual(['(-inf,inf)']);
    expect(
      text(
        scoreUnion([
          { type: 'score', op: 'between', min: 1, max: 2 },
          { type: 'score', op: 'in', values: [5, 2, 9] },
        ]),
      ),
    ).toEqual(['[1,2]', '=5', '=9']);
    expect(text(scoreUnion([s('!=', 4), s('=', 4)]))).toEqual(['(-inf,inf)']);
    expect(text(scoreUnion([{ type: 'score', op: 'between', min: 5, max: 1 }, s('=', 7)]))).toEqual(['=7']);
  });

  it('matches exactly the scores the leaves match', () => {
    const ops = ['=', '!=', '<', '<=', '>', '>='] as const;
    const leaves: ScoreLeaf[][] = [];
    for (const a of ops)
      for (const b of ops)
        for (const [x, y] of [
          [1, 3],
          [3, 3],
          [4, 2],
        ] as const)
          leaves.push([s(a, x), s(b, y)]);
    leaves.push([
      { type: 'score', op: 'between', min: 2, max: 4 },
      s('>', 4),
      { type: 'score', op: 'in', values: [0, 1.5] },
    ]);
    for (const group of leaves) {
      const ranges = scoreUnion(group);
      for (let score = -1; score <= 6; score += 0.5)
        expect([group, score, inRanges(ranges, score)]).toEqual([group, score, passes(group, score)]);
    }
  });
});
