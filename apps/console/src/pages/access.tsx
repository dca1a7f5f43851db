import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { DataState, ErrorNote, Notice } from '../components/feedback';
import { Pager } from '../components/pager';
import { When } from '../components/time';
import { useSession, type Role } from '../session';
import { useApi } from '../use-api';

const ROLES: Role[] = ['viewer', 'marketer', 'admin'];
const PAGE = 50;

/** A secret shown once (a one-time password, an API key): selectable, never kept after the page changes. */
function ShownOnce({ label, value, children }: { label: string; value: string; children: string }) {
  return (
    <Notice tone="ok">
      <p>{children}</p>
      <label>
        {label}
        <input readOnly value={value} onFocus={(e) => e.target.select()} className="secret-once" />
      </label>
      <p className="help">It is shown this once: the server keeps only a hash of it.</p>
    </Notice>
  );
}

/** Users with a role in the workspace: add one (shows the one-time password once), change a role, remove. */
export function UsersPage({ workspace }: { workspace: string; [key: string]: unknown }) {
  const { me } = useSession();
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const users = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/users', {
          params: { path: { workspace }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['users', workspace, cursor],
  );
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [created, setCreated] = useState<{ email: string; password: string | null }>();
  const [error, setError] = useState<unknown>();
  const [rowError, setRowError] = useState<{ id: string; error: unknown }>();

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setCreated(undefined);
    try {
      const answer = await unwrap(api.POST('/workspaces/{workspace}/users', { params: { path: { workspace } }, body: { email: email.trim(), role } }));
      setCreated({ email: answer.user.email, password: answer.oneTimePassword });
      setEmail('');
      users.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const setUserRole = async (user: Schemas['User'], next: Role | null) => {
    setRowError(undefined);
    try {
      await unwrap(
        api.PUT('/workspaces/{workspace}/users/{userId}/role', { params: { path: { workspace, userId: user.id } }, body: { role: next } }),
      );
      users.reload();
    } catch (failure) {
      setRowError({ id: user.id, error: failure });
    }
  };

  return (
    <>
      <h1>Users</h1>
      <form onSubmit={(e) => void add(e)} aria-labelledby="add-user-heading">
        <h2 id="add-user-heading">Add a user</h2>
        <div className="row">
          <label>
            E-mail address
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
          </label>
          <div className="field-block">
            <label htmlFor="new-user-role">Role</label>
            <select id="new-user-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </div>
          <button type="submit">Add user</button>
        </div>
        <ErrorNote error={error} title="The user was not added." />
      </form>
      {created ? (
        created.password ? (
          <ShownOnce label={`One-time password for ${created.email}`} value={created.password}>
            {`${created.email} is added. Give them this one-time password; they choose their own when they first sign in.`}
          </ShownOnce>
        ) : (
          <Notice tone="ok">{created.email} already had an account and now has a role here.</Notice>
        )
      ) : null}
      <h2>People in {workspace}</h2>
      <DataState loaded={users} what="the users" isEmpty={(d) => d.items.length === 0} empty="No user has a role here yet.">
        {(data) => (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label={`Users of ${workspace}`}>
              <table>
                <caption className="sr-only">Users of {workspace}</caption>
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col">Role</th>
                    <th scope="col">Since</th>
                    <th scope="col">Remove</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((u) => {
                    const self = u.email === me?.email;
                    return (
                      <tr key={u.id}>
                        <th scope="row">
                          {u.email}
                          {u.lockedUntil ? (
                            <span className="badge warn">
                              {' '}
                              locked until <When value={u.lockedUntil} />
                            </span>
                          ) : null}
                          {rowError?.id === u.id ? <ErrorNote error={rowError.error} title="Not changed." /> : null}
                        </th>
                        <td>
                          <select
                            aria-label={`Role of ${u.email}`}
                            value={u.role ?? ''}
                            disabled={self}
                            title={self ? 'Another administrator changes your own role.' : undefined}
                            onChange={(e) => void setUserRole(u, e.target.value as Role)}
                          >
                            {ROLES.map((r) => (
                              <option key={r}>{r}</option>
                            ))}
                          </select>
                        </td>
                        <td>
                          <When value={u.createdAt} />
                        </td>
                        <td>
                          {self ? (
                            <span className="muted">You</span>
                          ) : (
                            <button
                              type="button"
                              className="secondary"
                              aria-label={`Remove ${u.email} from ${workspace}`}
                              onClick={() => {
                                if (window.confirm(`Remove ${u.email} from ${workspace}? Their account stays; they lose access here.`))
                                  void setUserRole(u, null);
                              }}
                            >
                              Remove
                            </button>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pager label="Users" cursors={cursors} next={data.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </>
  );
}

/** API keys of the workspace: create one (the secret is shown once), list, revoke. */
export function ApiKeysPage({ workspace }: { workspace: string; [key: string]: unknown }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const keys = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/api-keys', {
          params: { path: { workspace }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['api-keys', workspace, cursor],
  );
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [days, setDays] = useState('');
  const [created, setCreated] = useState<{ name: string; secret: string }>();
  const [error, setError] = useState<unknown>();
  const [revokeError, setRevokeError] = useState<unknown>();

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setCreated(undefined);
    const expiresInDays = days.trim() ? Number(days) : undefined;
    try {
      const answer = await unwrap(
        api.POST('/workspaces/{workspace}/api-keys', {
          params: { path: { workspace } },
          body: { name: name.trim(), role, ...(expiresInDays ? { expiresInDays } : {}) },
        }),
      );
      setCreated({ name: answer.key.name, secret: answer.secret });
      setName('');
      keys.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const revoke = async (key: Schemas['ApiKey']) => {
    if (!window.confirm(`Revoke the key “${key.name}” (${key.prefix}…)? Scripts using it stop working at once.`)) return;
    setRevokeError(undefined);
    try {
      await unwrap(api.DELETE('/workspaces/{workspace}/api-keys/{id}', { params: { path: { workspace, id: key.id } } }));
      keys.reload();
    } catch (failure) {
      setRevokeError(failure);
    }
  };

  return (
    <>
      <h1>API keys</h1>
      <p>Scripts call the API with a key: <code>Authorization: Bearer trb_…</code>. A key holds one role in this workspace.</p>
      <form onSubmit={(e) => void create(e)} aria-labelledby="create-key-heading">
        <h2 id="create-key-heading">Create a key</h2>
        <div className="row">
          <label>
            Name
            <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
          </label>
          <div className="field-block">
            <label htmlFor="new-key-role">Role</label>
            <select id="new-key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </div>
          <label>
            Expires after (days)
            <input type="number" min={1} max={3650} step={1} value={days} onChange={(e) => setDays(e.target.value)} placeholder="never" />
          </label>
          <button type="submit">Create key</button>
        </div>
        <ErrorNote error={error} title="No key was created." />
      </form>
      {created ? (
        <ShownOnce label={`Secret of the key ${created.name}`} value={created.secret}>
          {`The key “${created.name}” is created. Copy its secret into your script's settings now.`}
        </ShownOnce>
      ) : null}
      <ErrorNote error={revokeError} title="The key was not revoked." />
      <h2>Keys</h2>
      <DataState loaded={keys} what="the API keys" isEmpty={(d) => d.items.length === 0} empty="No API key yet.">
        {(data) => (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label={`API keys of ${workspace}`}>
              <table>
                <caption className="sr-only">API keys of {workspace}</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Key</th>
                    <th scope="col">Role</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Revoke</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((k) => (
                    <tr key={k.id}>
                      <th scope="row">{k.name}</th>
                      <td>
                        <code>{k.prefix}…</code>
                      </td>
                      <td>{k.role}</td>
                      <td>
                        <When value={k.createdAt} />
                      </td>
                      <td>{k.lastUsedAt ? <When value={k.lastUsedAt} /> : 'Never'}</td>
                      <td>{k.expiresAt ? <When value={k.expiresAt} /> : 'Never'}</td>
                      <td>
                        {k.revokedAt ? (
                          <span>
                            Revoked <When value={k.revokedAt} />
                          </span>
                        ) : (
                          <button type="button" className="secondary" aria-label={`Revoke ${k.name}`} onClick={() => void revoke(k)}>
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="API keys" cursors={cursors} next={data.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </>
  );
}
