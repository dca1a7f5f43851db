import { z } from 'zod';
import { parseTimestamp } from '@tributary/sdk';

// Loose objects throughout: the whole record is stored as raw JSON, so fields CloseAlert adds later
// must survive validation instead of being stripped.

const positiveId = z.number().int().positive();

// Descriptive fields may be absent as well as null: a missing user agent is no reason to set a
// response aside, and its column simply stays NULL.
const optionalText = z.string().nullish();

const namedSchema = z.looseObject({ id: positiveId, name: optionalText });

/** One answer of a form response. */
export const answerSchema = z.looseObject({
  question: z.string(),
  question_type: z.string(),
  answer_type: optionalText,
  /** Identifies the question within its form together with the form id; `3.1` is a sub-question. */
  question_index: z
    .union([z.string().trim().min(1, 'must not be empty'), z.number().finite()])
    .transform((index) => String(index)),
  /** Declared a string by the API, but numbers (scores) and booleans arrive too. */
  response_value: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
});

/** One CloseAlert form response, as validated before it is mapped and stored. */
export const formResponseSchema = z.looseObject({
  id: positiveId,
  created_at: z.string().refine((text) => parseTimestamp(text) !== undefined, {
    message: 'must be an ISO-8601 date-time such as 2024-03-17T17:22:10',
  }),
  email: optionalText,
  mail_url: optionalText,
  user_agent: optionalText,
  device_type: optionalText,
  operating_system: optionalText,
  followed_up: z.boolean().nullish(),
  merge_tags: z.record(z.string(), z.unknown()).nullish(),
  form: z.looseObject({ id: positiveId, form_type: optionalText, name: optionalText }),
  mailing: namedSchema.nullish(),
  group: namedSchema.nullish(),
  answers: z.array(answerSchema),
});

/** A validated form response. */
export type FormResponse = z.infer<typeof formResponseSchema>;
/** A validated answer. */
export type FormAnswer = z.infer<typeof answerSchema>;
