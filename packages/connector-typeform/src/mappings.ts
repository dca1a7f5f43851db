import type { MappingInput, SourceFields, Transform } from '@tributary/sdk';

/**
 * Every path a validated record offers, so that a mapping of a path that does not exist is refused:
 * a response's (responses stream), and a form's (`form_id`, `title`, `deleted_at`, `fields`; forms stream).
 */
export const typeformSourceFields: SourceFields = {
  record: [
    'form_id',
    'title',
    'deleted_at',
    'fields',
    'response_id',
    'token',
    'landing_id',
    'landed_at',
    'submitted_at',
    'email',
    'metadata',
    'hidden',
    'calculated',
    'calculated.score',
    'variables',
    'form',
    'form.id',
    'form.title',
    'answers',
  ],
  each: {
    fields: ['id', 'ref', 'title', 'type'],
    answers: [
      'field',
      'field.id',
      'field.type',
      'field.ref',
      'field_title',
      'type',
      'text',
      'number',
      'boolean',
      'email',
      'date',
      'url',
      'phone_number',
      'file_url',
      'choice',
      'choice.label',
      'choices',
      'choices.labels',
      'choice_labels',
      'value_text',
      'score',
      'comment',
    ],
  },
  // Hidden fields and metadata are free objects: `hidden.plan` may be mapped to a new column.
  openObjects: ['hidden', 'metadata'],
  meta: ['backfill'],
};

function map(source: string, table: string, column: string, transform: Transform): MappingInput {
  return { source, target: { table, column }, transform, enabled: true };
}

/** The mappings an installation starts with: every Typeform field linked to its column. */
export const typeformDefaultMappings: readonly MappingInput[] = [
  // Forms and fields come from the forms stream's records only (a response has no `form_id` or
  // `fields`), so that a deleted form keeps its mark and a response read late never brings back an old title.
  map('form_id', 'forms', 'form_id', 'string'),
  map('title', 'forms', 'title', 'string'),
  map('deleted_at', 'forms', 'deleted_at', 'timestamp'),

  map('$record.form_id', 'fields', 'form_id', 'string'),
  map('id', 'fields', 'field_id', 'string'),
  map('ref', 'fields', 'ref', 'string'),
  map('title', 'fields', 'title', 'string'),
  map('type', 'fields', 'field_type', 'string'),

  map('response_id', 'responses', 'response_id', 'string'),
  map('token', 'responses', 'token', 'string'),
  map('form.id', 'responses', 'form_id', 'string'),
  map('landed_at', 'responses', 'landed_at', 'timestamp'),
  map('submitted_at', 'responses', 'submitted_at', 'timestamp'),
  map('email', 'responses', 'email', 'string'),
  map('email', 'responses', 'email_normalized', 'email'),
  map('hidden', 'responses', 'hidden', 'json'),
  map('metadata', 'responses', 'metadata', 'json'),
  map('calculated.score', 'responses', 'calculated_score', 'number'),
  map('$record', 'responses', 'raw', 'json'),
  map('$meta.backfill', 'responses', 'backfilled', 'boolean'),

  map('$record.response_id', 'answers', 'response_id', 'string'),
  map('$record.form.id', 'answers', 'form_id', 'string'),
  map('$record.submitted_at', 'answers', 'submitted_at', 'timestamp'),
  map('field.id', 'answers', 'field_id', 'string'),
  map('field.type', 'answers', 'field_type', 'string'),
  map('field_title', 'answers', 'field_title', 'string'),
  map('type', 'answers', 'answer_type', 'string'),
  map('value_text', 'answers', 'value_text', 'string'),
  map('number', 'answers', 'number', 'number'),
  map('boolean', 'answers', 'boolean', 'boolean'),
  map('choice_labels', 'answers', 'choice_labels', 'json'),
  map('email', 'answers', 'email', 'string'),
  map('date', 'answers', 'date', 'string'),
  map('url', 'answers', 'url', 'string'),
  // The feedback view's roles, decided by the field type when the response is read.
  map('score', 'answers', 'score', 'number'),
  map('comment', 'answers', 'comment', 'string'),
];
