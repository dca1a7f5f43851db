import { z } from 'zod';
import type { AnswerCopies } from './compile.js';

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

/**
 * Which response columns an installation's answers repeat, read from its current mappings: the
 * answer's column must be filled from the very field, with the same transform, as the response's.
 * The CloseAlert defaults copy both `created_at` and `form_id`; an operator who remaps or switches
 * off one of them loses only the shortcut, never a member.
 */
export function answerCopiesOf(mappings: unknown): AnswerCopies {
  let value = mappings;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { createdAt: false, formId: false };
    }
  }
  const parsed = storedMappingsSchema.safeParse(value);
  if (!parsed.success) return { createdAt: false, formId: false };
  const active = parsed.data.filter((m) => m.enabled !== false);
  const sourceOf = (table: string, column: string) => {
    const found = active.filter((m) => m.target.table === table && m.target.column === column);
    return found.length === 1 ? found[0] : undefined;
  };
  const copies = (column: string) => {
    const response = sourceOf('form_responses', column);
    const answer = sourceOf('answers', column);
    return (
      response !== undefined &&
      answer !== undefined &&
      answer.source === `$record.${response.source}` &&
      answer.transform === response.transform
    );
  };
  return { createdAt: copies('created_at'), formId: copies('form_id') };
}
