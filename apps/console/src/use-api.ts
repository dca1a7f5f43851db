import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Loads again (after a change, or on a timer for live pages). */
  reload(): void;
}

/**
 * Loads something from the API when `key` changes; a stale answer (from a previous key) is dropped,
 * so a quick change of filters never shows the older result.
 */
export function useApi<T>(load: () => Promise<T>, key: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const serial = JSON.stringify(key);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    loadRef
      .current()
      .then((data) => live && setState({ data, loading: false }))
      .catch((error: unknown) => {
        if (!live) return;
        const failure =
          error instanceof ApiError ? error : new ApiError(0, 'CONSOLE_BUG', error instanceof Error ? error.message : String(error));
        setState({ error: failure, loading: false });
      });
    return () => {
      live = false;
    };
  }, [serial, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
