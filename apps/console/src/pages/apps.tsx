import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { DataState, ErrorNote, Notice } from '../components/feedback';
import { JobProgress } from '../components/job-progress';
import { When } from '../components/time';
import { href } from '../router';
import { fieldLabel } from '../schema-fields';
import { allows, useSession } from '../session';
import { useApi } from '../use-api';
import { useJob } from '../use-job';
import { UninstallDialog } from './uninstall';

type Installation = Schemas['Installation'];

/** Days left at which the token's expiry is worth a warning (the doctor uses the same two weeks). */
export const TOKEN_WARNING_DAYS = 14;

/** The installed apps of a workspace, active and uninstalled. */
export function AppsPage({ workspace }: { workspace: string; [key: string]: unknown }) {
  const apps = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/apps', { params: { path: { workspace }, query: { limit: 500 } } })),
    ['apps', workspace],
  );
  return (
    <>
      <h1>Installed apps</h1>
      <DataState
        loaded={apps}
        what="the installed apps"
        isEmpty={(d) => d.items.length === 0}
        empty={
          <>
            No app is installed yet. <a href={href(['w', workspace, 'store'])}>Open the app store</a>.
          </>
        }
      >
        {(data) => (
          <div className="table-wrap" tabIndex={0} role="region" aria-label={`Installed apps`}>
            <table>
              <caption className="sr-only">Installed apps</caption>
              <thead>
                <tr>
                  <th scope="col">App</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Next run</th>
                  <th scope="col">Token</th>
                  <th scope="col">Plan</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((i) => (
                  <AppRow key={i.id} workspace={workspace} installation={i} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </DataState>
    </>
  );
}

function AppRow({ workspace, installation }: { workspace: string; installation: Installation }) {
  const active = installation.status === 'active';
  return (
    <tr>
      <th scope="row">
        {active ? <a href={href(['w', workspace, 'apps', installation.app])}>{installation.app}</a> : installation.app}
      </th>
      <td>
        <span className={`badge ${active ? 'ok' : ''}`}>{installation.status}</span>
        {!active && installation.uninstalledAt ? (
          <>
            {' '}
            since <When value={installation.uninstalledAt} />
            {installation.purgedAt ? ', data deleted' : ', data kept'}
          </>
        ) : null}
      </td>
      {active ? <StatusCells workspace={workspace} app={installation.app} /> : <td colSpan={3}>—</td>}
      <td>{installation.billing?.plan ?? '—'}</td>
    </tr>
  );
}

function StatusCells({ workspace, app }: { workspace: string; app: string }) {
  const status = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/apps/{app}/status', { params: { path: { workspace, app } } })),
    ['app-status', workspace, app],
  );
  if (!status.data) return <td colSpan={3}>{status.error ? 'Status not available.' : 'Loading…'}</td>;
  const { lastRun, nextRunAt, token } = status.data;
  return (
    <>
      <td>
        {lastRun ? (
          <a href={href(['w', workspace, 'runs', lastRun.id])}>
            <When value={lastRun.startedAt} /> <span className={`badge ${badgeOf(lastRun.status)}`}>{lastRun.status}</span>
          </a>
        ) : (
          'Never'
        )}
      </td>
      <td>{nextRunAt ? <When value={nextRunAt} /> : "At the runner's next tick"}</td>
      <td>
        <TokenText token={token} />
      </td>
    </>
  );
}

export function badgeOf(status: string): string {
  if (status === 'succeeded') return 'ok';
  if (status === 'failed' || status === 'abandoned') return 'failed';
  return 'warn';
}

function TokenText({ token }: { token: { expiresAt: string | null; daysLeft: number | null; problem: string | null } }) {
  if (token.problem) return <span className="badge failed">Needs a new token</span>;
  if (token.daysLeft === null) return <span>Does not expire</span>;
  return (
    <span className={token.daysLeft <= TOKEN_WARNING_DAYS ? 'badge warn' : undefined}>
      Expires <When value={token.expiresAt} /> ({token.daysLeft} day{token.daysLeft === 1 ? '' : 's'} left)
    </span>
  );
}

/** One installed app: status, sync now, token, billing and uninstall (the controls for administrators only). */
export function AppPage({ workspace, app }: { workspace: string; app: string; [key: string]: unknown }) {
  const { roleIn } = useSession();
  const admin = allows(roleIn(workspace), 'admin');
  const installation = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/apps/{app}', { params: { path: { workspace, app } } })),
    ['app', workspace, app],
  );
  const status = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/apps/{app}/status', { params: { path: { workspace, app } } })),
    ['app-status', workspace, app],
  );
  const connector = useApi(
    () => unwrap(api.GET('/connectors/{app}', { params: { path: { app } } })),
    ['connector', app],
  );
  // Only an app with exactly one secret has "a token" to replace (the API refuses the others).
  const [secret, ...others] = connector.data?.secretFields ?? [];
  const sync = useJob(workspace, () => status.reload());
  const [uninstalling, setUninstalling] = useState(false);

  return (
    <>
      <h1>{app}</h1>
      <p>
        <a href={href(['w', workspace, 'apps', app, 'mappings'])}>Data mappings</a> ·{' '}
        <a href={href(['w', workspace, 'runs'], { app })}>Run log</a>
      </p>
      <DataState loaded={installation} what={`the app ${app}`}>
        {(i) => (
          <>
            <section aria-labelledby="status-heading">
              <h2 id="status-heading">Status</h2>
              <DataState loaded={status} what="its status">
                {(s) => (
                  <>
                    {s.token.problem ? (
                      <Notice tone="warn">
                        {s.token.problem} {admin ? 'Replace the token below.' : 'Ask an administrator to replace the token.'}
                      </Notice>
                    ) : s.token.daysLeft !== null && s.token.daysLeft <= TOKEN_WARNING_DAYS ? (
                      <Notice tone="warn">
                        The token expires in {s.token.daysLeft} day{s.token.daysLeft === 1 ? '' : 's'}.{' '}
                        {admin ? 'Replace it below before then.' : 'Ask an administrator to replace it.'}
                      </Notice>
                    ) : null}
                    <dl className="facts">
                      <dt>Status</dt>
                      <dd>
                        <span className="badge ok">{i.status}</span> since <When value={i.installedAt} />
                      </dd>
                      <dt>Last run</dt>
                      <dd>
                        {s.lastRun ? (
                          <a href={href(['w', workspace, 'runs', s.lastRun.id])}>
                            <When value={s.lastRun.startedAt} /> — {s.lastRun.status}
                            {s.lastRun.errorCode ? ` (${s.lastRun.errorCode})` : ''}
                          </a>
                        ) : (
                          'Never synced yet'
                        )}
                      </dd>
                      <dt>Next run</dt>
                      <dd>{s.nextRunAt ? <When value={s.nextRunAt} /> : "At the runner's next tick"}</dd>
                      <dt>Token</dt>
                      <dd>
                        <TokenText token={s.token} />
                      </dd>
                      <dt>Version</dt>
                      <dd>{i.connectorVersion ?? '—'}</dd>
                    </dl>
                  </>
                )}
              </DataState>
              {admin ? (
                <div className="actions">
                  <button
                    type="button"
                    disabled={sync.running}
                    onClick={() =>
                      void sync.start(() =>
                        unwrap(api.POST('/workspaces/{workspace}/apps/{app}/sync', { params: { path: { workspace, app } } })),
                      )
                    }
                  >
                    {sync.running ? 'Syncing…' : 'Sync now'}
                  </button>
                </div>
              ) : null}
              <JobProgress job={sync.job} error={sync.error} workspace={workspace} />
            </section>
            <section aria-labelledby="settings-heading">
              <h2 id="settings-heading">Settings</h2>
              <dl className="facts">
                {Object.entries(i.settings).map(([key, value]) => (
                  <div key={key} className="fact">
                    <dt>{key}</dt>
                    <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
                  </div>
                ))}
              </dl>
              {admin && secret !== undefined && others.length === 0 ? (
                <TokenForm workspace={workspace} app={app} label={`New ${fieldLabel(secret)}`} onReplaced={() => status.reload()} />
              ) : null}
            </section>
            <section aria-labelledby="billing-heading">
              <h2 id="billing-heading">Billing</h2>
              {admin ? (
                <BillingForm workspace={workspace} app={app} installation={i} onSaved={() => installation.reload()} />
              ) : (
                <p>
                  Plan: {i.billing?.plan ?? '—'}
                  {i.billing?.poNumber ? `, PO number ${i.billing.poNumber}` : ''}
                </p>
              )}
            </section>
            {admin ? (
              <section aria-labelledby="uninstall-heading">
                <h2 id="uninstall-heading">Uninstall</h2>
                <p>Stops its syncs and invoices. You choose whether its data stays.</p>
                <button type="button" className="danger" onClick={() => setUninstalling(true)}>
                  Uninstall {app}
                </button>
                <UninstallDialog workspace={workspace} app={app} open={uninstalling} onClose={() => setUninstalling(false)} />
              </section>
            ) : null}
          </>
        )}
      </DataState>
    </>
  );
}

