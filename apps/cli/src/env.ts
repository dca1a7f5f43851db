import { delimiter, isAbsolute } from 'node:path';
import { z } from 'zod';
import { ConfigError, describeIssues, operatorNameSchema, type DestinationLimits } from '@tributary/core';
import { isWebhookAllowEntry } from '@tributary/runner/definitions';

/** A list variable: split, trimmed, blanks dropped, each entry checked. */
const listOf = (separator: string, entry: z.ZodType<string, string>) =>
  z
    .string()
    .optional()
    .transform((text) => (text ?? '').split(separator).map((item) => item.trim()).filter(Boolean))
    .pipe(z.array(entry));

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
  TRIBUTARY_CONNECTORS: z
    .string()
    .trim()
    .optional()
    .describe('connectors besides the built-in ones: comma-separated package names or paths of modules whose default export comes from defineConnector'),
  TRIBUTARY_CONFIG: z.string().trim().min(1).optional().describe('the config file with a "connectors" list; default tributary.config.json in the working directory'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  LOG_FORMAT: z
    .enum(['json', 'pretty'])
    .optional()
    .describe('json: one JSON object a line, for log collectors; pretty: a sentence a line; default pretty on a terminal, json otherwise'),
  // Only the operator sets these: a workspace administrator adding destinations over the API cannot.
  TRIBUTARY_FILE_DESTINATION_ROOTS: listOf(delimiter, z.string().refine((path) => isAbsolute(path), 'each directory must be an absolute path')).describe(
    `directories file destinations may write under, separated by "${delimiter}"; without them the API adds no file destination and the CLI's may write anywhere`,
  ),
  TRIBUTARY_WEBHOOK_ALLOW_HOSTS: listOf(',', z.string().refine(isWebhookAllowEntry, 'each entry must be a host name, an IP address or a CIDR range such as 10.0.0.0/8')).describe(
    'comma-separated hosts, IP addresses or CIDR ranges webhooks may reach although loopback or private, and over plain http',
  ),
  TRIBUTARY_PRINCIPAL_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(0)
    .describe(
      'tributary serve: milliseconds a session or API key look-up is reused (default 0); a key revoked or a user signed out by another process is honoured only after that long',
    ),
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

/** The operator's limits on where destinations reach, from the environment. */
export function destinationLimitsOf(env: Pick<Env, 'TRIBUTARY_FILE_DESTINATION_ROOTS' | 'TRIBUTARY_WEBHOOK_ALLOW_HOSTS'>): DestinationLimits {
  return { fileRoots: env.TRIBUTARY_FILE_DESTINATION_ROOTS, webhookAllowHosts: env.TRIBUTARY_WEBHOOK_ALLOW_HOSTS };
}

const connectorSourcesSchema = envSchema.pick({ TRIBUTARY_CONNECTORS: true, TRIBUTARY_CONFIG: true });

/**
 * The two variables that say where connectors come from, read before the command line is parsed (an
 * app's install flags depend on them) and without the rest, so that `--help` works with a bad LOG_LEVEL.
 */
export function readConnectorSources(source: Record<string, string | undefined>): z.infer<typeof connectorSourcesSchema> {
  const relevant = { TRIBUTARY_CONNECTORS: source.TRIBUTARY_CONNECTORS || undefined, TRIBUTARY_CONFIG: source.TRIBUTARY_CONFIG || undefined };
  const result = connectorSourcesSchema.safeParse(relevant);
  if (!result.success) throw new ConfigError('ENV_INVALID', `Invalid environment: ${describeIssues(result.error)}`);
  return result.data;
}

/** Prefix of the variables that give an install setting: TRIBUTARY_SET_API_TOKEN sets apiToken. */
export const SET_VARIABLE_PREFIX = 'TRIBUTARY_SET_';

/** `apiToken` → `TRIBUTARY_SET_API_TOKEN`. */
export function setVariableName(field: string): string {
  return SET_VARIABLE_PREFIX + field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The value of the TRIBUTARY_SET_* variable of a config field, when set and not blank. */
export function readSetVariable(source: Record<string, string | undefined>, field: string): string | undefined {
  const result = z.string().trim().min(1).optional().safeParse(source[setVariableName(field)] || undefined);
  return result.success ? result.data : undefined;
}
