import { z } from 'zod';
import { ConfigError } from '@tributary/sdk';

/** What the token's own claims say about its validity. */
export interface TokenExpiry {
  /** The `exp` claim, or null for a token without expiry. */
  expiresAt: Date | null;
  /** Whole days left, rounded up (0 once expired), or null without expiry. */
  daysLeft: number | null;
  /** Whether the token has expired at `now`. */
  expired: boolean;
  /** The reminder CloseAlert itself sends by e-mail 14 and 7 days ahead, or 'expired'. */
  warning: 'expired' | '7-days' | '14-days' | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const claimsSchema = z.looseObject({ exp: z.number().finite().optional() });

/** The command that replaces a token without reinstalling, for messages. */
export const REPLACE_TOKEN_COMMAND = 'tributary app token --workspace <ws> closealert --token-file <file>';

function malformed(detail: string): ConfigError {
  return new ConfigError('TOKEN_MALFORMED', `The CloseAlert API token is not a valid JWT: ${detail}.`, {
    hint: `Generate a new token in CloseAlert (Settings → API access) and set it with: ${REPLACE_TOKEN_COMMAND}`,
  });
}

/**
 * Reads the `exp` claim of a CloseAlert JWT. The signature is not checked: only CloseAlert can, and
 * it does on every request; this only tells the operator in time that a token runs out.
 * Throws a ConfigError (without the token) when the token cannot be read.
 */
export function readTokenExpiry(token: string, now: Date): TokenExpiry {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) {
    throw malformed('it must be three base64url parts separated by dots');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw malformed('its payload is not JSON');
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw malformed('its payload is not an object with a numeric "exp" claim');
  const exp = claims.data.exp;
  if (exp === undefined) return { expiresAt: null, daysLeft: null, expired: false, warning: null };

  const expiresAt = new Date(exp * 1000);
  const leftMs = expiresAt.getTime() - now.getTime();
  const expired = leftMs <= 0;
  const daysLeft = expired ? 0 : Math.ceil(leftMs / DAY_MS);
  const warning = expired ? 'expired' : daysLeft <= 7 ? '7-days' : daysLeft <= 14 ? '14-days' : null;
  return { expiresAt, daysLeft, expired, warning };
}

const projectClaimSchema = z.looseObject({ project: z.string().min(1).max(253).optional() });

/**
 * The project a token says it was issued for (its `project` claim), or undefined when it names none
 * or cannot be read. Unverified, like the expiry: it only serves to explain a refusal.
 */
export function readTokenProject(token: string): string | undefined {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !SEGMENT.test(parts[1] ?? '')) return undefined;
  try {
    const claims = projectClaimSchema.safeParse(JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')));
    return claims.success ? claims.data.project : undefined;
  } catch {
    return undefined;
  }
}

/** One line for an operator about a token's validity. */
export function describeTokenExpiry(expiry: TokenExpiry): string {
  if (expiry.expiresAt === null) return 'The API token has no expiry date.';
  const date = expiry.expiresAt.toISOString();
  if (expiry.expired) return `The API token expired on ${date}; replace it with: ${REPLACE_TOKEN_COMMAND}`;
  const days = expiry.daysLeft === 1 ? '1 day' : `${expiry.daysLeft} days`;
  const base = `The API token is valid until ${date} (${days} left).`;
  return expiry.warning === null
    ? base
    : `${base} Generate a new one in CloseAlert and replace it with: ${REPLACE_TOKEN_COMMAND}`;
}

/** The error a sync or an install fails with when the token has expired. */
export function tokenExpiredError(expiry: TokenExpiry): ConfigError {
  const when = expiry.expiresAt ? ` on ${expiry.expiresAt.toISOString()}` : '';
  return new ConfigError(
    'TOKEN_EXPIRED',
    `The CloseAlert API token expired${when}. Generate a new token in CloseAlert (Settings → API access → Generate API Access Token) and replace it with: ${REPLACE_TOKEN_COMMAND}`,
    { hint: REPLACE_TOKEN_COMMAND },
  );
}

/**
 * Reads a token's expiry and throws the error that says how to replace it when it has expired:
 * the one guard before an install check, a sync's preflight and a stream's first request.
 */
export function assertTokenUsable(token: string, now: Date): TokenExpiry {
  const expiry = readTokenExpiry(token, now);
  if (expiry.expired) throw tokenExpiredError(expiry);
  return expiry;
}
