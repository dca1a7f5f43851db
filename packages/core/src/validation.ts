import type { z } from 'zod';
import { ConfigError } from './errors.js';

/** Renders zod issues as `field.path: message; other: message`, naming every field that failed. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * Parses user-supplied input (config, mappings, profile definitions) and turns a failure into a
 * ConfigError that names each bad field, so that the user knows exactly what to fix.
 */
export function parseUserInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError('CONFIG_INVALID', `Invalid ${what}: ${describeIssues(result.error)}`, { cause: result.error });
  }
  return result.data;
}
