import { describe, expect, it } from 'vitest';
import { applyMappings, compileMappings, type MappedRows } from '@tributary/sdk';
import { closeAlertConnector } from './connector.js';
import { formResponseSchema } from './record.js';

// Pure fixtures shaped like CloseAlert's answers; no secrets involved.
const scored = {
  id: 101,
  created_at: '2025-01-15T10:30:00',
  email: '  Peter.Jansen@Example.COM ',
  mail_url: 'https://mail.example.com/101',
  user_agent: 'Mozilla/5.0',
  device_type: 'desktop',
  operating_system: 'macos',
  followed_up: false,
  merge_tags: { segment: 'gold', age: 41 },
  form: { id: 34, form_type: 'email-satisfaction', name: 'Satisfaction' },
  mailing: { id: 42, name: 'January' },
  group: { id: 44, name: 'Newsletters' },
  answers: [
    {
      question: 'How do you rate us?',
      question_type: 'sentiment',
      answer_type: null,
      question_index: '1',
      response_value: '4',
    },
    {
      question: 'Why?',
      question_type: 'comment',
      answer_type: null,
      question_index: '2',
      response_value: 'Fast delivery',
    },
    {
      question: 'Your e-mail?',
      question_type: 'form',
      answer_type: 'email',
      question_index: '3.1',
      response_value: 'p@example.com',
    },
  ],
};

const numeric = {
  id: 102,
  created_at: '2025-07-01T08:00:00+02:00',
  email: null,
  form: { id: 34, form_type: 'email-satisfaction', name: 'Satisfaction (renamed)' },
  mailing: null,
  group: null,
  answers: [
    {
      question: 'How do you rate us now?',
      question_type: 'sentiment',
      answer_type: null,
      question_index: 1,
      response_value: 4,
    },
  ],
};

function mapped(records: unknown[], backfill: boolean, timeZone = 'Europe/Amsterdam'): MappedRows {
  const parsed = records.map((record) => formResponseSchema.parse(record));
  const compiled = compileMappings(closeAlertConnector.defaultMappings, closeAlertConnector.dataModel);
  return applyMappings(parsed, compiled, { backfill, timeZone });
}

describe('default mappings', () => {
  it('fill every table of the data model from a response', () => {
    const rows = mapped([scored], true);
    expect(Object.keys(rows).sort()).toEqual([
      'answers',
      'form_responses',
      'forms',
      'groups',
      'mailings',
      'questions',
    ]);
    expect(rows.forms).toEqual([{ form_id: 34, form_type: 'email-satisfaction', name: 'Satisfaction' }]);
    expect(rows.mailings).toEqual([{ mailing_id: 42, name: 'January' }]);
    expect(rows.groups).toEqual([{ group_id: 44, name: 'Newsletters' }]);
    expect(rows.form_responses).toEqual([
      {
        response_id: 101,
        // Offset-less time in Amsterdam winter time is one hour ahead of UTC.
        created_at: '2025-01-15T09:30:00.000Z',
        email: '  Peter.Jansen@Example.COM ',
        email_normalized: 'peter.jansen@example.com',
        mail_url: 'https://mail.example.com/101',
        user_agent: 'Mozilla/5.0',
        device_type: 'desktop',
        operating_system: 'macos',
        followed_up: false,
        merge_tags: '{"segment":"gold","age":41}',
        form_id: 34,
        mailing_id: 42,
        group_id: 44,
        raw: JSON.stringify(formResponseSchema.parse(scored)),
        backfilled: true,
      },
    ]);
  });

  it('give one answer row per answer, with a score only for numeric values', () => {
    const rows = mapped([scored, numeric], false);
    expect(rows.answers).toEqual([
      {
        response_id: 101,
        form_id: 34,
        created_at: '2025-01-15T09:30:00.000Z',
        question_index: '1',
        question: 'How do you rate us?',
        question_type: 'sentiment',
        answer_type: null,
        value_text: '4',
        score: 4,
      },
      {
        response_id: 101,
        form_id: 34,
        created_at: '2025-01-15T09:30:00.000Z',
        question_index: '2',
        question: 'Why?',
        question_type: 'comment',
        answer_type: null,
        value_text: 'Fast delivery',
        score: null,
      },
      {
        response_id: 101,
        form_id: 34,
        created_at: '2025-01-15T09:30:00.000Z',
        question_index: '3.1',
        question: 'Your e-mail?',
        question_type: 'form',
        answer_type: 'email',
        value_text: 'p@example.com',
        score: null,
      },
      {
        response_id: 102,
        form_id: 34,
        // An explicit offset wins over the installation's zone.
        created_at: '2025-07-01T06:00:00.000Z',
        question_index: '1',
        question: 'How do you rate us now?',
        question_type: 'sentiment',
        answer_type: null,
        value_text: '4',
        score: 4,
      },
    ]);
  });

  it('keep the latest text of a question and of a form, and skip absent mailings and groups', () => {
    const rows = mapped([scored, numeric], false);
    expect(rows.questions).toEqual([
      { form_id: 34, question_index: '2', question: 'Why?', question_type: 'comment', answer_type: null },
      {
        form_id: 34,
        question_index: '3.1',
        question: 'Your e-mail?',
        question_type: 'form',
        answer_type: 'email',
      },
      {
        form_id: 34,
        question_index: '1',
        question: 'How do you rate us now?',
        question_type: 'sentiment',
        answer_type: null,
      },
    ]);
    expect(rows.forms).toEqual([
      { form_id: 34, form_type: 'email-satisfaction', name: 'Satisfaction (renamed)' },
    ]);
    expect(rows.mailings).toEqual([{ mailing_id: 42, name: 'January' }]);
    expect(rows.groups).toEqual([{ group_id: 44, name: 'Newsletters' }]);
    const second = rows.form_responses?.find((row) => row.response_id === 102);
    expect(second).toMatchObject({
      email: null,
      email_normalized: null,
      mailing_id: null,
      group_id: null,
      merge_tags: null,
      backfilled: false,
    });
  });

  it('read offset-less timestamps as UTC when the installation says so', () => {
    const rows = mapped([scored], false, 'UTC');
    expect(rows.form_responses?.[0]?.created_at).toBe('2025-01-15T10:30:00.000Z');
  });

  it('declare the primary table and the customer e-mail column', () => {
    expect(closeAlertConnector.dataModel.primaryTable).toBe('form_responses');
    expect(closeAlertConnector.dataModel.customerEmailColumn).toBe('email_normalized');
    for (const table of closeAlertConnector.dataModel.tables) {
      for (const key of table.key) expect(table.columns.find((c) => c.name === key)?.nullable).toBe(false);
      for (const column of table.columns) expect(column.description).not.toBe('');
    }
  });
});
