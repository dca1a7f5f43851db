import type { ReactNode } from 'react';
import { href, navigate } from '../router';
import { allows, useSession, type Role } from '../session';

interface NavItem {
  label: string;
  page: string;
  needs: Role;
}

// What each role sees in the menu; the API refuses the rest anyway.
const NAV: NavItem[] = [
  { label: 'App store', page: 'store', needs: 'viewer' },
  { label: 'Installed apps', page: 'apps', needs: 'viewer' },
  { label: 'Run log', page: 'runs', needs: 'viewer' },
  { label: 'Profiles', page: 'profiles', needs: 'viewer' },
  { label: 'Invoices', page: 'invoices', needs: 'admin' },
  { label: 'Audit log', page: 'audit', needs: 'admin' },
  { label: 'Users', page: 'users', needs: 'admin' },
  { label: 'API keys', page: 'api-keys', needs: 'admin' },
];

export function Layout({ workspace, page, children }: { workspace: string; page: string; children: ReactNode }) {
  const { me, roleIn, signOut } = useSession();
  const role = roleIn(workspace);
  return (
    <div className="shell">
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Tributary</span>
        <label className="switcher">
          <span>Workspace</span>
          <select value={workspace} onChange={(e) => navigate(href(['w', e.target.value, page]))}>
            {(me?.memberships ?? []).map((m) => (
              <option key={m.workspace} value={m.workspace}>
                {m.workspace} ({m.role})
              </option>
            ))}
          </select>
        </label>
        <span className="who">{me?.email ?? me?.keyPrefix}</span>
        <button type="button" onClick={() => void signOut().then(() => navigate('#/signin'))}>
          Sign out
        </button>
      </header>
      <nav className="side" aria-label="Pages">
        <ul>
          {NAV.filter((item) => allows(role, item.needs)).map((item) => (
            <li key={item.page}>
              <a href={href(['w', workspace, item.page])} aria-current={page === item.page ? 'page' : undefined}>
                {item.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
