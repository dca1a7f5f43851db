/** The session cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'tributary_session';
/** The header a change made with the session cookie must carry. */
export const CSRF_HEADER = 'x-csrf-token';
