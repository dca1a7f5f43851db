import type { DataModelInput } from '@tributary/sdk';

/**
 * The tables a CloseAlert installation owns; the store prefixes them with the app id and adds the
 * installation id to every key and index. Responses and answers are immutable facts (`ignore`);
 * forms, mailings, groups and question texts are reference data that may be renamed (`update`).
 */
export const closeAlertDataModel: DataModelInput = {
  primaryTable: 'form_responses',
  customerEmailColumn: 'email_normalized',
  // What profiles read, by role (core's feedback view).
  feedback: {
    responses: {
      table: 'form_responses',
      id: 'response_id',
      time: 'created_at',
      email: 'email_normalized',
      form: 'form_id',
      mailing: 'mailing_id',
      group: 'group_id',
      backfilled: 'backfilled',
    },
    answers: {
      table: 'answers',
      response: 'response_id',
      question: 'question_index',
      questionText: 'question',
      score: 'score',
      comment: 'value_text',
      time: 'created_at',
      form: 'form_id',
    },
    forms: { table: 'forms', id: 'form_id', name: 'name', type: 'form_type' },
    mailings: { table: 'mailings', id: 'mailing_id', name: 'name' },
    groups: { table: 'groups', id: 'group_id', name: 'name' },
    questions: { table: 'questions', form: 'form_id', question: 'question_index', text: 'question', type: 'question_type' },
  },
  tables: [
    {
      name: 'forms',
      description: 'A CloseAlert form, as last seen on a response.',
      rowsFrom: { kind: 'record' },
      key: ['form_id'],
      onConflict: 'update',
      columns: [
        { name: 'form_id', type: 'bigint', nullable: false, description: "CloseAlert's form id." },
        { name: 'form_type', type: 'text', description: 'Kind of form, e.g. email-satisfaction.' },
        { name: 'name', type: 'text', description: 'Form name as shown in CloseAlert.' },
      ],
    },
    {
      name: 'mailings',
      description: 'A mailing (an e-mail send) responses were given on.',
      rowsFrom: { kind: 'record' },
      key: ['mailing_id'],
      onConflict: 'update',
      columns: [
        { name: 'mailing_id', type: 'bigint', nullable: false, description: "CloseAlert's mailing id." },
        { name: 'name', type: 'text', description: 'Mailing name.' },
      ],
    },
    {
      name: 'groups',
      description: 'The group a mailing belongs to (directly or nested).',
      rowsFrom: { kind: 'record' },
      key: ['group_id'],
      onConflict: 'update',
      columns: [
        { name: 'group_id', type: 'bigint', nullable: false, description: "CloseAlert's group id." },
        { name: 'name', type: 'text', description: 'Group name.' },
      ],
    },
    {
      name: 'form_responses',
      description: 'One response of one customer to one form; immutable once received.',
      rowsFrom: { kind: 'record' },
      key: ['response_id'],
      onConflict: 'ignore',
      columns: [
        { name: 'response_id', type: 'bigint', nullable: false, description: "CloseAlert's response id." },
        { name: 'created_at', type: 'timestamp', description: 'When the response was received (UTC).' },
        { name: 'email', type: 'text', description: "The respondent's e-mail address as received." },
        {
          name: 'email_normalized',
          type: 'text',
          description: 'The e-mail trimmed and lower-cased: the link to the customer.',
        },
        { name: 'mail_url', type: 'text', description: 'URL of the e-mail the response was given on.' },
        { name: 'user_agent', type: 'text', description: "The respondent's browser user agent." },
        { name: 'device_type', type: 'text', description: 'Device type, e.g. desktop or tablet.' },
        {
          name: 'operating_system',
          type: 'text',
          description: 'Operating system, e.g. macos, ios, windows.',
        },
        { name: 'followed_up', type: 'boolean', description: 'Whether CloseAlert sent a follow-up e-mail.' },
        { name: 'merge_tags', type: 'json', description: 'Free merge tags sent by the e-mail platform.' },
        { name: 'form_id', type: 'bigint', description: 'The form the response was given on.' },
        { name: 'mailing_id', type: 'bigint', description: 'The mailing the response was given on.' },
        { name: 'group_id', type: 'bigint', description: "The mailing's group." },
        {
          name: 'raw',
          type: 'json',
          description: 'The response exactly as validated, for later re-mapping.',
        },
        {
          name: 'backfilled',
          type: 'boolean',
          description: 'True when read by the first backfill (old news: no campaign should fire on it).',
        },
      ],
      // Profiles: (form_id, created_at, …) answers "form F in the past N days" from the index alone;
      // (email_normalized, created_at) finds each customer's latest response.
      indexes: [
        ['created_at'],
        ['form_id', 'created_at', 'response_id', 'email_normalized'],
        ['email_normalized', 'created_at'],
        ['mailing_id'],
        ['group_id'],
      ],
    },
    {
      name: 'questions',
      description: 'A question of a form, identified by form and question index; holds its latest text.',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['form_id', 'question_index'],
      onConflict: 'update',
      columns: [
        { name: 'form_id', type: 'bigint', nullable: false, description: 'The form the question is on.' },
        {
          name: 'question_index',
          type: 'text',
          nullable: false,
          description: 'Position on the form, e.g. 1 or 3.1 (CloseAlert has no question id).',
        },
        { name: 'question', type: 'text', description: 'The latest text of the question.' },
        { name: 'question_type', type: 'text', description: 'Kind of question: sentiment, comment, form, …' },
        {
          name: 'answer_type',
          type: 'text',
          description: 'Kind of form field answer, e.g. email; often null.',
        },
      ],
    },
    {
      name: 'answers',
      description: 'One answer of a response to one question.',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['response_id', 'question_index'],
      onConflict: 'ignore',
      columns: [
        {
          name: 'response_id',
          type: 'bigint',
          nullable: false,
          description: 'The response the answer belongs to.',
        },
        { name: 'form_id', type: 'bigint', description: 'The form of the response.' },
        {
          name: 'created_at',
          type: 'timestamp',
          description: "The response's creation time, repeated so profiles filter answers without a join.",
        },
        {
          name: 'question_index',
          type: 'text',
          nullable: false,
          description: 'Position of the question on the form.',
        },
        { name: 'question', type: 'text', description: 'Text of the question when it was answered.' },
        { name: 'question_type', type: 'text', description: 'Kind of question: sentiment, comment, form, …' },
        { name: 'answer_type', type: 'text', description: 'Kind of form field answer, often null.' },
        {
          name: 'value_text',
          type: 'text',
          description: 'The answer as text (a comment, a field value, a score).',
        },
        {
          name: 'score',
          type: 'numeric',
          description: 'The answer as a number when it is one (a numeric value or numeric text), else null.',
        },
      ],
      // Profiles: "question Q of form F, in the past N days, with a score …" is one range of the
      // first index, which also holds the score and the response id (no table access); "a score …
      // anywhere in the past N days" (a profile across apps names no form) one range of the second,
      // joined to its responses by id; the third answers "this response has an answer with …" with
      // one index-only probe per response (EXISTS, the join SQLite starts from the responses, and a
      // streamed profile read in e-mail order). The same three as Typeform's answers.
      indexes: [
        ['form_id', 'question_index', 'created_at', 'score', 'response_id'],
        ['created_at', 'score', 'response_id', 'question_index'],
        ['response_id', 'created_at', 'score', 'question_index'],
        ['score'],
      ],
    },
  ],
};
