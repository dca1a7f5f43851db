import { Fragment, useState, type FormEvent } from 'react';
import { api, ApiError, unwrap, type Schemas } from '../api/client';
import type { paths } from '../api/schema';
import { DataState, ErrorNote, Notice } from '../components/feedback';
import { JobProgress } from '../components/job-progress';
import { href } from '../router';
import { allows, useSession } from '../session';
import { useApi } from '../use-api';
import { useJob } from '../use-job';

type Mapping = Schemas['Mapping'];
type EditResult = { summary: string; profilesThatStopWorking: string[] | null };

// The API's enums, repeated for the selects; `satisfies` makes the type check fail when they drift.
type SetBody = NonNullable<paths['/workspaces/{workspace}/apps/{app}/mappings/add']['post']['requestBody']>['content']['application/json'];
export const TRANSFORMS = ['none', 'string', 'integer', 'number', 'boolean', 'email', 'timestamp', 'json'] as const satisfies readonly NonNullable<SetBody['transform']>[];
export const COLUMN_TYPES = ['text', 'integer', 'bigint', 'numeric', 'boolean', 'timestamp', 'json'] as const satisfies readonly SetBody['type'][];

/** A refusal as the console explains it: the API's hint speaks of the CLI's --force, the page has a button. */
export function explainRefusal(error: unknown): { error: unknown; forceable: boolean } {
  if (error instanceof ApiError && error.code === 'MAPPING_IN_USE')
    return {
      error: new ApiError(error.status, error.code, error.message, 'To make the change anyway, press “Change it anyway”: the profiles named above then stop finding members.'),
      forceable: true,
    };
  return { error, forceable: false };
}

