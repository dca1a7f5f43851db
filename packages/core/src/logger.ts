import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino must redact wherever they appear in a log object. Secrets travel in config objects
 * and HTTP headers; listing both shapes keeps a careless `logger.info({ config })` harmless.
 */
export const SECRET_LOG_PATHS: readonly string[] = [
  'token',
  'apiToken',
  'secret',
  'secretKey',
  'password',
  'authorization',
  'headers.authorization',
  'config.apiToken',
  'config.token',
  '*.apiToken',
  '*.token',
  '*.authorization',
  '*.password',
  '*.secret',
];

/** A logger that writes nothing: the default of every library, so that only the CLI decides where logs go. */
export function silentLogger(): Logger {
  return pino({ enabled: false });
}
