import { z } from 'zod';
import type { SavedCustomer, SavedFeedback } from '@tributary/core';

const summaryValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A run-log line as every connector gives it. */
export const summarySchema = z.object({
  key: z.string().optional(),
  contact: z.string().optional(),
  label: z.string().optional(),
  fields: z.record(z.string(), summaryValue).optional(),
});

/** A line as runs logged it before the log was connector-neutral: CloseAlert's e-mail, form, score and comment. */
const legacySchema = z.object({
  email: z.string(),
  form: z.string().nullish(),
  score: z.union([z.number(), z.string()]).nullish(),
  comment: z.string().nullish(),
});

/** The stand-in older runs logged for a record without an e-mail, which names its key. */
const NO_EMAIL = /^\(no e-mail, (?:response|record) (.+)\)$/;

/** An older line in today's shape: the e-mail is the contact, the form the label, score and comment the fields. */
function fromLegacy(old: z.infer<typeof legacySchema>): SavedFeedback {
  const placeholder = NO_EMAIL.exec(old.email);
  const fields = {
    // PostgreSQL's numeric comes back as text.
    ...(old.score === null || old.score === undefined ? {} : { score: Number(old.score) }),
    ...(old.comment === null || old.comment === undefined ? {} : { comment: old.comment }),
  };
  return {
    ...(placeholder ? { key: placeholder[1]! } : { contact: old.email }),
    ...(old.form === null || old.form === undefined ? {} : { label: old.form }),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
  };
}

/** A line kept in `runs.saved`, of either shape; undefined when it is neither. */
function lineOf(stored: unknown): SavedFeedback | undefined {
  if (typeof stored === 'object' && stored !== null && 'email' in stored) {
    const legacy = legacySchema.safeParse(stored);
    return legacy.success ? fromLegacy(legacy.data) : undefined;
  }
  const line = summarySchema.safeParse(stored);
  return line.success ? withoutEmpty(line.data) : undefined;
}

function withoutEmpty(line: z.infer<typeof summarySchema>): SavedFeedback {
  return Object.fromEntries(Object.entries(line).filter(([, v]) => v !== undefined)) as SavedFeedback;
}

/** The lines of a `runs.saved` column (JSON, or JSON text on SQLite), old and new shapes alike. */
export function savedLinesOf(stored: unknown): SavedFeedback[] {
  const value = typeof stored === 'string' ? safeJson(stored) : stored;
  if (!Array.isArray(value)) return [];
  return value.map(lineOf).filter((line): line is SavedFeedback => line !== undefined);
}

/** A row of `run_saved`: rows written before the log was connector-neutral have no record key and fill the older columns. */
export interface SavedRow {
  id: number | string;
  email: string | null;
  form: string | null;
  score: number | string | null;
  comment: string | null;
  record_key: string | null;
  contact: string | null;
  label: string | null;
  fields: string | null;
}

/** The columns of `run_saved` a read selects. */
export const SAVED_COLUMNS = `"id", "email", "form", "score", "comment", "record_key", "contact", "label", "fields"`;

export function savedCustomerOf(row: SavedRow): SavedCustomer {
  const seq = Number(row.id);
  if (row.record_key === null) {
    return { seq, ...fromLegacy({ email: row.email ?? '', form: row.form, score: row.score, comment: row.comment }) };
  }
  const fields = z.record(z.string(), summaryValue).safeParse(row.fields === null ? undefined : safeJson(row.fields));
  return {
    seq,
    key: row.record_key,
    ...(row.contact === null ? {} : { contact: row.contact }),
    ...(row.label === null ? {} : { label: row.label }),
    ...(fields.success ? { fields: fields.data } : {}),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
