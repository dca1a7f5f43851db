import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, unwrap, type Schemas } from './api/client';

export type Job = Schemas['Job'];

// A job whose server died reads `interrupted`: finished too, as far as waiting for it goes.
const FINISHED = new Set<Job['status']>(['succeeded', 'failed', 'interrupted']);
// Often enough to look live, rarely enough to leave the server alone while a sync runs for minutes.
const POLL_MS = 700;

export function jobFinished(job: Job): boolean {
  return FINISHED.has(job.status);
}

/** "120 of 400 records" or "120 records", for a job's progress. */
export function describeProgress(job: Job): string {
  const { done, total } = job.progress;
  return total !== undefined ? `${done} of ${total} records` : `${done} record${done === 1 ? '' : 's'}`;
}

/**
 * Starts a sync or remap job and follows it until it finishes (GET jobs/:id), so that a page can
 * show its progress live; `onDone` runs once, when it has finished.
 */
export function useJob(workspace: string, onDone?: (job: Job) => void) {
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<unknown>();
  const done = useRef(onDone);
  done.current = onDone;

  useEffect(() => {
    if (!job || jobFinished(job)) return;
    let live = true;
    const timer = setTimeout(() => {
      unwrap(api.GET('/workspaces/{workspace}/jobs/{id}', { params: { path: { workspace, id: job.id } } }))
        .then((next) => {
          if (!live) return;
          setJob(next);
          if (jobFinished(next)) done.current?.(next);
        })
        .catch((failure: unknown) => live && setError(failure instanceof ApiError ? failure : new ApiError(0, 'NETWORK', String(failure))));
    }, POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [job, workspace]);

  const start = useCallback(async (begin: () => Promise<Job>) => {
    setError(undefined);
    setJob(undefined);
    try {
      const first = await begin();
      setJob(first);
      if (jobFinished(first)) done.current?.(first);
    } catch (failure) {
      setError(failure);
    }
  }, []);

  const running = job !== undefined && !jobFinished(job);
  return { job, error, running, start };
}