function TokenForm({ workspace, app, label, onReplaced }: { workspace: string; app: string; label: string; onReplaced(): void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [notes, setNotes] = useState<string[]>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setNotes(undefined);
    try {
      const answer = await unwrap(
        api.PUT('/workspaces/{workspace}/apps/{app}/token', { params: { path: { workspace, app } }, body: { token } }),
      );
      setNotes(answer.notes);
      onReplaced();
    } catch (failure) {
      setError(failure);
    } finally {
      // The token leaves the page either way: it is never shown back.
      setToken('');
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)}>
      <h3>Replace the token</h3>
      <div className="field-block">
        <label htmlFor="replace-token">{label}</label>
        <input
          id="replace-token"
          type="password"
          autoComplete="new-password"
          required
          aria-describedby="replace-token-help"
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <span className="help" id="replace-token-help">
          Checked against the source before it is saved.
        </span>
      </div>
      <ErrorNote error={error} title="The token was not replaced." />
      {notes ? <Notice tone="ok">The token is replaced. {notes.join(' ')}</Notice> : null}
      <div className="actions">
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Checking…' : 'Replace token'}
        </button>
      </div>
    </form>
  );
}

function BillingForm({
  workspace,
  app,
  installation,
  onSaved,
}: {
  workspace: string;
  app: string;
  installation: Installation;
  onSaved(): void;
}) {
  const [plan, setPlan] = useState<'monthly' | 'yearly'>(installation.billing?.plan === 'yearly' ? 'yearly' : 'monthly');
  const [poNumber, setPoNumber] = useState(installation.billing?.poNumber ?? '');
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      await unwrap(
        api.PUT('/workspaces/{workspace}/apps/{app}/billing', {
          params: { path: { workspace, app } },
          body: { plan, ...(poNumber.trim() ? { poNumber: poNumber.trim() } : {}) },
        }),
      );
      setSaved(true);
      onSaved();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)}>
      <fieldset>
        <legend>Plan</legend>
        {(['monthly', 'yearly'] as const).map((p) => (
          <label key={p} className="inline">
            <input type="radio" name="billing-plan" value={p} checked={plan === p} onChange={() => setPlan(p)} />
            {p === 'monthly' ? 'Monthly' : 'Yearly'}
          </label>
        ))}
      </fieldset>
      <label>
        PO number
        <input value={poNumber} maxLength={100} onChange={(e) => setPoNumber(e.target.value)} autoComplete="off" />
      </label>
      <ErrorNote error={error} title="Billing was not changed." />
      {saved ? <Notice tone="ok">Saved: it applies from the next billing period.</Notice> : null}
      <div className="actions">
        <button type="submit">Save billing</button>
      </div>
    </form>
  );
}
