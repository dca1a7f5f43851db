import { z } from '@tributary/sdk';

// Loose objects throughout: the whole response is stored as raw JSON, so fields Typeform adds later
// must survive validation instead of being stripped.

const optionalText = z.string().nullish();

/** Field types whose number is a score, and whose text is a comment (the feedback view's roles). */
export const SCORE_FIELD_TYPES: ReadonlySet<string> = new Set(['nps', 'opinion_scale', 'rating']);
export const COMMENT_FIELD_TYPES: ReadonlySet<string> = new Set(['short_text', 'long_text']);

const answerFieldSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  ref: optionalText,
});

/** One answer as Typeform sends it: the field plus one typed value (`text`, `number`, `choice`, …). */
export const rawAnswerSchema = z.looseObject({
  field: answerFieldSchema,
  type: z.string().min(1),
  text: optionalText,
  email: optionalText,
  url: optionalText,
  date: optionalText,
  phone_number: optionalText,
  file_url: optionalText,
  number: z.number().finite().nullish(),
  boolean: z.boolean().nullish(),
  choice: z.looseObject({ label: optionalText, other: optionalText }).nullish(),
  choices: z.looseObject({ labels: z.array(z.string()).nullish(), other: optionalText }).nullish(),
});
type RawAnswer = z.infer<typeof rawAnswerSchema>;

const instantSchema = z.string().refine((text) => !Number.isNaN(Date.parse(text)) && /[zZ]|[+-]\d\d:?\d\d$/.test(text), {
  message: 'must be an ISO-8601 date-time in UTC such as 2024-03-17T17:22:10Z',
});

/** One response as Typeform sends it in `items[]` of `GET /forms/{form_id}/responses`. */
export const rawResponseSchema = z.looseObject({
  response_id: z.string().min(1).max(128).optional(),
  token: z.string().min(1).max(128),
  landing_id: optionalText,
  landed_at: instantSchema.nullish(),
  submitted_at: instantSchema,
  metadata: z.record(z.string(), z.unknown()).nullish(),
  hidden: z.record(z.string(), z.unknown()).nullish(),
  calculated: z.looseObject({ score: z.number().nullish() }).nullish(),
  variables: z.array(z.unknown()).nullish(),
  answers: z.array(rawAnswerSchema).nullish(),
});

/** An answer as stored: Typeform's answer plus what the data model reads from it. */
export interface TypeformAnswer extends RawAnswer {
  /** The field's title when the response was read (titles change; ids stay). */
  field_title: string | null;
  /** The number of an nps, opinion_scale or rating answer, else null. */
  score: number | null;
  /** The text of a short_text or long_text answer, else null. */
  comment: string | null;
  /** The label(s) of a choice answer, else null. */
  choice_labels: string[] | null;
  /** The answer as one line of text, whatever its type. */
  value_text: string | null;
}

/** A response as stored: Typeform's response, its form, the e-mail that links it to a customer, and its answers. */
export interface TypeformResponse {
  response_id: string;
  token: string;
  landing_id?: string | null | undefined;
  landed_at?: string | null | undefined;
  submitted_at: string;
  metadata?: Record<string, unknown> | null | undefined;
  hidden?: Record<string, unknown> | null | undefined;
  calculated?: { score?: number | null | undefined } | null | undefined;
  variables?: unknown[] | null | undefined;
  form: { id: string; title: string | null };
  /** The respondent's e-mail from where the installation says (hidden field or e-mail question), as received. */
  email: string | null;
  answers: TypeformAnswer[];
  /** Fields Typeform adds later are kept, for the stored copy. */
  [extra: string]: unknown;
}

/** What a response needs from its run: its form, the fields' titles and where the e-mail is. */
export interface ResponseContext {
  formId: string;
  formTitle: string | null;
  fieldTitles: ReadonlyMap<string, string>;
  emailFrom: 'hidden' | 'question';
  emailHiddenField: string;
}

function choiceLabels(answer: RawAnswer): string[] | null {
  if (answer.choice) {
    const label = answer.choice.label ?? answer.choice.other;
    return label ? [label] : null;
  }
  if (answer.choices) {
    const labels = [...(answer.choices.labels ?? []), ...(answer.choices.other ? [answer.choices.other] : [])];
    return labels.length > 0 ? labels : null;
  }
  return null;
}

function valueText(answer: RawAnswer, labels: string[] | null): string | null {
  if (labels) return labels.join(', ');
  for (const value of [answer.text, answer.email, answer.url, answer.date, answer.phone_number, answer.file_url]) {
    if (typeof value === 'string') return value;
  }
  if (typeof answer.number === 'number') return String(answer.number);
  if (typeof answer.boolean === 'boolean') return String(answer.boolean);
  return null;
}

function enrichAnswer(answer: RawAnswer, titles: ReadonlyMap<string, string>): TypeformAnswer {
  const labels = choiceLabels(answer);
  const fieldType = answer.field.type;
  return {
    ...answer,
    field_title: titles.get(answer.field.id) ?? null,
    score: SCORE_FIELD_TYPES.has(fieldType) && typeof answer.number === 'number' ? answer.number : null,
    comment: COMMENT_FIELD_TYPES.has(fieldType) && typeof answer.text === 'string' && answer.text.trim() !== '' ? answer.text : null,
    choice_labels: labels,
    value_text: valueText(answer, labels),
  };
}

