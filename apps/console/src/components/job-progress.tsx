import { href } from '../router';
import { describeProgress, type Job } from '../use-job';
import { ErrorNote, Notice } from './feedback';

/** A sync or remap job as it runs: a progress bar while it runs, then its outcome in words. */
export function JobProgress({ job, error, workspace }: { job: Job | undefined; error: unknown; workspace: string }) {
  if (error) return <ErrorNote error={error} title="The job could not be followed." />;
  if (!job) return null;
  const what = job.kind === 'sync' ? 'Sync' : 'Remap';
  if (job.status === 'queued' || job.status === 'running') {
    const { done, total } = job.progress;
    return (
      <div className="job" role="status" aria-live="polite">
        <span>
          {what} {job.status === 'queued' ? 'queued' : 'running'}: {describeProgress(job)}
          {/* A queued job says why it waits (another sync of the app is running). */}
          {job.note ? <> ({job.note})</> : null}
        </span>
        <progress max={total ?? undefined} value={total !== undefined ? done : undefined} aria-label={`${what} progress`} />
      </div>
    );
  }
  if (job.status === 'failed')
    return (
      <div className="note note-error" role="alert">
        {what} failed: {job.error?.message ?? 'no reason given'} {job.error ? <span className="code">({job.error.code})</span> : null}
      </div>
    );
  return (
    <Notice tone={job.status === 'succeeded' ? 'ok' : 'warn'}>
      {what} {job.status === 'succeeded' ? 'finished' : 'was interrupted (its server stopped); start it again'}: {describeProgress(job)}.{' '}
      {job.note ? <span>{job.note} </span> : null}
      {job.runId ? <a href={href(['w', workspace, 'runs', job.runId])}>Open the run</a> : null}
    </Notice>
  );
}
