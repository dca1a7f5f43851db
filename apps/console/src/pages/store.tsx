import { useMemo, useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { Dialog } from '../components/dialog';
import { DataState, ErrorNote, Notice } from '../components/feedback';
import { SettingsFields } from '../components/settings-form';
import { pricingLines } from '../format';
import { href } from '../router';
import { settingFields, settingsFromForm, type FormValues } from '../schema-fields';
import { allows, useSession } from '../session';
import { useApi } from '../use-api';

type Connector = Schemas['Connector'];

/** The app store: a card per connector, with an install dialog for administrators. */
export function StorePage({ workspace }: { workspace: string; [key: string]: unknown }) {
  const { roleIn } = useSession();
  const admin = allows(roleIn(workspace), 'admin');
  const connectors = useApi(() => unwrap(api.GET('/connectors', { params: { query: { limit: 100 } } })), ['connectors']);
  const apps = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/apps', { params: { path: { workspace }, query: { limit: 500 } } })),
    ['apps', workspace],
  );
  const [installing, setInstalling] = useState<Connector>();
  const [installed, setInstalled] = useState<{ app: string; name: string; notes: string[] }>();
  const active = new Set((apps.data?.items ?? []).filter((i) => i.status === 'active').map((i) => i.app));

  return (
    <>
      <h1>App store</h1>
      <p>Apps bring survey responses into your database. Installing one checks its settings against the source first.</p>
      {installed ? (
        <Notice tone="ok">
          {installed.name} is installed. {installed.notes.join(' ')}{' '}
          <a href={href(['w', workspace, 'apps', installed.app])}>Open {installed.name}</a>
        </Notice>
      ) : null}
      <DataState loaded={connectors} what="the apps" isEmpty={(d) => d.items.length === 0} empty="This server has no apps to install.">
        {(data) => (
          <ul className="cards" aria-label="Apps">
            {data.items.map((c) => (
              <li key={c.id} className="card">
                <h2>{c.name}</h2>
                <p>{c.description ?? 'No description.'}</p>
                <p className="muted">Version {c.version}</p>
                <ul className="plain" aria-label={`${c.name} pricing`}>
                  {pricingLines(c.pricing).map((line) => (
                    <li key={line}>{line}</li>
                  ))}
                </ul>
                <div className="actions">
                  {active.has(c.id) ? (
                    <a href={href(['w', workspace, 'apps', c.id])}>
                      <span className="badge ok">Installed</span> Open {c.name}
                    </a>
                  ) : admin ? (
                    <button type="button" onClick={() => setInstalling(c)} aria-label={`Install ${c.name}`}>
                      Install
                    </button>
                  ) : (
                    <span className="muted">Ask an administrator to install it.</span>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </DataState>
      <Dialog title={installing ? `Install ${installing.name}` : 'Install'} open={installing !== undefined} onClose={() => setInstalling(undefined)}>
        {installing ? (
          <InstallForm
            workspace={workspace}
            connector={installing}
            onCancel={() => setInstalling(undefined)}
            onInstalled={(notes) => {
              setInstalled({ app: installing.id, name: installing.name, notes });
              setInstalling(undefined);
              apps.reload();
            }}
          />
        ) : null}
      </Dialog>
    </>
  );
}

/**
 * The install dialog's form, generated from the connector's settings schema: "Check connection"
 * runs the source's check and shows its notes, nothing saved; "Install" then saves.
 */
export function InstallForm({
  workspace,
  connector,
  onInstalled,
  onCancel,
}: {
  workspace: string;
  connector: Connector;
  onInstalled(notes: string[]): void;
  onCancel(): void;
}) {
  const fields = useMemo(() => settingFields(connector.config, connector.secretFields), [connector]);
  const [values, setValues] = useState<FormValues>({});
  const [plan, setPlan] = useState<'monthly' | 'yearly'>('monthly');
  const [poNumber, setPoNumber] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [checked, setChecked] = useState<string[]>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const app = connector.id;

  const change = (name: string, value: string | boolean) => {
    setValues((v) => ({ ...v, [name]: value }));
    // A check answers for the settings it was given: any change needs a new one.
    setChecked(undefined);
  };

  const read = () => {
    const { config, problems: found } = settingsFromForm(fields, values);
    setProblems(found);
    return Object.keys(found).length === 0 ? config : undefined;
  };

  const check = async (event: FormEvent) => {
    event.preventDefault();
    const config = read();
    if (!config) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await unwrap(
        api.POST('/workspaces/{workspace}/apps/{app}/check', { params: { path: { workspace, app } }, body: { config } }),
      );
      setChecked(answer.notes);
    } catch (failure) {
      setError(failure);
      setChecked(undefined);
    } finally {
      setBusy(false);
    }
  };

  const install = async () => {
    const config = read();
    if (!config) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await unwrap(
        api.POST('/workspaces/{workspace}/apps/{app}', {
          params: { path: { workspace, app } },
          body: { config, billing: { plan, ...(poNumber.trim() ? { poNumber: poNumber.trim() } : {}) } },
        }),
      );
      onInstalled(answer.notes);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void check(e)} noValidate>
      <fieldset>
        <legend>Settings</legend>
        <SettingsFields idPrefix={`install-${app}`} fields={fields} values={values} problems={problems} onChange={change} />
      </fieldset>
      <fieldset>
        <legend>Billing</legend>
        <div className="row" role="radiogroup" aria-label="Plan">
          {(['monthly', 'yearly'] as const).map((p) => (
            <label key={p} className="inline">
              <input type="radio" name={`plan-${app}`} value={p} checked={plan === p} onChange={() => setPlan(p)} />
              {p === 'monthly' ? 'Monthly' : 'Yearly'}
            </label>
          ))}
        </div>
        <label>
          PO number
          <input value={poNumber} onChange={(e) => setPoNumber(e.target.value)} maxLength={100} autoComplete="off" />
          <span className="help">Printed on the invoices, when your company needs one.</span>
        </label>
      </fieldset>
      <ErrorNote error={error} title="Nothing was saved." />
      {checked ? (
        <Notice tone="ok">
          <strong>The connection works.</strong>
          {checked.length > 0 ? (
            <ul aria-label="Connection check notes">
              {checked.map((note) => (
                <li key={note}>{note}</li>
              ))}
            </ul>
          ) : null}
        </Notice>
      ) : null}
      <div className="actions">
        <button type="submit" className={checked ? 'secondary' : undefined} disabled={busy}>
          {busy && !checked ? 'Checking…' : 'Check connection'}
        </button>
        <button type="button" disabled={busy || !checked} onClick={() => void install()}>
          {busy && checked ? 'Installing…' : 'Install'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {!checked ? <p className="help">Check the connection first: nothing is saved until you install.</p> : null}
    </form>
  );
}
