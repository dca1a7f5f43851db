import type { z } from 'zod';
import { ConfigError } from './errors.js';

type Issue = z.core.$ZodIssue;

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  date: 'a date',
};

const FORMAT_WORDS: Record<string, string> = {
  email: 'an e-mail address',
  url: 'a URL',
  uuid: 'a UUID',
  datetime: 'an ISO-8601 date-time such as 2026-01-31T09:00:00Z',
  date: 'a date such as 2026-01-31',
  time: 'a time such as 09:00:00',
};

// zod's own messages ("Too small: expected string to have >=1 characters") are written for
// programmers; the schemas' own messages ("must look like 1 or 3.1") already read as sentences.
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized)\b/;

function items(origin: string | undefined, n: number | bigint, one: string): string {
  if (origin === 'string') return `${n} character${n === 1 || n === 1n ? '' : 's'} long`;
  if (origin === 'array' || origin === 'set' || origin === 'map') return `${n} ${one}${n === 1 || n === 1n ? '' : 's'}`;
  return String(n);
}

/** What is wrong, as the end of a sentence whose subject is the field: `must not be empty`. */
export function issueSentence(issue: Issue): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (/received undefined$/.test(issue.message)) return 'is required';
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const origin = issue.origin as string | undefined;
      if (Number(issue.minimum) === 1 && (origin === 'string' || origin === 'array' || origin === 'set')) return 'must not be empty';
      if (origin === 'array' || origin === 'set' || origin === 'map') return `must hold at least ${items(origin, issue.minimum, 'item')}`;
      if (origin === 'date') return `must not be before ${new Date(Number(issue.minimum)).toISOString()}`;
      return issue.inclusive === false ? `must be greater than ${issue.minimum}` : `must be at least ${items(origin, issue.minimum, 'item')}`;
    }
    case 'too_big': {
      const origin = issue.origin as string | undefined;
      if (origin === 'array' || origin === 'set' || origin === 'map') return `must hold at most ${items(origin, issue.maximum, 'item')}`;
      if (origin === 'date') return `must not be after ${new Date(Number(issue.maximum)).toISOString()}`;
      return issue.inclusive === false ? `must be less than ${issue.maximum}` : `must be at most ${items(origin, issue.maximum, 'item')}`;
    }
    case 'invalid_format':
      if (issue.format === 'regex') return 'is not in the expected form';
      return `must be ${FORMAT_WORDS[issue.format] ?? `a valid ${issue.format}`}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `has ${issue.keys.length === 1 ? 'an unknown field' : 'unknown fields'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'holds an element that is not allowed';
    default:
      return 'is not valid';
  }
}

/** `answers.2.question` for the path `['answers', 2, 'question']`. */
export function pathName(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** How fields are called where the input came from, e.g. `{ projectKey: '--project' }`. */
export type FieldNames = Readonly<Record<string, string>>;

function fieldName(path: readonly PropertyKey[], subject: string, fields: FieldNames | undefined): string {
  if (path.length === 0) return subject;
  const full = pathName(path);
  return fields?.[full] ?? fields?.[String(path[0])] ?? full;
}

/** One problem per field (the first is the one to fix), in the order zod found them. */
function firstPerField(error: z.ZodError): Issue[] {
  const seen = new Set<string>();
  return error.issues.filter((issue) => {
    const key = pathName(issue.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Renders zod issues as `field.path: what is wrong; other: …`, naming every field that failed. */
export function describeIssues(error: z.ZodError): string {
  return firstPerField(error)
    .map((issue) => (issue.path.length > 0 ? `${pathName(issue.path)}: ${issueSentence(issue)}` : issueSentence(issue)))
    .join('; ');
}

/**
 * Parses user-supplied input (config, mappings, profile definitions) and turns a failure into a
 * ConfigError that names each bad field in a sentence, so that the user knows exactly what to fix.
 * `what` names the input (`--workspace`, `CloseAlert settings`); `fields` renames its fields (to
 * the flags that set them, say).
 */
export function parseUserInput<S extends z.ZodType>(schema: S, input: unknown, what: string, fields?: FieldNames): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const sentences = firstPerField(result.error).map((issue) => `${fieldName(issue.path, what, fields)} ${issueSentence(issue)}`);
    const whole = result.error.issues.every((issue) => issue.path.length === 0);
    throw new ConfigError('CONFIG_INVALID', whole ? `${sentences.join('; ')}.` : `Invalid ${what}: ${sentences.join('; ')}.`, { cause: result.error });
  }
  return result.data;
}
