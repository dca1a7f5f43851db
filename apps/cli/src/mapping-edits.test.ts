import { describe, expect, it } from 'vitest';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { ConfigError, type ConnectorDefinition } from '@tributary/core';
import { addMapping, mappingState, parseColumnType, parseTarget, parseTransform, resetMappings, setMapping, toggleMapping } from './mapping-edits.js';

const connector = closeAlertConnector as unknown as ConnectorDefinition;
const model = connector.dataModel;
const defaults = [...connector.defaultMappings];
const target = (text: string) => parseTarget(text);

describe('parseTarget', () => {
  it('reads table.column', () => {
    expect(parseTarget('form_responses.device_type')).toEqual({ table: 'form_responses', column: 'device_type' });
  });

  it.each(['device_type', 'a.b.c', 'form_responses.Device', 'form_responses.x;drop', 'form_responses.select', '"t"."c"', 'form_responses.'])('refuses %s', (text) => {
    expect(() => parseTarget(text)).toThrow(ConfigError);
  });
});

describe('option parsers', () => {
  it('list the valid choices on a bad one', () => {
    expect(parseTransform('json')).toBe('json');
    expect(() => parseTransform('upper')).toThrow(/use one of none, string/);
    expect(parseColumnType('numeric')).toBe('numeric');
    expect(() => parseColumnType('varchar')).toThrow(/use one of text, integer/);
  });
});

describe('setMapping', () => {
  it('changes the source or the transform of the mapping that feeds a column', () => {
    const edit = setMapping(defaults, model, connector, target('form_responses.device_type'), { source: 'operating_system' });
    expect(edit.mappings.find((m) => m.target.column === 'device_type')?.source).toBe('operating_system');
    expect(edit.mappings).toHaveLength(defaults.length);
    expect(edit.dataModel).toBeUndefined();
  });

  it('points a mapping at another column once that column is free', () => {
    const freed = toggleMapping(defaults, model, connector, target('form_responses.operating_system'), false).mappings;
    const edit = setMapping(freed, model, connector, target('form_responses.device_type'), { to: target('form_responses.operating_system') });
    const feeding = edit.mappings.filter((m) => m.enabled && m.target.column === 'operating_system');
    expect(feeding.map((m) => m.source)).toEqual(['device_type']);
    expect(edit.mappings.some((m) => m.target.column === 'device_type')).toBe(false);
  });

  it('refuses a column fed twice, a clashing transform, an unknown source, and an empty change', () => {
    expect(() => setMapping(defaults, model, connector, target('form_responses.device_type'), { to: target('form_responses.operating_system') })).toThrow(/fed by both/);
    expect(() => setMapping(defaults, model, connector, target('form_responses.response_id'), { transform: 'string' })).toThrow(/cannot write a bigint/);
    expect(() => setMapping(defaults, model, connector, target('form_responses.device_type'), { source: 'device' })).toThrow(/not a field of the source/);
    expect(() => setMapping(defaults, model, connector, target('form_responses.device_type'), {})).toThrow(/Nothing to change/);
  });

  it('does not touch the mappings it was given', () => {
    const copy = structuredClone(defaults);
    setMapping(defaults, model, connector, target('form_responses.device_type'), { source: 'operating_system', transform: 'string' });
    expect(defaults).toEqual(copy);
  });
});

describe('toggleMapping', () => {
  it('switches a mapping off and on again', () => {
    const off = toggleMapping(defaults, model, connector, target('form_responses.user_agent'), false);
    expect(off.mappings.find((m) => m.target.column === 'user_agent')?.enabled).toBe(false);
    const on = toggleMapping(off.mappings, model, connector, target('form_responses.user_agent'), true);
    expect(on.mappings).toEqual(defaults);
  });

  it('refuses to switch off a key column or a mapping already off', () => {
    expect(() => toggleMapping(defaults, model, connector, target('answers.response_id'), false)).toThrow(/key column answers\.response_id/);
    expect(() => toggleMapping(defaults, model, connector, target('form_responses.user_agent'), true)).toThrow(/already enabled/);
    expect(() => toggleMapping(defaults, model, connector, target('form_responses.nothing'), false)).toThrow(/No mapping feeds/);
  });
});

describe('addMapping', () => {
  it('adds a nullable column with its type and a transform that fits it', () => {
    const edit = addMapping(defaults, model, connector, 'merge_tags.age', target('form_responses.age'), 'integer');
    const column = edit.dataModel?.tables.find((t) => t.name === 'form_responses')?.columns.find((c) => c.name === 'age');
    expect(column).toMatchObject({ name: 'age', type: 'integer', nullable: true });
    expect(edit.mappings.at(-1)).toEqual({ source: 'merge_tags.age', target: { table: 'form_responses', column: 'age' }, transform: 'integer', enabled: true });
    expect(model.tables.find((t) => t.name === 'form_responses')?.columns.some((c) => c.name === 'age')).toBe(false);
  });

  it('maps a field of each answer into the answers table', () => {
    const edit = addMapping(defaults, model, connector, 'answer_type', target('answers.kind'), 'text');
    expect(edit.mappings.at(-1)?.transform).toBe('string');
  });

  it('refuses an unknown table, an existing column, a type clash and an unknown source', () => {
    expect(() => addMapping(defaults, model, connector, 'merge_tags.x', target('customers.x'), 'text')).toThrow(/no table "customers"/);
    expect(() => addMapping(defaults, model, connector, 'merge_tags.x', target('form_responses.email'), 'text')).toThrow(/already exists/);
    expect(() => addMapping(defaults, model, connector, 'merge_tags.x', target('form_responses.x'), 'boolean', 'json')).toThrow(/cannot write a boolean/);
    expect(() => addMapping(defaults, model, connector, 'answer_type', target('form_responses.x'), 'text')).toThrow(/not a field of the source/);
  });
});

describe('resetMappings and mappingState', () => {
  it('restores the defaults and tells defaults, changes, additions and switched-off mappings apart', () => {
    const added = addMapping(defaults, model, connector, 'merge_tags.segment', target('form_responses.segment'), 'text');
    const changed = setMapping(added.mappings, added.dataModel!, connector, target('form_responses.device_type'), { source: 'operating_system' });
    const off = toggleMapping(changed.mappings, added.dataModel!, connector, target('form_responses.user_agent'), false);
    const states = Object.fromEntries(off.mappings.map((m) => [`${m.target.table}.${m.target.column}`, mappingState(m, connector)]));
    expect(states).toMatchObject({ 'form_responses.segment': 'added', 'form_responses.device_type': 'changed', 'form_responses.user_agent': 'off', 'form_responses.email': 'default' });
    expect(resetMappings(added.dataModel!, connector).mappings).toEqual(defaults);
  });
});
