import type { ProfileCondition } from '@tributary/core';

/** A score condition of a profile. */
export type ScoreLeaf = Extract<ProfileCondition, { type: 'score' }>;

interface Bound {
  value: number;
  inclusive: boolean;
}

/** A range of scores; an absent bound is open-ended. */
export interface ScoreRange {
  low?: Bound;
  high?: Bound;
}

function rangesOf(leaf: ScoreLeaf): ScoreRange[] {
  switch (leaf.op) {
    case '=':
      return [{ low: { value: leaf.value, inclusive: true }, high: { value: leaf.value, inclusive: true } }];
    case '!=':
      return [
        { high: { value: leaf.value, inclusive: false } },
        { low: { value: leaf.value, inclusive: false } },
      ];
    case '<':
      return [{ high: { value: leaf.value, inclusive: false } }];
    case '<=':
      return [{ high: { value: leaf.value, inclusive: true } }];
    case '>':
      return [{ low: { value: leaf.value, inclusive: false } }];
    case '>=':
      return [{ low: { value: leaf.value, inclusive: true } }];
    case 'between':
      return [{ low: { value: leaf.min, inclusive: true }, high: { value: leaf.max, inclusive: true } }];
    case 'in':
      return leaf.values.map((value) => ({
        low: { value, inclusive: true },
        high: { value, inclusive: true },
      }));
  }
}

/** Orders ranges by where they start: open-ended first, then by value, an inclusive start before an exclusive one. */
function byStart(a: ScoreRange, b: ScoreRange): number {
  if (!a.low || !b.low) return (a.low ? 1 : 0) - (b.low ? 1 : 0);
  return a.low.value - b.low.value || Number(b.low.inclusive) - Number(a.low.inclusive);
}

/** Whether `next` (starting no earlier than `current`) overlaps or touches it, so that the two are one range. */
function joins(current: ScoreRange, next: ScoreRange): boolean {
  if (!current.high || !next.low) return true;
  if (next.low.value < current.high.value) return true;
  return next.low.value === current.high.value && (next.low.inclusive || current.high.inclusive);
}

/** The later of two ends; an open end is the latest. */
function laterEnd(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a || !b) return undefined;
  if (a.value !== b.value) return a.value > b.value ? a : b;
  return a.inclusive ? a : b;
}

/**
 * The scores that satisfy any one of `leaves`, as the fewest disjoint ranges. "= 1 or < 3" is
 * "< 3": one comparison the database can check inside an index, where an OR is checked row by row.
 */
export function scoreUnion(leaves: readonly ScoreLeaf[]): ScoreRange[] {
  const ranges = leaves
    .flatMap(rangesOf)
    // A range whose ends cross matches nothing (as SQL's BETWEEN 5 AND 1 does).
    .filter(
      (r) =>
        !r.low ||
        !r.high ||
        r.low.value < r.high.value ||
        (r.low.value === r.high.value && r.low.inclusive && r.high.inclusive),
    )
    .sort(byStart);
  const merged: ScoreRange[] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last && joins(last, range)) {
      const high = laterEnd(last.high, range.high);
      merged[merged.length - 1] = { ...(last.low ? { low: last.low } : {}), ...(high ? { high } : {}) };
    } else merged.push(range);
  }
  return merged;
}
