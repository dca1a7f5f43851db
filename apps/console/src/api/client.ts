import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

// The console's only way to the server: the public API, typed by the OpenAPI document's types.
// A session cookie carries the sign-in; every change also carries the session's CSRF token.

export type Schemas = components['schemas'];

/** The API's one error body, with the status it came with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;

/** Remembers the session's CSRF token (from sign-in or /auth/me) for the changes that follow. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const csrf: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method) && csrfToken) request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
};

const origin = typeof window === 'undefined' ? 'http://127.0.0.1' : window.location.origin;

export const api = createClient<paths>({ baseUrl: origin, credentials: 'same-origin' });
api.use(csrf);

interface ErrorBodyLike {
  code?: unknown;
  message?: unknown;
  hint?: unknown;
}

/** Turns an openapi-fetch answer into its data, or throws the API's error in words. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await call;
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server could not be reached.', 'Check that `tributary serve` is running, then try again.');
  }
  if (answer.response.ok) return answer.data as T;
  const body = (answer.error ?? {}) as ErrorBodyLike;
  throw new ApiError(
    answer.response.status,
    typeof body.code === 'string' ? body.code : 'HTTP_' + answer.response.status,
    typeof body.message === 'string' ? body.message : `The server answered ${answer.response.status}.`,
    typeof body.hint === 'string' ? body.hint : undefined,
  );
}

/** A URL of the API for a plain link (CSV downloads go through the browser, with the cookie). */
export function apiUrl(path: string, query: Record<string, string | number | undefined> = {}): string {
  const url = new URL(path, origin);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
  return url.pathname + url.search;
}
