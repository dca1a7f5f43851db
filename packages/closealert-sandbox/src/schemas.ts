import { z } from 'zod';
import { rateLimitSchema } from '@tributary/sandbox-kit';
import type { SandboxFormResponse } from './types.js';

export { faultSchema, faultTimesSchema, rateLimitSchema } from '@tributary/sandbox-kit';

export const LOOPBACK_ADDRESSES = ['127.0.0.1', '::1', '::ffff:127.0.0.1'];

export const allowListSchema = z.array(z.string().min(1));

export const optionsSchema = z.object({
  port: z.number().int().min(0).max(65535).default(0),
  projectKey: z.string().min(1).default('company.com'),
  seed: z.number().int().default(42),
  responses: z.number().int().min(0).default(0),
  spanDays: z.number().positive().default(365),
  now: z
    .custom<() => Date>((value) => typeof value === 'function', 'must be a function returning a Date')
    .optional(),
  signingSecret: z.string().min(1).optional(),
  allowList: allowListSchema.default(LOOPBACK_ADDRESSES),
  rateLimit: rateLimitSchema.default({ capacity: 1000, refillPerSecond: 500 }),
  timeZone: z.string().min(1).default('UTC'),
});

export const issueTokenSchema = z
  .object({
    expiresInDays: z.number().nullable().optional(),
    expiresAt: z.date().optional(),
    signingSecret: z.string().min(1).optional(),
    projectKey: z.string().min(1).optional(),
  })
  .default({});

const answerSchema = z.object({
  question: z.string(),
  question_type: z.string(),
  answer_type: z.string().nullable(),
  question_index: z.string(),
  response_value: z.union([z.string(), z.number(), z.null()]),
});

const namedSchema = z.object({ id: z.number().int(), name: z.string() });

export const formResponseSchema: z.ZodType<SandboxFormResponse> = z.object({
  id: z.number().int().positive(),
  created_at: z.string(),
  email: z.string().nullable(),
  mail_url: z.string(),
  user_agent: z.string(),
  device_type: z.string(),
  operating_system: z.string(),
  followed_up: z.boolean(),
  merge_tags: z.record(z.string(), z.unknown()),
  form: z.object({ id: z.number().int(), form_type: z.string(), name: z.string() }),
  mailing: namedSchema,
  group: namedSchema.nullable(),
  answers: z.array(answerSchema),
});

export const addCountSchema = z.object({
  count: z.number().int().min(0),
  createdAt: z
    .union([z.date(), z.custom<(index: number) => Date>((value) => typeof value === 'function')])
    .optional(),
});
