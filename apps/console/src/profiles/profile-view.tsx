import { useState } from 'react';
import { api, apiUrl, unwrap, type Schemas } from '../api/client';
import { BarChart } from '../components/bar-chart';
import { Dialog } from '../components/dialog';
import { DataState, ErrorNote, Notice } from '../components/feedback';
import { Pager } from '../components/pager';
import { formatDateTime, When } from '../components/time';
import { href, Link, navigate } from '../router';
import { allows, useSession } from '../session';
import { useApi } from '../use-api';
import { useDebounced } from './builder';

// One profile: what it means in words, who is in it now (searchable, paged), its export, and how
// it changed over time (recorded evaluations). Viewers read; marketers also run, edit, delete.

const MEMBERS_PER_PAGE = 25;

export function ProfileView({ workspace, name }: { workspace: string; name: string }) {
  const { roleIn } = useSession();
  const canChange = allows(roleIn(workspace), 'marketer');
  const profile = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/profiles/{name}', { params: { path: { workspace, name } } })),
    ['profile', workspace, name],
  );
  // Running records an evaluation: everything below loads again after it.
  const [generation, setGeneration] = useState(0);
  return (
    <>
      <p>
        <Link to={href(['w', workspace, 'profiles'])}>← Profiles</Link>
      </p>
      <h1>Profile “{name}”</h1>
      <DataState loaded={profile} what="the profile">
        {(p) => (
          <>
            <Definition profile={p} />
            {canChange ? (
              <Actions workspace={workspace} name={name} onRan={() => { profile.reload(); setGeneration((g) => g + 1); }} />
            ) : null}
            <Members workspace={workspace} name={name} generation={generation} canExport={canChange} />
            <History workspace={workspace} name={name} generation={generation} />
          </>
        )}
      </DataState>
    </>
  );
}

function Definition({ profile }: { profile: Schemas['Profile'] }) {
  return (
    <section aria-labelledby="definition-title">
      <h2 id="definition-title">Who is in it</h2>
      {profile.description ? <p>{profile.description}</p> : null}
      <p className="definition">{profile.conditions}</p>
      <dl className="facts">
        <dt>Looks at</dt>
        <dd>{profile.over === 'latest-response' ? "each customer's latest response only" : 'every response of a customer'}</dd>
        <dt>Apps</dt>
        <dd>{profile.app ?? 'every feedback app of the workspace'}</dd>
        <dt>Last evaluated</dt>
        <dd>
          {profile.lastEvaluation ? (
            <>
              <When value={profile.lastEvaluation.evaluatedAt} /> ({profile.lastEvaluation.memberCount} members)
            </>
          ) : (
            'not yet: run it, or wait for the next sync'
          )}
        </dd>
        <dt>Changed</dt>
        <dd>
          <When value={profile.updatedAt} />
        </dd>
      </dl>
    </section>
  );
}

