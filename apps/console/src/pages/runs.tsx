import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { BarChart } from '../components/bar-chart';
import { DataState, ErrorNote } from '../components/feedback';
import { Pager } from '../components/pager';
import { formatDateTime, formatDuration, When } from '../components/time';
import { href, navigate } from '../router';
import { durationMs, filtersFromQuery, RUN_STATUSES, runsQuery, type RunFilters } from '../run-filters';
import { useApi } from '../use-api';
import { badgeOf } from './apps';

const PAGE = 50;

/** The run log: a timeline of runs with filters, and a chart of records per run with what was set aside. */
export function RunsPage({ workspace, query }: { workspace: string; query?: URLSearchParams; [key: string]: unknown }) {
  const filters = filtersFromQuery(query ?? new URLSearchParams());
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const runs = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/runs', {
          params: { path: { workspace }, query: { ...runsQuery(filters), limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['runs', workspace, filters, cursor],
  );
  const setFilter = (change: Partial<RunFilters>) => {
    setCursors([]);
    const next = { ...filters, ...change };
    navigate(href(['w', workspace, 'runs'], { status: next.status, from: next.from, to: next.to, app: next.app }));
  };

  return (
    <>
      <h1>Run log</h1>
      <form className="row filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={filters.status ?? ''} onChange={(e) => setFilter({ status: (e.target.value || undefined) as RunFilters['status'] })}>
            <option value="">Any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={filters.from ?? ''} onChange={(e) => setFilter({ from: e.target.value || undefined })} />
        </label>
        <label>
          To
          <input type="date" value={filters.to ?? ''} onChange={(e) => setFilter({ to: e.target.value || undefined })} />
        </label>
        {filters.app ? (
          <p>
            App {filters.app}{' '}
            <button type="button" className="secondary" onClick={() => setFilter({ app: undefined })}>
              Show every app
            </button>
          </p>
        ) : null}
      </form>
      <DataState loaded={runs} what="the runs" isEmpty={(d) => d.items.length === 0} empty="No run matches these filters yet.">
        {(data) => (
          <>
            <BarChart
              title="Records per run (rejected in red), oldest left"
              unit="records"
              bars={[...data.items].reverse().map((r) => ({
                label: `${formatDateTime(r.startedAt)} ${r.app}${r.status === 'failed' ? ' (failed)' : ''}`,
                value: r.fetched,
                alert: r.rejected,
              }))}
            />
            <div className="table-wrap" tabIndex={0} role="region" aria-label={`Runs, newest first`}>
              <table>
                <caption className="sr-only">Runs, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">App</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">Fetched</th>
                    <th scope="col" className="num">New</th>
                    <th scope="col" className="num">Unchanged</th>
                    <th scope="col" className="num">Rejected</th>
                    <th scope="col" className="num">Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((r) => (
                    <tr key={r.id}>
                      <th scope="row">
                        <a href={href(['w', workspace, 'runs', r.id])} aria-label={`Run of ${formatDateTime(r.startedAt)}, ${r.app}`}>
                          <When value={r.startedAt} />
                        </a>
                      </th>
                      <td>{r.app}</td>
                      <td>
                        <span className={`badge ${badgeOf(r.status)}`}>{r.status}</span>
                        {r.errorCode ? <span className="muted"> {r.errorCode}</span> : null}
                      </td>
                      <td className="num">{r.fetched}</td>
                      <td className="num">{r.inserted}</td>
                      <td className="num">{r.unchanged}</td>
                      <td className="num">{r.rejected}</td>
                      <td className="num">{formatDuration(durationMs(r))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Runs" cursors={cursors} next={data.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </>
  );
}

/** One run: its counts, error and warnings, every customer it saved, and the records it set aside. */
export function RunPage({ workspace, runId }: { workspace: string; runId: string; [key: string]: unknown }) {
  const run = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/runs/{runId}', { params: { path: { workspace, runId } } })),
    ['run', workspace, runId],
  );
  return (
    <>
      <p>
        <a href={href(['w', workspace, 'runs'])}>← Run log</a>
      </p>
      <DataState loaded={run} what="the run">
        {(r) => (
          <>
            <h1>
              Run of <When value={r.startedAt} /> — {r.app}
            </h1>
            <dl className="facts">
              <dt>Status</dt>
              <dd>
                <span className={`badge ${badgeOf(r.status)}`}>{r.status}</span>
              </dd>
              <dt>Finished</dt>
              <dd>
                <When value={r.finishedAt} /> ({formatDuration(durationMs(r))})
              </dd>
              <dt>Records</dt>
              <dd>
                {r.fetched} fetched, {r.inserted} new, {r.unchanged} unchanged, {r.rejected} rejected
              </dd>
              <dt>Customers saved</dt>
              <dd>{r.savedTotal}</dd>
            </dl>
            {r.error ? <ErrorNote error={new Error(`${r.error}${r.errorCode ? ` (${r.errorCode})` : ''}`)} title="The run failed:" /> : null}
            {r.warnings.length > 0 ? (
              <div className="note note-warn" role="status">
                <strong>Warnings</strong>
                <ul>
                  {r.warnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              </div>
            ) : null}
            <SavedCustomers workspace={workspace} runId={runId} />
            <RejectedRecords workspace={workspace} runId={runId} />
          </>
        )}
      </DataState>
    </>
  );
}

function fieldText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function SavedCustomers({ workspace, runId }: { workspace: string; runId: string }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/runs/{runId}/customers', {
          params: { path: { workspace, runId }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['run-customers', workspace, runId, cursor],
  );
  return (
    <section aria-labelledby="saved-heading">
      <h2 id="saved-heading">Customers saved {page.data ? <span className="count-inline">({page.data.total})</span> : null}</h2>
      <DataState loaded={page} what="the customers saved" isEmpty={(d) => d.items.length === 0} empty="This run saved no customer.">
        {(data) => (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label={`Customers this run saved, with their feedback`}>
              <table>
                <caption className="sr-only">Customers this run saved, with their feedback</caption>
                <thead>
                  <tr>
                    <th scope="col">Customer</th>
                    <th scope="col">Form</th>
                    <th scope="col">Feedback</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((c) => {
                    const item = c as { seq: number; key?: string; contact?: string; label?: string; fields?: Record<string, unknown> };
                    return (
                      <tr key={item.seq}>
                        <th scope="row">{item.contact ?? item.key ?? '—'}</th>
                        <td>{item.label ?? '—'}</td>
                        <td>
                          {item.fields
                            ? Object.entries(item.fields).map(([k, v]) => (
                                <span key={k} className="field">
                                  {k}: {fieldText(v)}{' '}
                                </span>
                              ))
                            : '—'}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pager label="Customers saved" cursors={cursors} next={data.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </section>
  );
}

function RejectedRecords({ workspace, runId }: { workspace: string; runId: string }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/runs/{runId}/rejected', {
          params: { path: { workspace, runId }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['run-rejected', workspace, runId, cursor],
  );
  return (
    <section aria-labelledby="rejected-heading">
      <h2 id="rejected-heading">Rejected records {page.data ? <span className="count-inline">({page.data.total})</span> : null}</h2>
      <DataState loaded={page} what="the rejected records" isEmpty={(d) => d.items.length === 0} empty="This run rejected no record.">
        {(data) => (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label={`Records this run set aside, with the reason and the raw record`}>
              <table>
                <caption className="sr-only">Records this run set aside, with the reason and the raw record</caption>
                <thead>
                  <tr>
                    <th scope="col">Record</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Raw record</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((r) => (
                    <tr key={r.seq}>
                      <th scope="row">{r.sourceId ?? '—'}</th>
                      <td>{r.reason}</td>
                      <td>
                        <details>
                          <summary>Show the raw record{r.sourceId ? ` ${r.sourceId}` : ''}</summary>
                          <pre>{JSON.stringify(r.raw, null, 2)}</pre>
                        </details>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Rejected records" cursors={cursors} next={data.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </section>
  );
}
