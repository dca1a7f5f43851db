import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino must redact wherever they appear in a log object. Secrets travel in config objects
 * and HTTP headers; listing both shapes keeps a careless `logger.info({ config })` harmless.
 */
export const SECRET_LOG_PATHS: readonly string[] = [
  'token',
  'secret',
  'secretKey',
  'password',
  'authorization',
  'headers.authorization',
  'config.token',
  '*.token',
  '*.authorization',
  '*.password',
  '*.secret',
];

/**
 * The redaction paths for a set of connectors' secret fields, besides the generic ones: each field
 * wherever a config or any object one level down carries it.
 */
export function secretLogPaths(secretFields: Iterable<string>): string[] {
  const paths = new Set(SECRET_LOG_PATHS);
  for (const field of secretFields) {
    // pino's paths take bare identifiers; anything else would be read as path syntax.
    if (!/^[A-Za-z_$][\w$]*$/.test(field)) continue;
    for (const path of [field, `config.${field}`, `*.${field}`]) paths.add(path);
  }
  return [...paths];
}

/** A logger that writes nothing: the default of every library, so that only the CLI decides where logs go. */
export function silentLogger(): Logger {
  return pino({ enabled: false });
}