function Actions({ workspace, name, onRan }: { workspace: string; name: string; onRan(): void }) {
  const [busy, setBusy] = useState<'run' | 'delete'>();
  const [error, setError] = useState<unknown>();
  const [ran, setRan] = useState<{ count: number; entered: number; left: number }>();
  const [confirming, setConfirming] = useState(false);
  const path = { workspace, name };

  async function run() {
    setBusy('run');
    setError(undefined);
    try {
      const result = await unwrap(api.POST('/workspaces/{workspace}/profiles/{name}/run', { params: { path, query: { limit: 0 } } }));
      setRan({ count: result.count, entered: result.entered.length, left: result.left.length });
      onRan();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(undefined);
    }
  }

  async function remove() {
    setBusy('delete');
    setError(undefined);
    try {
      await unwrap(api.DELETE('/workspaces/{workspace}/profiles/{name}', { params: { path } }));
      setConfirming(false);
      navigate(href(['w', workspace, 'profiles']));
    } catch (e) {
      setError(e);
      setConfirming(false);
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <section aria-label="Actions">
      <div className="actions">
        <button type="button" onClick={() => void run()} disabled={busy !== undefined}>
          {busy === 'run' ? 'Running…' : 'Run now'}
        </button>
        <Link className="button secondary" to={href(['w', workspace, 'profiles', name, 'edit'])}>
          Edit conditions
        </Link>
        <button type="button" className="danger" onClick={() => setConfirming(true)} disabled={busy !== undefined}>
          Delete…
        </button>
      </div>
      {ran ? (
        <Notice tone="ok">
          Evaluated and recorded: {ran.count} members, {ran.entered} entered and {ran.left} left since the previous evaluation.
        </Notice>
      ) : null}
      <ErrorNote error={error} />
      <Dialog title={`Delete profile “${name}”?`} open={confirming} onClose={() => setConfirming(false)}>
        <p>
          This deletes the profile and its whole history of who entered and left. The customers and their feedback stay.
          Destinations that send this profile stop receiving it.
        </p>
        <div className="actions">
          <button type="button" className="danger" onClick={() => void remove()} disabled={busy !== undefined}>
            {busy === 'delete' ? 'Deleting…' : `Delete “${name}”`}
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      </Dialog>
    </section>
  );
}

function Members({ workspace, name, generation, canExport }: { workspace: string; name: string; generation: number; canExport: boolean }) {
  const [search, setSearch] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const q = useDebounced(search.trim(), 300);
  const cursor = cursors[cursors.length - 1];
  const members = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/profiles/{name}/members', {
          params: { path: { workspace, name }, query: { limit: MEMBERS_PER_PAGE, ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['members', workspace, name, q, cursor, generation],
  );
  const exportPath = `/workspaces/${encodeURIComponent(workspace)}/profiles/${encodeURIComponent(name)}/export`;
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">
        Members now {members.data ? <span className="badge">{members.data.total}</span> : null}
      </h2>
      <div className="row">
        <label>
          <span>Search by e-mail</span>
          <input
            type="search"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setCursors([]);
            }}
          />
        </label>
        {canExport ? (
          <div className="actions">
            <a className="button secondary" href={apiUrl(exportPath, { format: 'csv' })} download>
              Download CSV
            </a>
            <a className="button secondary" href={apiUrl(exportPath, { format: 'json' })} download>
              Download JSON
            </a>
          </div>
        ) : null}
      </div>
      <DataState
        loaded={members}
        what="the members"
        isEmpty={(page) => page.items.length === 0}
        empty={q ? `No member's e-mail contains “${q}”.` : 'Nobody matches these conditions right now.'}
      >
        {(page) => (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Members table">
              <table>
                <caption className="visually-hidden">Members of {name}</caption>
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col">Customer id</th>
                    <th scope="col">App</th>
                    <th scope="col">Form</th>
                    <th scope="col" className="num">
                      Score
                    </th>
                    <th scope="col">Responded</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((m) => (
                    <tr key={m.email}>
                      <td>{m.email}</td>
                      <td>{m.customerId ?? '—'}</td>
                      <td>{m.app}</td>
                      <td>{m.formId ?? '—'}</td>
                      <td className="num">{m.score ?? '—'}</td>
                      <td>
                        <When value={m.respondedAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Members" cursors={cursors} next={page.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </section>
  );
}

/** The chart's bars: oldest evaluation first, each labelled with its time in the user's zone. */
export function historyBars(items: readonly { evaluatedAt: string; memberCount: number }[]) {
  return [...items].reverse().map((h) => ({ label: formatDateTime(h.evaluatedAt), value: h.memberCount }));
}

function History({ workspace, name, generation }: { workspace: string; name: string; generation: number }) {
  const history = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/profiles/{name}/history', { params: { path: { workspace, name }, query: { limit: 50 } } })),
    ['history', workspace, name, generation],
  );
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Entered and left</h2>
      <DataState
        loaded={history}
        what="the history"
        isEmpty={(page) => page.items.length === 0}
        empty="No evaluation recorded yet. Profiles are evaluated after every sync, or when you run them."
      >
        {(page) => (
          <>
            <BarChart title="Members at each evaluation" unit="members" bars={historyBars(page.items)} />
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Evaluations table">
              <table>
                <caption className="visually-hidden">Evaluations of {name}, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Evaluated</th>
                    <th scope="col" className="num">
                      Members
                    </th>
                    <th scope="col">Entered</th>
                    <th scope="col">Left</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((h) => (
                    <tr key={h.evaluationId}>
                      <td>
                        <When value={h.evaluatedAt} />
                      </td>
                      <td className="num">{h.memberCount}</td>
                      <td>
                        <EmailList emails={h.entered} />
                      </td>
                      <td>
                        <EmailList emails={h.left} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </DataState>
    </section>
  );
}

function EmailList({ emails }: { emails: readonly string[] }) {
  if (emails.length === 0) return <span>none</span>;
  return (
    <details>
      <summary>{emails.length === 1 ? '1 customer' : `${emails.length} customers`}</summary>
      <ul className="emails">
        {emails.map((e) => (
          <li key={e}>{e}</li>
        ))}
      </ul>
    </details>
  );
}
