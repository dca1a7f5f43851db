import { describe, expect, it } from 'vitest';
import { applyMappings, compileMappings, countRecordsWithRow } from '@tributary/sdk';
import { typeformConnector } from './connector.js';
import { fieldTitles, formRecordOf, responseSchemaFor } from './record.js';
import { summarizeResponse } from './stream.js';

const response = {
  landing_id: 'tok1',
  token: 'tok1',
  response_id: 'tok1',
  landed_at: '2026-03-01T10:00:00Z',
  submitted_at: '2026-03-01T10:05:00Z',
  metadata: { platform: 'mobile' },
  hidden: { email: '  Ann@Example.COM ' },
  calculated: { score: 3 },
  answers: [
    { field: { id: 'f_nps', type: 'nps', ref: 'nps' }, type: 'number', number: 4 },
    { field: { id: 'f_long', type: 'long_text', ref: 'why' }, type: 'text', text: 'Too slow' },
    { field: { id: 'f_pick', type: 'multiple_choice', ref: 'pick' }, type: 'choices', choices: { labels: ['Red', 'Blue'] } },
    { field: { id: 'f_num', type: 'number', ref: 'n' }, type: 'number', number: 12 },
    { field: { id: 'f_yes', type: 'yes_no', ref: 'yes' }, type: 'boolean', boolean: false },
  ],
};
const definition = { id: 'form1', title: 'Survey', fields: [{ id: 'f_nps', type: 'nps', title: 'Recommend?' }, { id: 'g', type: 'group', title: 'Group', properties: { fields: [{ id: 'f_long', type: 'long_text', title: 'Why?' }] } }] };

describe('typeform responses', () => {
  const schema = responseSchemaFor({ formId: 'form1', formTitle: 'Survey', fieldTitles: fieldTitles(definition), emailFrom: 'hidden', emailHiddenField: 'email' });

  it('makes nps/opinion_scale/rating numbers scores and short/long texts comments, nothing else', () => {
    const record = schema.parse(response);
    expect(record.answers.map((a) => [a.field.id, a.score, a.comment])).toEqual([
      ['f_nps', 4, null],
      ['f_long', null, 'Too slow'],
      ['f_pick', null, null],
      ['f_num', null, null],
      ['f_yes', null, null],
    ]);
    expect(record.answers[2]!.choice_labels).toEqual(['Red', 'Blue']);
    expect(record.answers[2]!.value_text).toBe('Red, Blue');
    expect(record.answers[1]!.field_title).toBe('Why?');
    expect(summarizeResponse(record)).toEqual({ key: 'tok1', contact: 'ann@example.com', label: 'Survey', fields: { score: 4, comment: 'Too slow' } });
  });

  it('maps a response to the responses and answers tables, the score and comment columns included, and leaves forms and fields alone', () => {
    const rows = applyMappings([schema.parse(response)], compileMappings(typeformConnector.defaultMappings, typeformConnector.dataModel), { backfill: true, timeZone: 'UTC' });
    // Forms and fields are the forms stream's: a response read late must not bring back an old title.
    expect(rows.forms).toEqual([]);
    expect(rows.fields).toEqual([]);
    expect(rows.responses![0]).toMatchObject({ response_id: 'tok1', form_id: 'form1', email_normalized: 'ann@example.com', submitted_at: '2026-03-01T10:05:00.000Z', calculated_score: 3, backfilled: true });
    expect(rows.answers!.map((a) => [a.field_id, a.score, a.comment, a.number, a.boolean])).toEqual([
      ['f_nps', 4, null, 4, null],
      ['f_long', null, 'Too slow', null, null],
      ['f_pick', null, null, null, null],
      ['f_num', null, null, 12, null],
      ['f_yes', null, null, null, false],
    ]);
    expect(rows.answers!.find((a) => a.field_id === 'f_nps')).toMatchObject({ form_id: 'form1', field_title: 'Recommend?', field_type: 'nps' });
  });

  it('maps a form to its forms row and one fields row per field, groups flattened, and nothing else', () => {
    const compiled = compileMappings(typeformConnector.defaultMappings, typeformConnector.dataModel);
    const rows = applyMappings([formRecordOf(definition, 'form1')], compiled, { backfill: false, timeZone: 'UTC' });
    expect(rows.forms).toEqual([{ form_id: 'form1', title: 'Survey', deleted_at: null }]);
    expect(rows.fields).toEqual([
      { form_id: 'form1', field_id: 'f_nps', ref: null, title: 'Recommend?', field_type: 'nps' },
      { form_id: 'form1', field_id: 'g', ref: null, title: 'Group', field_type: 'group' },
      { form_id: 'form1', field_id: 'f_long', ref: null, title: 'Why?', field_type: 'long_text' },
    ]);
    expect([rows.responses, rows.answers]).toEqual([[], []]);
    // A deleted form keeps its title and fields; only its row says when it went.
    const gone = applyMappings([{ form_id: 'form1', title: 'Survey', deleted_at: '2026-03-02T08:00:00.000Z', fields: [] }], compiled, { backfill: false, timeZone: 'UTC' });
    expect(gone.forms).toEqual([{ form_id: 'form1', title: 'Survey', deleted_at: '2026-03-02T08:00:00.000Z' }]);
    expect(gone.fields).toEqual([]);
    // Such records are not responses: a run counts none of them as fetched or read twice.
    expect(countRecordsWithRow([formRecordOf(definition, 'form1'), schema.parse(response)], compiled, 'responses', { backfill: false, timeZone: 'UTC' })).toBe(1);
  });

  it('sets a response without a submission time or token aside', () => {
    expect(schema.safeParse({ ...response, submitted_at: 'yesterday' }).success).toBe(false);
    expect(schema.safeParse({ ...response, token: undefined }).success).toBe(false);
  });
});
