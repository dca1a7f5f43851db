import type { FeedbackView } from '@tributary/core';
import { z } from 'zod';
import type { AnswerCopies } from './schema.js';

const storedMappingsSchema = z.array(
  z
    .object({
      source: z.string(),
      target: z.object({ table: z.string(), column: z.string() }),
      transform: z.string().optional(),
      enabled: z.boolean().optional(),
    })
    .loose(),
);

const NONE: AnswerCopies = { createdAt: false, formId: false };

/**
 * Which response columns an installation's answers repeat, read from its current mappings: the
 * answer's column (its view role) must be filled from the very field, with the same transform, as
 * the response's. A connector's defaults may copy the time and the form; an operator who remaps or
 * switches off one of them loses only the shortcut, never a member.
 */
export function answerCopiesOf(mappings: unknown, view: FeedbackView): AnswerCopies {
  let value = mappings;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return NONE;
    }
  }
  const parsed = storedMappingsSchema.safeParse(value);
  if (!parsed.success) return NONE;
  const active = parsed.data.filter((m) => m.enabled !== false);
  const sourceOf = (table: string, column: string) => {
    const found = active.filter((m) => m.target.table === table && m.target.column === column);
    return found.length === 1 ? found[0] : undefined;
  };
  const copies = (responseColumn: string | undefined, answerColumn: string | undefined) => {
    if (responseColumn === undefined || answerColumn === undefined) return false;
    const response = sourceOf(view.responses.table, responseColumn);
    const answer = sourceOf(view.answers.table, answerColumn);
    return (
      response !== undefined &&
      answer !== undefined &&
      answer.source === `$record.${response.source}` &&
      answer.transform === response.transform
    );
  };
  return {
    createdAt: copies(view.responses.time, view.answers.time),
    formId: copies(view.responses.form, view.answers.form),
  };
}