/** The data mappings of an app: source field → column, with transform and state; edits for administrators. */
export function MappingsPage({ workspace, app }: { workspace: string; app: string; [key: string]: unknown }) {
  const { roleIn } = useSession();
  const admin = allows(roleIn(workspace), 'admin');
  const mappings = useApi(
    () => unwrap(api.GET('/workspaces/{workspace}/apps/{app}/mappings', { params: { path: { workspace, app } } })),
    ['mappings', workspace, app],
  );
  const [editing, setEditing] = useState<string>();
  const [result, setResult] = useState<EditResult>();
  const [refusal, setRefusal] = useState<{ key: string; error: unknown; retry?: () => Promise<EditResult> }>();
  const remap = useJob(workspace);
  const path = { params: { path: { workspace, app } } };

  /** Runs an edit; a refusal stays next to the row (or form) it came from, with a forced retry when that is allowed. */
  const run = async (key: string, edit: (force: boolean) => Promise<EditResult>) => {
    setResult(undefined);
    setRefusal(undefined);
    try {
      setResult(await edit(false));
      setEditing(undefined);
      mappings.reload();
    } catch (failure) {
      const { error, forceable } = explainRefusal(failure);
      setRefusal({ key, error, ...(forceable ? { retry: () => edit(true) } : {}) });
    }
  };
  const force = async () => {
    if (!refusal?.retry) return;
    const retry = refusal.retry;
    const key = refusal.key;
    setRefusal(undefined);
    try {
      setResult(await retry());
      setEditing(undefined);
      mappings.reload();
    } catch (failure) {
      setRefusal({ key, error: failure });
    }
  };
  const refusalFor = (key: string) =>
    refusal?.key === key ? (
      <div className="inline-refusal">
        <ErrorNote error={refusal.error} title="Not changed." />
        {refusal.retry ? (
          <button type="button" className="danger" onClick={() => void force()}>
            Change it anyway
          </button>
        ) : null}
      </div>
    ) : null;

  return (
    <>
      <p>
        <a href={href(['w', workspace, 'apps', app])}>← {app}</a>
      </p>
      <h1>Data mappings of {app}</h1>
      <p>Each source field of a response feeds a column of your database, converted by its transform.</p>
      {result ? (
        <Notice tone={result.profilesThatStopWorking ? 'warn' : 'ok'}>
          {result.summary}
          {result.profilesThatStopWorking && result.profilesThatStopWorking.length > 0
            ? ` Profiles that stop working: ${result.profilesThatStopWorking.join(', ')}.`
            : ''}{' '}
          {admin ? 'Stored responses keep their old values until you remap them.' : ''}
        </Notice>
      ) : null}
      <DataState loaded={mappings} what="the mappings" isEmpty={(d) => d.items.length === 0} empty="This app has no mappings.">
        {(data) => (
          <div className="table-wrap" tabIndex={0} role="region" aria-label={`Data mappings of ${app}`}>
            <table>
              <caption className="sr-only">Data mappings of {app}</caption>
              <thead>
                <tr>
                  <th scope="col">Source field</th>
                  <th scope="col">Column</th>
                  <th scope="col">Type</th>
                  <th scope="col">Transform</th>
                  <th scope="col">State</th>
                  {admin ? <th scope="col">Change</th> : null}
                </tr>
              </thead>
              <tbody>
                {data.items.map((m) => {
                  const key = `${m.target}|${m.source}`;
                  return (
                    <Fragment key={key}>
                      <tr>
                        <td>
                          <code>{m.source}</code>
                        </td>
                        <th scope="row">
                          <code>{m.target}</code>
                        </th>
                        <td>{m.type}</td>
                        <td>{m.transform}</td>
                        <td>
                          <span className={`badge ${m.state === 'off' ? 'warn' : m.state === 'default' ? '' : 'ok'}`}>{m.state}</span>
                        </td>
                        {admin ? (
                          <td>
                            <div className="actions">
                              <button type="button" className="secondary" aria-expanded={editing === key} onClick={() => setEditing(editing === key ? undefined : key)} aria-label={`Change ${m.target}`}>
                                Change
                              </button>
                              <button
                                type="button"
                                className="secondary"
                                aria-label={`${m.enabled ? 'Switch off' : 'Switch on'} ${m.target}`}
                                onClick={() =>
                                  void run(key, (f) =>
                                    unwrap(
                                      m.enabled
                                        ? api.POST('/workspaces/{workspace}/apps/{app}/mappings/disable', { ...path, body: { column: m.target, source: m.source, force: f } })
                                        : api.POST('/workspaces/{workspace}/apps/{app}/mappings/enable', { ...path, body: { column: m.target, source: m.source, force: f } }),
                                    ),
                                  )
                                }
                              >
                                {m.enabled ? 'Switch off' : 'Switch on'}
                              </button>
                            </div>
                          </td>
                        ) : null}
                      </tr>
                      {admin && (editing === key || refusal?.key === key) ? (
                        <tr>
                          <td colSpan={6}>
                            {editing === key ? (
                              <ChangeForm
                                mapping={m}
                                onSubmit={(edit) =>
                                  run(key, (f) =>
                                    unwrap(api.POST('/workspaces/{workspace}/apps/{app}/mappings/set', { ...path, body: { column: m.target, ...edit, force: f } })),
                                  )
                                }
                                onCancel={() => setEditing(undefined)}
                              />
                            ) : null}
                            {refusalFor(key)}
                          </td>
                        </tr>
                      ) : null}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </DataState>
      {admin ? (
        <>
          <AddForm onSubmit={(body) => run('add', () => unwrap(api.POST('/workspaces/{workspace}/apps/{app}/mappings/add', { ...path, body })))} />
          {refusalFor('add')}
          <section aria-labelledby="reset-heading">
            <h2 id="reset-heading">Reset and remap</h2>
            <p>Reset puts back the mappings the app comes with. Remap applies the current mappings to every stored response.</p>
            <div className="actions">
              <button type="button" className="secondary" onClick={() => void run('reset', () => unwrap(api.POST('/workspaces/{workspace}/apps/{app}/mappings/reset', path)))}>
                Reset to the defaults
              </button>
              <button
                type="button"
                disabled={remap.running}
                onClick={() => void remap.start(() => unwrap(api.POST('/workspaces/{workspace}/apps/{app}/remap', path)))}
              >
                {remap.running ? 'Remapping…' : 'Remap stored responses'}
              </button>
            </div>
            {refusalFor('reset')}
            <JobProgress job={remap.job} error={remap.error} workspace={workspace} />
          </section>
        </>
      ) : null}
    </>
  );
}

function ChangeForm({
  mapping,
  onSubmit,
  onCancel,
}: {
  mapping: Mapping;
  onSubmit(edit: { source: string; transform: (typeof TRANSFORMS)[number] }): Promise<void>;
  onCancel(): void;
}) {
  const [source, setSource] = useState(mapping.source);
  const [transform, setTransform] = useState(
    (TRANSFORMS as readonly string[]).includes(mapping.transform) ? (mapping.transform as (typeof TRANSFORMS)[number]) : 'none',
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void onSubmit({ source: source.trim(), transform });
  };
  return (
    <form className="row" onSubmit={submit} aria-label={`Change ${mapping.target}`}>
      <label>
        Source field
        <input value={source} required onChange={(e) => setSource(e.target.value)} />
      </label>
      <label>
        Transform
        <select value={transform} onChange={(e) => setTransform(e.target.value as (typeof TRANSFORMS)[number])}>
          {TRANSFORMS.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <button type="submit">Save</button>
      <button type="button" className="secondary" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

function AddForm({
  onSubmit,
}: {
  onSubmit(body: { source: string; column: string; type: (typeof COLUMN_TYPES)[number]; transform?: (typeof TRANSFORMS)[number] }): Promise<void>;
}) {
  const [source, setSource] = useState('');
  const [column, setColumn] = useState('');
  const [type, setType] = useState<(typeof COLUMN_TYPES)[number]>('text');
  const [transform, setTransform] = useState<(typeof TRANSFORMS)[number] | ''>('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void onSubmit({ source: source.trim(), column: column.trim(), type, ...(transform ? { transform } : {}) });
  };
  return (
    <section aria-labelledby="add-heading">
      <h2 id="add-heading">Add an extra field</h2>
      <form onSubmit={submit}>
        <div className="row">
          <label>
            Source field
            <input value={source} required onChange={(e) => setSource(e.target.value)} placeholder="answers.q7" />
          </label>
          <label>
            New column
            <input value={column} required onChange={(e) => setColumn(e.target.value)} placeholder="responses.plan" aria-describedby="add-column-help" />
          </label>
          <label>
            Column type
            <select value={type} onChange={(e) => setType(e.target.value as (typeof COLUMN_TYPES)[number])}>
              {COLUMN_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          <label>
            Transform
            <select value={transform} onChange={(e) => setTransform(e.target.value as (typeof TRANSFORMS)[number] | '')}>
              <option value="">As the type needs</option>
              {TRANSFORMS.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
        </div>
        <span className="help" id="add-column-help">
          The column as table.column; the table must be one of the app&apos;s.
        </span>
        <div className="actions">
          <button type="submit">Add the field</button>
        </div>
      </form>
    </section>
  );
}
