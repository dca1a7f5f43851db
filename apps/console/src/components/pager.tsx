/** Next/previous over a cursor-paginated list: the page's cursors are kept so "previous" works. */
export function Pager({
  cursors,
  next,
  onChange,
  label,
}: {
  /** The cursors of the pages before this one (the first page has none). */
  cursors: string[];
  next: string | null | undefined;
  onChange(cursors: string[]): void;
  label: string;
}) {
  if (cursors.length === 0 && !next) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={cursors.length === 0} onClick={() => onChange(cursors.slice(0, -1))}>
        Previous page
      </button>
      <span>Page {cursors.length + 1}</span>
      <button type="button" disabled={!next} onClick={() => next && onChange([...cursors, next])}>
        Next page
      </button>
    </nav>
  );
}