function emailOf(response: z.infer<typeof rawResponseSchema>, context: ResponseContext): string | null {
  if (context.emailFrom === 'hidden') {
    const value = response.hidden?.[context.emailHiddenField];
    return typeof value === 'string' && value.trim() !== '' ? value : null;
  }
  const answer = (response.answers ?? []).find((a) => a.field.type === 'email' || a.type === 'email');
  return answer?.email ?? null;
}

/**
 * The schema a response of one form is validated with: Typeform's shape, then the form, the e-mail
 * and each answer's score, comment and labels added, so that the default mappings stay plain paths
 * and `remap` finds everything in the stored copy.
 */
export function responseSchemaFor(context: ResponseContext): z.ZodType<TypeformResponse> {
  return rawResponseSchema.transform((response) => ({
    ...response,
    response_id: response.response_id ?? response.token,
    form: { id: context.formId, title: context.formTitle },
    email: emailOf(response, context),
    answers: (response.answers ?? []).map((answer) => enrichAnswer(answer, context.fieldTitles)),
  }));
}

/** Any stored response, whatever its form: what the stream declares and `summarize` reads. */
export const typeformResponseSchema: z.ZodType<TypeformResponse> = rawResponseSchema.extend({
  response_id: z.string().min(1),
  form: z.object({ id: z.string(), title: z.string().nullable() }),
  email: z.string().nullable(),
  answers: z.array(
    rawAnswerSchema.extend({
      field_title: z.string().nullable(),
      score: z.number().nullable(),
      comment: z.string().nullable(),
      choice_labels: z.array(z.string()).nullable(),
      value_text: z.string().nullable(),
    }),
  ),
}) as unknown as z.ZodType<TypeformResponse>;

/** The id of a raw response before validation: Typeform's response id, else its token. */
export function rawResponseId(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const { response_id: id, token } = raw as { response_id?: unknown; token?: unknown };
  const value = typeof id === 'string' && id !== '' ? id : token;
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;
}

const formFieldSchema: z.ZodType<FormField> = z.lazy(() =>
  z.looseObject({
    id: z.string(),
    ref: optionalText,
    title: optionalText,
    type: z.string(),
    properties: z.looseObject({ fields: z.array(formFieldSchema).optional() }).nullish(),
  }),
);

/** A field of a form definition; a `group` holds fields of its own. */
export interface FormField {
  id: string;
  ref?: string | null | undefined;
  title?: string | null | undefined;
  type: string;
  properties?: { fields?: FormField[] | undefined } | null | undefined;
}

/** `GET /forms/{form_id}`: the parts read here (the title and the fields with their titles). */
export const formDefinitionSchema = z.looseObject({
  id: z.string(),
  title: optionalText,
  fields: z.array(formFieldSchema).nullish(),
});
export type FormDefinition = z.infer<typeof formDefinitionSchema>;

/** Every field of a form, the fields inside groups included, by id → title. */
export function fieldTitles(form: FormDefinition): Map<string, string> {
  const titles = new Map<string, string>();
  const walk = (fields: readonly FormField[] | null | undefined): void => {
    for (const field of fields ?? []) {
      if (field.title) titles.set(field.id, field.title);
      walk(field.properties?.fields);
    }
  };
  walk(form.fields);
  return titles;
}

/** A field as the forms stream stores it: its stable id and ref, and its title and type now. */
export interface FormRecordField {
  id: string;
  ref: string | null;
  title: string | null;
  type: string;
}

/**
 * A record of the forms stream: one form as `GET /forms/{form_id}` describes it now. Its names
 * (`form_id`, `fields`) are not paths of a response, so that only this stream writes forms and
 * fields rows, and a response (or a remap of stored responses) never overwrites them.
 */
export interface TypeformFormRecord {
  form_id: string;
  title: string | null;
  /** When a sync first found the form gone (deleted, or out of the token's reach); null while it exists. */
  deleted_at: string | null;
  /** Every field of the form, the fields inside groups included; empty for a deleted form. */
  fields: FormRecordField[];
}

/** What the forms stream declares; its records are built from validated form definitions. */
export const typeformFormRecordSchema: z.ZodType<TypeformFormRecord> = z.object({
  form_id: z.string().min(1),
  title: z.string().nullable(),
  deleted_at: z.string().nullable(),
  fields: z.array(z.object({ id: z.string().min(1), ref: z.string().nullable(), title: z.string().nullable(), type: z.string().min(1) })),
});

/** Every field of a form definition, groups flattened (a group is a field too, holding the others). */
export function formFields(form: FormDefinition): FormRecordField[] {
  const out: FormRecordField[] = [];
  const walk = (fields: readonly FormField[] | null | undefined): void => {
    for (const field of fields ?? []) {
      out.push({ id: field.id, ref: field.ref ?? null, title: field.title ?? null, type: field.type });
      walk(field.properties?.fields);
    }
  };
  walk(form.fields);
  return out;
}

/** The record of a form that exists now. */
export function formRecordOf(form: FormDefinition, formId: string): TypeformFormRecord {
  return { form_id: formId, title: form.title ?? null, deleted_at: null, fields: formFields(form) };
}
