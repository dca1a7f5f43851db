import { z } from 'zod';
import { ConfigError, describeIssues, operatorNameSchema } from '@tributary/core';

/** The only place Tributary reads the environment. */
export const envSchema = z.object({
  TRIBUTARY_DATABASE_URL: z
    .string()
    .trim()
    .default('sqlite:./.tributary/tributary.db')
    .refine((url) => /^sqlite:.+/.test(url) || /^postgres(ql)?:\/\/.+/.test(url), {
      message: 'must be postgres://user@host:port/database or sqlite:<path> (e.g. sqlite:./.tributary/tributary.db)',
    }),
  TRIBUTARY_SECRET_KEY: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('32-byte key, base64 or hex, that encrypts app secrets at rest'),
  TRIBUTARY_SECRET_KEY_FILE: z.string().trim().min(1).optional(),
  TRIBUTARY_SECRET_KEY_PREVIOUS: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('earlier keys, comma-separated, that still decrypt secrets sealed before a rotation'),
  TRIBUTARY_APP_TOKEN: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('API token for install and app token when no --token or --token-file is given; not visible in the process list'),
  TRIBUTARY_NEW_SECRET_KEY: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('the new key for secrets rotate when no --new-key or --new-key-file is given'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  LOG_FORMAT: z
    .enum(['json', 'pretty'])
    .optional()
    .describe('json: one JSON object a line, for log collectors; pretty: a sentence a line; default pretty on a terminal, json otherwise'),
  TRIBUTARY_USER: operatorNameSchema
    .optional()
    .describe('who runs the command, for the workspace administrator checks; default the login name'),
  // The per-user config directory holds the default key file when the database is PostgreSQL.
  XDG_CONFIG_HOME: z.string().trim().min(1).optional(),
  HOME: z.string().trim().min(1).optional(),
});
/** Validated environment. */
export type Env = z.infer<typeof envSchema>;

/** Reads and validates the environment; a bad value is a ConfigError that names the variable. */
export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  const relevant = Object.fromEntries(Object.keys(envSchema.shape).map((key) => [key, source[key] === '' ? undefined : source[key]]));
  const result = envSchema.safeParse(relevant);
  if (!result.success) {
    throw new ConfigError('ENV_INVALID', `Invalid environment: ${describeIssues(result.error)}`, {
      hint: 'Fix the variable named above, or unset it to use the default.',
    });
  }
  return result.data;
}
