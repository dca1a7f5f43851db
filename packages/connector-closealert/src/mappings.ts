import type { MappingInput, SourceFields, Transform } from '@tributary/sdk';

/** Every path a validated form response offers, so that a mapping of a path that does not exist is refused. */
export const closeAlertSourceFields: SourceFields = {
  record: [
    'id',
    'created_at',
    'email',
    'mail_url',
    'user_agent',
    'device_type',
    'operating_system',
    'followed_up',
    'merge_tags',
    'form',
    'form.id',
    'form.form_type',
    'form.name',
    'mailing',
    'mailing.id',
    'mailing.name',
    'group',
    'group.id',
    'group.name',
    'answers',
  ],
  each: {
    answers: ['question', 'question_type', 'answer_type', 'question_index', 'response_value'],
  },
  openObjects: ['merge_tags'],
  meta: ['backfill'],
};

function map(source: string, table: string, column: string, transform: Transform): MappingInput {
  return { source, target: { table, column }, transform, enabled: true };
}

/** The mappings an installation starts with: every CloseAlert field linked to its column. */
export const closeAlertDefaultMappings: readonly MappingInput[] = [
  map('form.id', 'forms', 'form_id', 'integer'),
  map('form.form_type', 'forms', 'form_type', 'string'),
  map('form.name', 'forms', 'name', 'string'),

  map('mailing.id', 'mailings', 'mailing_id', 'integer'),
  map('mailing.name', 'mailings', 'name', 'string'),

  map('group.id', 'groups', 'group_id', 'integer'),
  map('group.name', 'groups', 'name', 'string'),

  map('id', 'form_responses', 'response_id', 'integer'),
  map('created_at', 'form_responses', 'created_at', 'timestamp'),
  map('email', 'form_responses', 'email', 'string'),
  map('email', 'form_responses', 'email_normalized', 'email'),
  map('mail_url', 'form_responses', 'mail_url', 'string'),
  map('user_agent', 'form_responses', 'user_agent', 'string'),
  map('device_type', 'form_responses', 'device_type', 'string'),
  map('operating_system', 'form_responses', 'operating_system', 'string'),
  map('followed_up', 'form_responses', 'followed_up', 'boolean'),
  map('merge_tags', 'form_responses', 'merge_tags', 'json'),
  map('form.id', 'form_responses', 'form_id', 'integer'),
  map('mailing.id', 'form_responses', 'mailing_id', 'integer'),
  map('group.id', 'form_responses', 'group_id', 'integer'),
  map('$record', 'form_responses', 'raw', 'json'),
  map('$meta.backfill', 'form_responses', 'backfilled', 'boolean'),

  map('$record.form.id', 'questions', 'form_id', 'integer'),
  map('question_index', 'questions', 'question_index', 'string'),
  map('question', 'questions', 'question', 'string'),
  map('question_type', 'questions', 'question_type', 'string'),
  map('answer_type', 'questions', 'answer_type', 'string'),

  map('$record.id', 'answers', 'response_id', 'integer'),
  map('$record.form.id', 'answers', 'form_id', 'integer'),
  map('$record.created_at', 'answers', 'created_at', 'timestamp'),
  map('question_index', 'answers', 'question_index', 'string'),
  map('question', 'answers', 'question', 'string'),
  map('question_type', 'answers', 'question_type', 'string'),
  map('answer_type', 'answers', 'answer_type', 'string'),
  map('response_value', 'answers', 'value_text', 'string'),
  map('response_value', 'answers', 'score', 'number'),
];
