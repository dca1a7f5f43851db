import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export interface TokenClaims {
  sub: string;
  project: string;
  /** Seconds since the epoch. */
  iat: number;
  /** Seconds since the epoch; absent for a token without expiry. */
  exp?: number;
}

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'algorithm' | 'signature' | 'claims' | 'expired' };

const headerSchema = z.object({ alg: z.string(), typ: z.string().optional() });

const claimsSchema = z.object({
  sub: z.string(),
  project: z.string(),
  iat: z.number().int(),
  exp: z.number().int().optional(),
});

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeJson(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function hmac(signingInput: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(signingInput).digest();
}

export function signToken(claims: TokenClaims, secret: string): string {
  const signingInput = `${encodeJson({ alg: 'HS256', typ: 'JWT' })}.${encodeJson(claims)}`;
  return `${signingInput}.${hmac(signingInput, secret).toString('base64url')}`;
}

/** Verifies an HS256 JWT: structure, algorithm, signature, claims and expiry (`exp <= now` is expired). */
export function verifyToken(token: string, secret: string, nowMs: number): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part)))
    return { ok: false, reason: 'malformed' };
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];

  const header = headerSchema.safeParse(decodeJson(headerPart));
  if (!header.success) return { ok: false, reason: 'malformed' };
  // Only HS256 is accepted, so that 'none' or an asymmetric algorithm cannot slip past the HMAC check.
  if (header.data.alg !== 'HS256') return { ok: false, reason: 'algorithm' };

  const expected = hmac(`${headerPart}.${claimsPart}`, secret);
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'signature' };

  const claims = claimsSchema.safeParse(decodeJson(claimsPart));
  if (!claims.success) return { ok: false, reason: 'claims' };
  if (claims.data.exp !== undefined && claims.data.exp * 1000 <= nowMs)
    return { ok: false, reason: 'expired' };
  return { ok: true, claims: claims.data };
}
