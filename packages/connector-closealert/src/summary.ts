import type { RecordSummary } from '@tributary/sdk';
import type { FormResponse } from './record.js';

const NUMERIC = /^\s*[+-]?\d+(\.\d+)?\s*$/;

/**
 * A response as one line of the run log: the customer, the form, the score of the first scored
 * question, and the first comment.
 */
export function summarizeFormResponse(response: FormResponse): RecordSummary {
  const summary: RecordSummary = { key: String(response.id) };
  const email = response.email?.trim().toLowerCase();
  if (email) summary.contact = email;
  if (response.form.name) summary.label = response.form.name;
  let score: number | undefined;
  let comment: string | undefined;
  for (const answer of response.answers) {
    const value = answer.response_value;
    if (score === undefined && answer.question_type === 'sentiment') {
      if (typeof value === 'number') score = value;
      else if (typeof value === 'string' && NUMERIC.test(value)) score = Number(value);
    }
    if (comment === undefined && answer.question_type === 'comment' && typeof value === 'string' && value.trim()) {
      comment = value.trim();
    }
  }
  const fields = { ...(score === undefined ? {} : { score }), ...(comment === undefined ? {} : { comment }) };
  if (Object.keys(fields).length > 0) summary.fields = fields;
  return summary;
}
