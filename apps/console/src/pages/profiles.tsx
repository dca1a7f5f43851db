import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { DataState } from '../components/feedback';
import { Pager } from '../components/pager';
import { When } from '../components/time';
import { ProfileBuilder } from '../profiles/builder';
import { ProfileView } from '../profiles/profile-view';
import { href, Link } from '../router';
import { allows, useSession } from '../session';
import { useApi } from '../use-api';

// Profiles: the list, one profile, and the builder (new, or editing a saved one).

const PROFILES_PER_PAGE = 25;

export function ProfilesPage({ workspace }: { workspace: string }) {
  const { roleIn } = useSession();
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const profiles = useApi(
    () =>
      unwrap(
        api.GET('/workspaces/{workspace}/profiles', {
          params: { path: { workspace }, query: { limit: PROFILES_PER_PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    ['profiles', workspace, cursor],
  );
  const canBuild = allows(roleIn(workspace), 'marketer');
  return (
    <>
      <h1>Profiles</h1>
      <p>Customers grouped by what they answered. Each profile is evaluated again after every sync.</p>
      {canBuild ? (
        <div className="actions">
          <Link className="button" to={href(['w', workspace, 'profiles', 'new'])}>
            New profile
          </Link>
        </div>
      ) : null}
      <DataState
        loaded={profiles}
        what="the profiles"
        isEmpty={(page) => page.items.length === 0 && cursors.length === 0}
        empty={canBuild ? 'No profile yet. Build the first with “New profile”.' : 'No profile yet. A marketer builds them.'}
      >
        {(page) => (
          <>
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Profiles table">
              <table>
                <caption className="visually-hidden">Profiles of {workspace}</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col" className="num">
                      Members
                    </th>
                    <th scope="col">Last evaluated</th>
                    <th scope="col">Apps</th>
                    <th scope="col">Conditions</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((p) => (
                    <tr key={p.id}>
                      <td>
                        <Link to={href(['w', workspace, 'profiles', p.name])}>{p.name}</Link>
                      </td>
                      <td className="num">{p.lastEvaluation ? p.lastEvaluation.memberCount : '—'}</td>
                      <td>{p.lastEvaluation ? <When value={p.lastEvaluation.evaluatedAt} /> : 'not yet'}</td>
                      <td>{p.app ?? 'every feedback app'}</td>
                      <td className="conditions">{p.conditions}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Profiles" cursors={cursors} next={page.next} onChange={setCursors} />
          </>
        )}
      </DataState>
    </>
  );
}

export function ProfilePage({ workspace, name }: { workspace: string; name: string }) {
  return <ProfileView key={`${workspace}/${name}`} workspace={workspace} name={name} />;
}

export function ProfileBuilderPage({ workspace, name }: { workspace: string; name?: string }) {
  return <ProfileBuilder key={`${workspace}/${name ?? ''}`} workspace={workspace} name={name} />;
}
