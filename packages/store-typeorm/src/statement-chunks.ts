// How many rows or keys go into one statement: sizes that keep every statement under the drivers'
// limits and the number of distinct SQL texts (each kept prepared) small, whatever the database.

/** Splits rows into statement-sized groups. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Splits rows into groups whose sizes are all from `shapes` (largest first, ending with 1). */
export function fixedShapeChunks<T>(items: readonly T[], shapes: readonly number[]): T[][] {
  const chunks: T[][] = [];
  let i = 0;
  for (const size of shapes) {
    while (items.length - i >= size) {
      chunks.push(items.slice(i, i + size));
      i += size;
    }
  }
  return chunks;
}

/** Sizes of a look-up's IN list: a part is padded up to one of them, so few statement texts exist. */
const IN_LIST_SHAPES = [1, 8, 64, 512];

/**
 * `values` padded (by repeating the last one, which an IN list ignores) to a fixed size, so that a
 * look-up of a varying number of keys prepares one of four statements, not one per count. At most
 * {@link IN_LIST_LIMIT} values.
 */
export function fixedInList<T>(values: readonly T[]): T[] {
  const size = IN_LIST_SHAPES.find((n) => n >= values.length);
  if (size === undefined) throw new RangeError(`an IN list holds at most ${IN_LIST_LIMIT} values`);
  const padded = [...values];
  while (padded.length < size && padded.length > 0) padded.push(values[values.length - 1]!);
  return padded;
}

/** Most values in one fixed-size IN list. */
export const IN_LIST_LIMIT = IN_LIST_SHAPES[IN_LIST_SHAPES.length - 1]!;
