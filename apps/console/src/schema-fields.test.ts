import { describe, expect, it } from 'vitest';
import { fieldLabel, settingFields, settingsFromForm } from './schema-fields';

// The settings schema as GET /connectors/closealert gives it (trimmed to the kinds of field it has).
const schema = {
  type: 'object',
  properties: {
    baseUrl: { type: 'string', description: 'CloseAlert API base URL' },
    apiToken: { type: 'string', minLength: 1, description: 'API token', writeOnly: true, 'x-secret': true },
    projectKey: { type: 'string', description: 'project key' },
    formId: { type: 'integer', exclusiveMinimum: 0, maximum: 9007199254740991 },
    pageSize: { type: 'integer', default: 250, minimum: 1, maximum: 250 },
    region: { type: 'string', enum: ['us', 'eu'], default: 'us' },
    forms: { type: 'array', items: { type: 'string' } },
    allowInsecureHttp: { type: 'boolean' },
  },
  required: ['projectKey', 'apiToken'],
};

describe('settingFields', () => {
  it('turns the schema into labelled inputs, required first, secrets as secrets', () => {
    const fields = settingFields(schema, ['apiToken']);
    expect(fields.map((f) => [f.name, f.label, f.kind, f.required])).toEqual([
      ['apiToken', 'API token', 'secret', true],
      ['projectKey', 'Project key', 'text', true],
      ['baseUrl', 'Base URL', 'text', false],
      ['formId', 'Form ID', 'integer', false],
      ['pageSize', 'Page size', 'integer', false],
      ['region', 'Region', 'choice', false],
      ['forms', 'Forms', 'list', false],
      ['allowInsecureHttp', 'Allow insecure HTTP', 'boolean', false],
    ]);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(byName.formId).toMatchObject({ min: 1 });
    expect(byName.formId!.max).toBeUndefined();
    expect(byName.pageSize).toMatchObject({ min: 1, max: 250, placeholder: '250' });
    expect(byName.region!.choices).toEqual(['us', 'eu']);
  });

  it('marks a field secret from x-secret even when the list of secrets leaves it out, and never shows its default', () => {
    const [token] = settingFields({ properties: { token: { type: 'string', 'x-secret': true, default: 'abc' } } });
    expect(token).toMatchObject({ kind: 'secret' });
    expect(token!.placeholder).toBeUndefined();
  });

  it('labels camelCase and snake_case names in words', () => {
    expect(fieldLabel('lookbackMinutes')).toBe('Lookback minutes');
    expect(fieldLabel('email_hidden_field')).toBe('Email hidden field');
    expect(fieldLabel('poNumber')).toBe('PO number');
  });
});

describe('settingsFromForm', () => {
  const fields = settingFields(schema, ['apiToken']);

  it('sends typed values, leaves empty ones to the server defaults, keeps a secret as typed', () => {
    const { config, problems } = settingsFromForm(fields, {
      projectKey: ' company.com ',
      apiToken: ' token with spaces ',
      pageSize: '100',
      baseUrl: '',
      forms: 'a, b,,c',
      allowInsecureHttp: true,
      region: 'eu',
    });
    expect(problems).toEqual({});
    expect(config).toEqual({
      projectKey: 'company.com',
      apiToken: ' token with spaces ',
      pageSize: 100,
      forms: ['a', 'b', 'c'],
      allowInsecureHttp: true,
      region: 'eu',
    });
  });

  it('says in words what is missing or out of range', () => {
    const { config, problems } = settingsFromForm(fields, { projectKey: '', pageSize: '900', formId: '1.5', region: 'mars' });
    expect(problems).toEqual({
      projectKey: 'Project key is required.',
      apiToken: 'API token is required.',
      pageSize: 'Page size must be at most 250.',
      formId: 'Form ID must be a whole number.',
      region: 'Region must be one of us, eu.',
    });
    expect(config).toEqual({});
  });
});
