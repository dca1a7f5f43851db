import { ConfigError } from '@tributary/core';

// Cursors are opaque to clients: base64url JSON of where the previous page ended.

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<T>(
  cursor: string | undefined,
  check: (value: unknown) => value is T,
): T | undefined {
  if (cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!check(value))
    throw new ConfigError('API_REQUEST_INVALID', 'Invalid request: cursor is not one this list returned.', {
      hint: 'Pass the `next` of the previous page unchanged, or leave cursor out for the first page.',
    });
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** A page of a list sorted by a unique text key: the items after the cursor's key. */
export function pageByKey<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  page: { limit: number; cursor?: string | undefined },
): { items: T[]; next: string | null } {
  const after = decodeCursor(page.cursor, isString);
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((item) => keyOf(item) > after);
  const slice = rest.slice(0, page.limit);
  return {
    items: slice,
    next: rest.length > page.limit ? encodeCursor(keyOf(slice[slice.length - 1]!)) : null,
  };
}

const isOffset = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The offset a cursor of an offset-paged list carries (0 for the first page). */
export function offsetOf(cursor: string | undefined): number {
  return decodeCursor(cursor, isOffset) ?? 0;
}

export function nextOffset(offset: number, returned: number, more: boolean): string | null {
  return more ? encodeCursor(offset + returned) : null;
}
