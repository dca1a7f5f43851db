import { describe, expect, it } from 'vitest';
import { closeAlertConnector } from './connector.js';
import { formResponseSchema } from './record.js';
import { summarizeFormResponse } from './summary.js';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

const response = formResponseSchema.parse({
  id: 11,
  created_at: '2024-05-01T10:00:00',
  email: ' Bob@Example.com ',
  form: { id: 3, form_type: 'nps', name: 'NPS survey' },
  answers: [
    { question: 'Mail?', question_type: 'form', answer_type: 'email', question_index: '3.1', response_value: 'x@y.z' },
    { question: 'Score?', question_type: 'sentiment', answer_type: null, question_index: '1', response_value: '2' },
    { question: 'Why?', question_type: 'comment', answer_type: null, question_index: '2', response_value: ' Too many mails ' },
  ],
});

describe('summarizeFormResponse', () => {
  it('names the customer, the form, the score and the comment', () => {
    expect(summarizeFormResponse(response)).toEqual({
      key: '11',
      contact: 'bob@example.com',
      label: 'NPS survey',
      fields: { score: 2, comment: 'Too many mails' },
    });
  });

  it('leaves out the contact and the fields a response does not have', () => {
    expect(summarizeFormResponse({ ...response, email: null, answers: [] })).toEqual({ key: '11', label: 'NPS survey' });
  });
});

describe('closeAlertConnector.preflight', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const config = closeAlertConnector.configSchema.parse({ projectKey: 'company.com', apiToken: jwt({ sub: 'x' }) });
  const withExpiry = (days: number) => ({ ...config, apiToken: jwt({ exp: now.getTime() / 1000 + days * 86_400 }) });

  it('warns 14 and 7 days ahead and not before', () => {
    expect(closeAlertConnector.preflight?.(config, now).warnings).toEqual([]);
    expect(closeAlertConnector.preflight?.(withExpiry(30), now).warnings).toEqual([]);
    expect(closeAlertConnector.preflight?.(withExpiry(14), now).warnings[0]).toMatch(/14 days left.*tributary app token/);
    expect(closeAlertConnector.preflight?.(withExpiry(7), now).warnings[0]).toMatch(/7 days left/);
  });

  it('fails an expired token with the way to replace it', () => {
    expect(() => closeAlertConnector.preflight?.(withExpiry(-1), now)).toThrow(/expired.*tributary app token --workspace/);
  });

  it('reads the time zone from the config', () => {
    expect(closeAlertConnector.timeZoneOf?.({ ...config, timeZone: 'Europe/Amsterdam' })).toBe('Europe/Amsterdam');
  });
});
