import { useEffect, useState, type AnchorHTMLAttributes, type ReactNode } from 'react';

// Pages live in the URL's #fragment: the server serves one index.html at `/`, and a reload or a
// shared link can never be mistaken for an API path.

export interface Route {
  /** The path after `#`, without the query: `/w/acme/runs/12`. */
  path: string;
  /** The path's segments: ['w', 'acme', 'runs', '12']. */
  segments: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = raw.split('?');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { path, segments, query: new URLSearchParams(search) };
}

/** The current route; re-renders when the fragment changes. */
export function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseHash(hash);
}

/** Builds a fragment link from path segments (each encoded) and an optional query. */
export function href(segments: (string | number)[], query?: Record<string, string | number | undefined>): string {
  const path = '/' + segments.map((s) => encodeURIComponent(String(s))).join('/');
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return '#' + path + (text ? '?' + text : '');
}

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, '');
}

export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  return (
    <a href={to} {...rest}>
      {children}
    </a>
  );
}
