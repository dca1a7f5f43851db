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
  summary.email = email || `(no e-mail, response ${response.id})`;
  if (response.form.name) summary.form = response.form.name;
  for (const answer of response.answers) {
    const value = answer.response_value;
    if (summary.score === undefined && answer.question_type === 'sentiment') {
      if (typeof value === 'number') summary.score = value;
      else if (typeof value === 'string' && NUMERIC.test(value)) summary.score = Number(value);
    }
    if (summary.comment === undefined && answer.question_type === 'comment' && typeof value === 'string' && value.trim()) {
      summary.comment = value.trim();
    }
  }
  return summary;
}
