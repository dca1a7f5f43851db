import { describe, expect, it } from 'vitest';
import { closeAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition, Mapping, StoredProfile } from '@tributary/core';
import { brokenDependencies, mappingDependencies, profilesReading } from './mapping-dependencies.js';
import { parseTarget, resetMappings, setMapping, toggleMapping } from './mapping-edits.js';

const connector = closeAlertConnector as unknown as ConnectorDefinition;
const model = connector.dataModel;
const defaults = connector.defaultMappings as Mapping[];
const profile = (name: string, match: StoredProfile['definition']['match']) => ({ name, definition: { name, description: '', over: 'any-response', match } }) as StoredProfile;

describe('mapping dependencies', () => {
  it('are the response key, the normalized e-mail, the score and the answer-to-response link', () => {
    expect(mappingDependencies(model).map((d) => `${d.table}.${d.column}`)).toEqual([
      'form_responses.response_id',
      'form_responses.email_normalized',
      'answers.score',
      'answers.response_id',
    ]);
  });

  it('break when a column is switched off or fed otherwise, not when it goes back to the default', () => {
    const off = toggleMapping(defaults, model, connector, parseTarget('answers.score'), false).mappings;
    expect(brokenDependencies(defaults, off, model, connector).map((d) => d.column)).toEqual(['score']);
    const repointed = setMapping(defaults, model, connector, parseTarget('form_responses.email_normalized'), { transform: 'string' }).mappings;
    expect(brokenDependencies(defaults, repointed, model, connector).map((d) => d.column)).toEqual(['email_normalized']);
    expect(brokenDependencies(off, defaults, model, connector)).toEqual([]);
    expect(brokenDependencies(off, resetMappings(model, connector).mappings, model, connector)).toEqual([]);
    const unrelated = toggleMapping(defaults, model, connector, parseTarget('form_responses.user_agent'), false).mappings;
    expect(brokenDependencies(defaults, unrelated, model, connector)).toEqual([]);
  });

  it('name the profiles that read a broken column, through all / any / none', () => {
    const profiles = [
      profile('Nested score', { all: [{ type: 'responded', withinDays: 10 }, { none: [{ type: 'score', op: '<', value: 3 }] }] }),
      profile('Comment', { type: 'comment', contains: 'late' }),
      profile('Form', { type: 'form', id: 34 }),
    ];
    const [key, email, score, link] = mappingDependencies(model);
    expect(profilesReading([score!], profiles)).toEqual(['Nested score']);
    expect(profilesReading([link!], profiles)).toEqual(['Nested score', 'Comment']);
    expect(profilesReading([email!], profiles)).toEqual(['Nested score', 'Comment', 'Form']);
    expect(profilesReading([key!], profiles)).toHaveLength(3);
    // A profile pinned to another app of the workspace reads none of this app's columns.
    const pinned = { ...profiles[0]!, name: 'Elsewhere', definition: { ...profiles[0]!.definition, name: 'Elsewhere', app: 'typeform' } };
    expect(profilesReading([email!], [pinned, ...profiles], 'closealert')).toEqual(['Nested score', 'Comment', 'Form']);
    expect(profilesReading([email!], [pinned], 'typeform')).toEqual(['Elsewhere']);
  });
});
