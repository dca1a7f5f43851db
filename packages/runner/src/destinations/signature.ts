import { createHmac, timingSafeEqual } from 'node:crypto';

// The webhook signature: HMAC-SHA256 over `<unix seconds>.<raw body>` with the destination's
// secret, sent as `Tributary-Signature: t=<seconds>,v1=<hex>`. The timestamp is inside what is
// signed, so that a receiver can refuse an old request replayed to it.

export const SIGNATURE_HEADER = 'tributary-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The header value for a body sent at `seconds` (Unix time). */
export function signatureHeader(secret: string, seconds: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${seconds}.${body}`).digest('hex');
  return `t=${seconds},v1=${digest}`;
}

/**
 * Whether a header signs `body` with `secret` within `toleranceSeconds` of `nowSeconds`: what a
 * receiver does (the README shows the same in a few lines of Node).
 */
export function verifySignature(options: {
  secret: string;
  header: string | undefined;
  body: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  const parts = Object.fromEntries(
    (options.header ?? '').split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    }),
  );
  const seconds = Number(parts.t);
  if (!Number.isInteger(seconds) || typeof parts.v1 !== 'string') return false;
  if (Math.abs(options.nowSeconds - seconds) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signatureHeader(options.secret, seconds, options.body).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
