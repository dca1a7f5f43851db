/** A cell value as a CSV writer takes it. */
export type CsvValue = string | number | null | undefined;

// A spreadsheet runs a cell that starts with one of these as a formula ("=HYPERLINK(…)"): data that
// came from outside (e-mail addresses, comments) must never do that.
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;
// Neither of the above: nearly every field of a large export (e-mails, ids, times) is plain, and
// is then written after one test instead of two.
const PLAIN_UNLESS = /^[=+\-@\s]|[",\r\n]|\s$/;

/**
 * One CSV field (RFC 4180): text that starts like a formula gets a leading `'`, and a field with a
 * quote, comma, line break or edge whitespace is quoted with its quotes doubled. Numbers are written
 * as they are (a negative score stays a number).
 */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  if (!PLAIN_UNLESS.test(value)) return value;
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV document: a header line and one line per row, CRLF-separated as RFC 4180 says. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
