// A connector's settings arrive as a JSON Schema (GET /connectors/{app}); the install dialog is
// generated from it. This module is the pure half: which inputs, and the form's text back to JSON.

export type FieldKind = 'text' | 'secret' | 'integer' | 'number' | 'boolean' | 'choice' | 'list';

export interface SettingField {
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  /** The schema's default, as the form shows it (a placeholder: left empty, the server applies it). */
  placeholder?: string;
  choices?: string[];
  min?: number;
  max?: number;
}

/** What the form holds: text for every input, true/false for switches. */
export type FormValues = Record<string, string | boolean>;

interface PropertySchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  writeOnly?: boolean;
  'x-secret'?: boolean;
  items?: { type?: string };
}

// Abbreviations people write in capitals; the rest of a camelCase name becomes lower-case words.
const CAPITALS: Record<string, string> = { api: 'API', url: 'URL', id: 'ID', http: 'HTTP', po: 'PO', ids: 'IDs' };

/** `apiToken` → "API token", `baseUrl` → "Base URL", `formId` → "Form ID". */
export function fieldLabel(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .split(/\s+/)
    .map((w) => CAPITALS[w.toLowerCase()] ?? w.toLowerCase());
  const [first = '', ...rest] = words;
  return [first === first.toLowerCase() ? first.charAt(0).toUpperCase() + first.slice(1) : first, ...rest].join(' ');
}

function kindOf(property: PropertySchema, secret: boolean): FieldKind {
  if (secret) return 'secret';
  const type = Array.isArray(property.type) ? property.type.find((t) => t !== 'null') : property.type;
  if (Array.isArray(property.enum) && property.enum.every((v) => typeof v === 'string')) return 'choice';
  if (type === 'boolean') return 'boolean';
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  if (type === 'array') return 'list';
  return 'text';
}

/** The inputs of a settings schema, required ones first, in the schema's order otherwise. */
export function settingFields(schema: Record<string, unknown>, secretFields: readonly string[] = []): SettingField[] {
  const properties = (schema.properties ?? {}) as Record<string, PropertySchema>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const fields = Object.entries(properties).map(([name, property]): SettingField => {
    const secret = property['x-secret'] === true || property.writeOnly === true || secretFields.includes(name);
    const kind = kindOf(property, secret);
    const min = property.minimum ?? (property.exclusiveMinimum !== undefined ? property.exclusiveMinimum + (kind === 'integer' ? 1 : 0) : undefined);
    return {
      name,
      label: fieldLabel(name),
      kind,
      required: required.has(name),
      ...(property.description ? { description: property.description } : {}),
      // A secret's default would be a secret in the page: never shown.
      ...(property.default !== undefined && !secret ? { placeholder: String(property.default) } : {}),
      ...(kind === 'choice' ? { choices: (property.enum as string[]).slice() } : {}),
      ...(min !== undefined && (kind === 'integer' || kind === 'number') ? { min } : {}),
      ...(property.maximum !== undefined && property.maximum < Number.MAX_SAFE_INTEGER ? { max: property.maximum } : {}),
    };
  });
  return [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
}

/**
 * The form's values as the settings object the API takes: empty inputs are left out (the server's
 * defaults apply), numbers are numbers, lists are split on commas. Problems are in words, per field.
 */
export function settingsFromForm(
  fields: readonly SettingField[],
  values: FormValues,
): { config: Record<string, unknown>; problems: Record<string, string> } {
  const config: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.kind === 'boolean') {
      if (raw === true) config[field.name] = true;
      continue;
    }
    const text = typeof raw === 'string' ? (field.kind === 'secret' ? raw : raw.trim()) : '';
    if (text === '') {
      if (field.required) problems[field.name] = `${field.label} is required.`;
      continue;
    }
    if (field.kind === 'integer' || field.kind === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n) || (field.kind === 'integer' && !Number.isInteger(n))) {
        problems[field.name] = `${field.label} must be ${field.kind === 'integer' ? 'a whole number' : 'a number'}.`;
      } else if (field.min !== undefined && n < field.min) {
        problems[field.name] = `${field.label} must be at least ${field.min}.`;
      } else if (field.max !== undefined && n > field.max) {
        problems[field.name] = `${field.label} must be at most ${field.max}.`;
      } else config[field.name] = n;
      continue;
    }
    if (field.kind === 'list') {
      config[field.name] = text.split(',').map((s) => s.trim()).filter(Boolean);
      continue;
    }
    if (field.kind === 'choice' && field.choices && !field.choices.includes(text)) {
      problems[field.name] = `${field.label} must be one of ${field.choices.join(', ')}.`;
      continue;
    }
    config[field.name] = text;
  }
  return { config, problems };
}
