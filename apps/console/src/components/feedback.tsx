import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

/** An error in words, with what to do (the API's hint), announced to screen readers. */
export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const failure = error instanceof ApiError ? error : undefined;
  const message = failure?.message ?? (error instanceof Error ? error.message : String(error));
  return (
    <div className="note note-error" role="alert">
      {title ? <strong>{title} </strong> : null}
      <span>{message}</span>
      {failure?.hint ? <p className="hint">{failure.hint}</p> : null}
      {failure && failure.status !== 0 ? <p className="code">({failure.code})</p> : null}
    </div>
  );
}

export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'warn' | 'ok' }) {
  return (
    <div className={`note note-${tone}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/**
 * The three states of anything loaded: loading (first time only), error, or the content; `isEmpty`
 * shows the empty text instead of an empty table.
 */
export function DataState<T>({
  loaded,
  what,
  isEmpty,
  empty,
  children,
}: {
  loaded: { data: T | undefined; error: unknown; loading: boolean };
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (loaded.error) return <ErrorNote error={loaded.error} title={`Could not load ${what}.`} />;
  if (loaded.data === undefined) return <Loading what={what} />;
  if (isEmpty?.(loaded.data)) return <Empty>{empty ?? `No ${what} yet.`}</Empty>;
  return <>{children(loaded.data)}</>;
}
