import { z } from 'zod';

const positiveId = z.number().int().positive();
const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());

/** Comparison of an answer's score. */
export const scoreConditionSchema = z.discriminatedUnion('op', [
  z.object({ type: z.literal('score'), op: z.enum(['=', '!=', '<', '<=', '>', '>=']), value: z.number() }),
  z.object({ type: z.literal('score'), op: z.literal('between'), min: z.number(), max: z.number() }).refine(
    (c) => c.min <= c.max,
    { message: 'min must not be greater than max', path: ['min'] },
  ),
  z.object({ type: z.literal('score'), op: z.literal('in'), values: z.array(z.number()).min(1).max(100) }),
]);

/** Conditions a profile combines. Leaf conditions test a response or one of its answers. */
export type ProfileCondition =
  | { type: 'responded'; withinDays: number }
  | { type: 'responded'; from: string; to: string }
  | { type: 'form'; id?: number; name?: string }
  | { type: 'mailing'; id?: number; name?: string }
  | { type: 'group'; id?: number; name?: string }
  | { type: 'question'; formId?: number; questionIndex?: string; text?: string }
  | z.infer<typeof scoreConditionSchema>
  | { type: 'comment'; contains: string }
  | { type: 'backfilled'; value: boolean }
  | { all: ProfileCondition[] }
  | { any: ProfileCondition[] }
  | { none: ProfileCondition[] };

const byIdOrName = <T extends string>(type: T) =>
  z
    .object({ type: z.literal(type), id: positiveId.optional(), name: z.string().min(1).max(200).optional() })
    .refine((c) => c.id !== undefined || c.name !== undefined, { message: `a ${type} condition needs an id or a name` });

/** Schema of a profile condition, recursive through all / any / none. */
export const profileConditionSchema: z.ZodType<ProfileCondition> = z.lazy(() =>
  z.union([
    z.object({ type: z.literal('responded'), withinDays: z.number().int().positive().max(3650) }),
    z
      .object({ type: z.literal('responded'), from: isoDate, to: isoDate })
      .refine((c) => Date.parse(c.from) <= Date.parse(c.to), { message: 'from must not be after to', path: ['from'] }),
    byIdOrName('form'),
    byIdOrName('mailing'),
    byIdOrName('group'),
    z
      .object({
        type: z.literal('question'),
        formId: positiveId.optional(),
        questionIndex: z.string().regex(/^\d+(\.\d+)*$/, 'must look like 1 or 3.1').optional(),
        text: z.string().min(1).max(500).optional(),
      })
      .refine((c) => c.questionIndex !== undefined || c.text !== undefined, {
        message: 'a question condition needs a questionIndex or a text',
      }),
    scoreConditionSchema,
    z.object({ type: z.literal('comment'), contains: z.string().min(1).max(500) }),
    z.object({ type: z.literal('backfilled'), value: z.boolean() }),
    z.object({ all: z.array(profileConditionSchema).min(1) }),
    z.object({ any: z.array(profileConditionSchema).min(1) }),
    z.object({ none: z.array(profileConditionSchema).min(1) }),
  ]),
) as z.ZodType<ProfileCondition>;

/** A profile (segment): which customers match, over which of their responses. */
export const profileDefinitionSchema = z.object({
  /** Name, unique per workspace. */
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, 'must start with a letter or digit and hold only letters, digits, spaces, _ . -'),
  /** What the profile is for. */
  description: z.string().max(1000).default(''),
  /** Whether conditions apply to any response of a customer or only to each customer's latest. */
  over: z.enum(['any-response', 'latest-response']).default('any-response'),
  /** The condition tree. */
  match: profileConditionSchema,
});
/** A profile definition. */
export type ProfileDefinition = z.infer<typeof profileDefinitionSchema>;
/** A profile definition as written by hand. */
export type ProfileDefinitionInput = z.input<typeof profileDefinitionSchema>;
