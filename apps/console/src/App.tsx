import type { ReactNode } from 'react';
import { Layout } from './components/layout';
import { Loading, Notice } from './components/feedback';
import { AuditPage, InvoicesPage } from './pages/admin';
import { AppPage, AppsPage } from './pages/apps';
import { ApiKeysPage, UsersPage } from './pages/access';
import { MappingsPage } from './pages/mappings';
import { ProfileBuilderPage, ProfilePage, ProfilesPage } from './pages/profiles';
import { RunPage, RunsPage } from './pages/runs';
import { PasswordPage } from './pages/password';
import { SignInPage } from './pages/sign-in';
import { StorePage } from './pages/store';
import { href, useRoute, type Route } from './router';
import { SessionProvider, useSession } from './session';

/** The page for a route inside a workspace: `#/w/<workspace>/<page>/…`. */
function workspacePage(workspace: string, rest: string[], route: Route): { page: string; element: ReactNode } {
  const [page = 'apps', id, sub] = rest;
  switch (page) {
    case 'store':
      return { page, element: <StorePage workspace={workspace} /> };
    case 'apps':
      if (id && sub === 'mappings') return { page, element: <MappingsPage workspace={workspace} app={id} /> };
      if (id) return { page, element: <AppPage workspace={workspace} app={id} /> };
      return { page, element: <AppsPage workspace={workspace} /> };
    case 'runs':
      if (id) return { page, element: <RunPage workspace={workspace} runId={id} /> };
      return { page, element: <RunsPage workspace={workspace} query={route.query} /> };
    case 'profiles':
      if (id === undefined) return { page, element: <ProfilesPage workspace={workspace} /> };
      if (id === 'new') return { page, element: <ProfileBuilderPage workspace={workspace} /> };
      if (sub === 'edit') return { page, element: <ProfileBuilderPage workspace={workspace} name={id} /> };
      return { page, element: <ProfilePage workspace={workspace} name={id} /> };
    case 'invoices':
      return { page, element: <InvoicesPage workspace={workspace} /> };
    case 'audit':
      return { page, element: <AuditPage workspace={workspace} /> };
    case 'users':
      return { page, element: <UsersPage workspace={workspace} /> };
    case 'api-keys':
      return { page, element: <ApiKeysPage workspace={workspace} /> };
    default:
      return { page, element: <Notice tone="warn">There is no page “{page}”. Pick one from the menu.</Notice> };
  }
}

function Routes() {
  const route = useRoute();
  const { me, loading } = useSession();
  if (loading) return <Loading what="your session" />;
  if (!me || route.segments[0] === 'signin') return <SignInPage />;
  // A one-time password opens nothing but the form that replaces it.
  if (me.mustChangePassword) return <PasswordPage />;
  const [first, workspace, ...rest] = route.segments;
  if (first !== 'w' || !workspace) {
    const home = me.memberships[0]?.workspace;
    if (!home)
      return (
        <main id="main">
          <Notice tone="warn">You have no workspace yet. Ask an administrator for a role in one.</Notice>
        </main>
      );
    window.location.replace(href(['w', home, 'apps']));
    return <Loading what="your workspace" />;
  }
  const { page, element } = workspacePage(workspace, rest, route);
  return (
    <Layout workspace={workspace} page={page}>
      {element}
    </Layout>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Routes />
    </SessionProvider>
  );
}
