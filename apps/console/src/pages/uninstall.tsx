import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { Dialog } from '../components/dialog';
import { ErrorNote } from '../components/feedback';
import { href, navigate } from '../router';
import { useApi } from '../use-api';

/** The tables an app's mappings write to (`responses.score` → `responses`), named in the purge warning. */
export function tablesOf(targets: readonly string[]): string[] {
  return [...new Set(targets.map((t) => t.split('.')[0] ?? t).filter(Boolean))].sort();
}

/**
 * Uninstalling, keep or purge: the dialog names exactly what a purge deletes before anything
 * happens, and the confirming button says which of the two it does.
 */
export function UninstallDialog({
  workspace,
  app,
  open,
  onClose,
}: {
  workspace: string;
  app: string;
  open: boolean;
  onClose(): void;
}) {
  const [purge, setPurge] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const mappings = useApi(
    () =>
      open
        ? unwrap(api.GET('/workspaces/{workspace}/apps/{app}/mappings', { params: { path: { workspace, app } } }))
        : Promise.resolve({ items: [], next: null }),
    ['uninstall-mappings', workspace, app, open],
  );
  const tables = tablesOf((mappings.data?.items ?? []).map((m) => m.target));

  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await unwrap(
        api.DELETE('/workspaces/{workspace}/apps/{app}', {
          params: { path: { workspace, app }, query: { purge: purge ? 'true' : 'false' } },
        }),
      );
      onClose();
      navigate(href(['w', workspace, 'apps']));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Uninstall ${app}`} open={open} onClose={onClose}>
      <fieldset>
        <legend>Its data</legend>
        <label className="inline">
          <input type="radio" name="uninstall-data" checked={!purge} onChange={() => setPurge(false)} />
          Keep the data
        </label>
        <label className="inline">
          <input type="radio" name="uninstall-data" checked={purge} onChange={() => setPurge(true)} />
          Delete the data (purge)
        </label>
      </fieldset>
      <div className={`note ${purge ? 'note-error' : 'note-info'}`} id="uninstall-consequences">
        {purge ? (
          <>
            <p>
              This deletes, in workspace <strong>{workspace}</strong>, everything {app} synced: its rows in the tables{' '}
              {tables.length > 0 ? tables.map((t, n) => <span key={t}>{n > 0 ? ', ' : ''}<code>{t}</code></span>) : 'of the app'}
              , the records its runs set aside, its sync position and its stored token.
            </p>
            <p>It cannot be undone. Profiles built on its data will find no members.</p>
          </>
        ) : (
          <p>
            Syncs and invoices stop. The data stays in your database, and installing {app} again with the same source picks
            it up where it stopped.
          </p>
        )}
      </div>
      <ErrorNote error={error} title="Nothing was uninstalled." />
      <div className="actions">
        <button type="button" className="danger" disabled={busy} aria-describedby="uninstall-consequences" onClick={() => void confirm()}>
          {purge ? `Uninstall and delete ${app}'s data` : `Uninstall ${app}, keep its data`}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
