import type { DataModelInput } from '@tributary/sdk';

/**
 * The tables a Typeform installation owns; the store prefixes them with the app id and adds the
 * installation id to every key and index. Responses and answers are immutable facts (`ignore`);
 * forms and fields are reference data whose titles change (`update`).
 */
export const typeformDataModel: DataModelInput = {
  primaryTable: 'responses',
  customerEmailColumn: 'email_normalized',
  // What profiles read, by role (core's feedback view): nps, opinion_scale and rating answers are
  // scores, short_text and long_text answers comments; a question is a field id.
  feedback: {
    responses: {
      table: 'responses',
      id: 'response_id',
      time: 'submitted_at',
      email: 'email_normalized',
      form: 'form_id',
      backfilled: 'backfilled',
    },
    answers: {
      table: 'answers',
      response: 'response_id',
      question: 'field_id',
      questionText: 'field_title',
      score: 'score',
      comment: 'comment',
      time: 'submitted_at',
      form: 'form_id',
    },
    forms: { table: 'forms', id: 'form_id', name: 'title' },
    questions: { table: 'fields', form: 'form_id', question: 'field_id', text: 'title', type: 'field_type' },
  },
  tables: [
    {
      name: 'forms',
      description: 'A Typeform form of the selection, as the forms stream last read it (`GET /forms/{form_id}`).',
      rowsFrom: { kind: 'record' },
      key: ['form_id'],
      onConflict: 'update',
      columns: [
        { name: 'form_id', type: 'text', nullable: false, description: "Typeform's form id (as in the form's URL)." },
        { name: 'title', type: 'text', description: 'The form title (the last one seen, for a deleted form).' },
        {
          name: 'deleted_at',
          type: 'timestamp',
          description: 'When a sync first found the form gone (deleted in Typeform, or out of the token\'s reach); null while it exists. Its fields, responses and answers stay.',
        },
      ],
    },
    {
      name: 'fields',
      description: 'A field (question) of a form, by its stable id, from the form definition; holds its latest title.',
      rowsFrom: { kind: 'each', path: 'fields' },
      key: ['form_id', 'field_id'],
      onConflict: 'update',
      columns: [
        { name: 'form_id', type: 'text', nullable: false, description: 'The form the field is on.' },
        { name: 'field_id', type: 'text', nullable: false, description: "Typeform's field id; stable when the title changes." },
        { name: 'ref', type: 'text', description: "The field's ref, stable and set by the form's author." },
        { name: 'title', type: 'text', description: 'The latest title of the field.' },
        { name: 'field_type', type: 'text', description: 'Kind of field: nps, opinion_scale, rating, short_text, long_text, email, multiple_choice, group, …' },
      ],
    },
    {
      name: 'responses',
      description: 'One submitted response to one form; immutable once received.',
      rowsFrom: { kind: 'record' },
      key: ['response_id'],
      onConflict: 'ignore',
      columns: [
        { name: 'response_id', type: 'text', nullable: false, description: "Typeform's response id." },
        { name: 'token', type: 'text', description: "The response token (Typeform's paging cursor)." },
        { name: 'form_id', type: 'text', description: 'The form the response was given on.' },
        { name: 'landed_at', type: 'timestamp', description: 'When the respondent opened the form (UTC).' },
        { name: 'submitted_at', type: 'timestamp', description: 'When the response was submitted (UTC).' },
        { name: 'email', type: 'text', description: "The respondent's e-mail as received (hidden field or e-mail question)." },
        { name: 'email_normalized', type: 'text', description: 'The e-mail trimmed and lower-cased: the link to the customer.' },
        { name: 'hidden', type: 'json', description: 'The hidden fields of the response.' },
        { name: 'metadata', type: 'json', description: 'User agent, platform, referer and browser.' },
        { name: 'calculated_score', type: 'numeric', description: "The form's calculated score, when it has one." },
        { name: 'raw', type: 'json', description: 'The response exactly as validated, for later re-mapping.' },
        { name: 'backfilled', type: 'boolean', description: 'True when read by the first backfill (old news: no campaign should fire on it).' },
      ],
      // Profiles: (form_id, submitted_at, …) answers "form F in the past N days" from the index alone;
      // (email_normalized, submitted_at) finds each customer's latest response. The time index stays
      // narrow on purpose: SQLite plans without statistics, and a covering one there wins over the
      // e-mail index inside "latest response" (a scan of every response per response).
      indexes: [['submitted_at'], ['form_id', 'submitted_at', 'response_id', 'email_normalized'], ['email_normalized', 'submitted_at']],
    },
    {
      name: 'answers',
      description: 'One answer of a response to one field.',
      rowsFrom: { kind: 'each', path: 'answers' },
      key: ['response_id', 'field_id'],
      onConflict: 'ignore',
      columns: [
        { name: 'response_id', type: 'text', nullable: false, description: 'The response the answer belongs to.' },
        { name: 'form_id', type: 'text', description: 'The form of the response.' },
        { name: 'submitted_at', type: 'timestamp', description: "The response's submission time, repeated so profiles filter answers without a join." },
        { name: 'field_id', type: 'text', nullable: false, description: 'The field answered.' },
        { name: 'field_type', type: 'text', description: 'Kind of field: nps, opinion_scale, rating, short_text, …' },
        { name: 'field_title', type: 'text', description: 'Title of the field when the response was read.' },
        { name: 'answer_type', type: 'text', description: 'Kind of value: text, number, boolean, choice, choices, email, date, url, …' },
        { name: 'value_text', type: 'text', description: 'The answer as one line of text, whatever its type.' },
        { name: 'number', type: 'numeric', description: 'A number answer.' },
        { name: 'boolean', type: 'boolean', description: 'A yes/no or legal answer.' },
        { name: 'choice_labels', type: 'json', description: 'The label(s) chosen in a choice answer.' },
        { name: 'email', type: 'text', description: 'An e-mail answer.' },
        { name: 'date', type: 'text', description: 'A date answer (YYYY-MM-DD).' },
        { name: 'url', type: 'text', description: 'A website or file URL answer.' },
        { name: 'score', type: 'numeric', description: 'The number of an nps, opinion_scale or rating answer: the feedback score.' },
        { name: 'comment', type: 'text', description: 'The text of a short_text or long_text answer: the feedback comment.' },
      ],
      // Profiles, from indexes alone: "field Q of form F, in the past N days, with a score …" is one
      // range of the first; "a score … anywhere in the past N days" (a profile across apps names no
      // form) one of the second, joined to its responses by id (PostgreSQL); the third answers "this
      // response has an answer with …" with one probe per response (EXISTS, and the join SQLite
      // starts from the responses). Without the third, SQLite (no statistics) probes with the second
      // or the first, and reads every answer of the range per response. The score index stays narrow
      // for the same reason: a covering one would be probed by score instead of by response.
      indexes: [
        ['form_id', 'field_id', 'submitted_at', 'score', 'response_id'],
        ['submitted_at', 'score', 'response_id', 'field_id'],
        ['response_id', 'submitted_at', 'score', 'field_id'],
        ['score'],
      ],
    },
  ],
};
