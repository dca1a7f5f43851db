import { z } from 'zod';

/** A token bucket's size and refill rate. */
export interface RateLimit {
  capacity: number;
  refillPerSecond: number;
}

/**
 * What a sandbox can make its next request do wrong: the failures every source API shows sooner or
 * later, so that connectors prove they survive them over real HTTP.
 */
export type Fault =
  | { kind: 'status'; status: 429; retryAfterSeconds?: number }
  | { kind: 'status'; status: 500 | 502 | 503 | 504 }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'truncated-json' }
  | { kind: 'bad-record'; index?: number }
  | { kind: 'reset' };

/** A fault answered with a status instead of a page. */
export type StatusFault = Extract<Fault, { kind: 'status' }>;

export const rateLimitSchema: z.ZodType<RateLimit> = z.object({
  capacity: z.number().int().min(1),
  refillPerSecond: z.number().min(0),
});

export const faultSchema: z.ZodType<Fault> = z.union([
  z.object({
    kind: z.literal('status'),
    status: z.literal(429),
    retryAfterSeconds: z.number().int().min(0).optional(),
  }),
  z.object({
    kind: z.literal('status'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]),
  }),
  z.object({ kind: z.literal('slow'), delayMs: z.number().int().min(0) }),
  z.object({ kind: z.literal('truncated-json') }),
  z.object({ kind: z.literal('bad-record'), index: z.number().int().min(0).optional() }),
  z.object({ kind: z.literal('reset') }),
]);

export const faultTimesSchema = z.number().int().min(1).default(1);
