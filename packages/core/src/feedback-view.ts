import { z } from 'zod';
import { identifierSchema } from './identifiers.js';

// A connector whose data is customer feedback says which of its columns play which part, so that
// profiles compile against these roles and never against one connector's table names. Every name is
// a table or column of the connector's own data model (checked by dataModelSchema); the store adds
// the installation id and, on the responses table, the contact id, as it does for every app table.

/** The table with one row per response (usually the model's primary table). */
export const feedbackResponsesSchema = z.object({
  table: identifierSchema,
  /** The response's id: unique per installation. */
  id: identifierSchema,
  /** When the response was given (a timestamp column): "within N days" and "latest" read it. */
  time: identifierSchema,
  /** The normalized (trimmed, lower-cased) e-mail: the customer's identity across apps. */
  email: identifierSchema,
  /** The form or survey the response was given on. */
  form: identifierSchema.optional(),
  /** The campaign or mailing (an e-mail send) the response came from. */
  mailing: identifierSchema.optional(),
  /** A grouping of mailings (CloseAlert's groups), when the source has one. */
  group: identifierSchema.optional(),
  /** True when the first backfill read the response (old news: no campaign should fire on it). */
  backfilled: identifierSchema.optional(),
});

/** The table with one row per answer of a response to one question. */
export const feedbackAnswersSchema = z.object({
  table: identifierSchema,
  /** Links the answer to its response's `id`. */
  response: identifierSchema,
  /** The question's key on its form (a question index such as `3.1`, or a field id). */
  question: identifierSchema,
  /** The question's text when it was answered. */
  questionText: identifierSchema.optional(),
  /** The answer as a number when it is a score (NPS, rating, opinion scale), else NULL. */
  score: identifierSchema.optional(),
  /** The answer as free text when it is a comment, else NULL. */
  comment: identifierSchema.optional(),
  /** A copy of the response's time on each answer, so a time range narrows answers without a join. */
  time: identifierSchema.optional(),
  /** A copy of the response's form on each answer, for the same reason. */
  form: identifierSchema.optional(),
});

/** A reference table that names the ids a response carries (forms, mailings, groups). */
export const feedbackNamesSchema = z.object({
  table: identifierSchema,
  id: identifierSchema,
  name: identifierSchema,
});

/** The questions of each form with their latest text, for pickers and `profiles fields`. */
export const feedbackQuestionsSchema = z.object({
  table: identifierSchema,
  form: identifierSchema,
  question: identifierSchema,
  text: identifierSchema.optional(),
  type: identifierSchema.optional(),
});

/** Which columns of a connector's data model are its feedback, by role. */
export const feedbackViewSchema = z.object({
  responses: feedbackResponsesSchema,
  answers: feedbackAnswersSchema,
  forms: feedbackNamesSchema.extend({ type: identifierSchema.optional() }).optional(),
  mailings: feedbackNamesSchema.optional(),
  groups: feedbackNamesSchema.optional(),
  questions: feedbackQuestionsSchema.optional(),
});
/** Which columns of a connector's data model are its feedback, by role. */
export type FeedbackView = z.infer<typeof feedbackViewSchema>;

/** Every (table, column) a feedback view names, with the role's path for error messages. */
export function feedbackViewColumns(view: FeedbackView): { path: string; table: string; column: string }[] {
  const out: { path: string; table: string; column: string }[] = [];
  for (const [part, spec] of Object.entries(view) as [
    string,
    Record<string, string | undefined> | undefined,
  ][]) {
    if (!spec) continue;
    for (const [role, column] of Object.entries(spec)) {
      if (role === 'table' || column === undefined) continue;
      out.push({ path: `${part}.${role}`, table: spec['table']!, column });
    }
  }
  return out;
}
