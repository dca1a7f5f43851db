import { pino, type Logger } from 'pino';
import { SECRET_LOG_PATHS } from '@tributary/core';
import type { Env } from './env.js';

/** The CLI's logger: warnings and errors to stderr by default, secrets redacted wherever they hide. */
export function createCliLogger(env: Env): Logger {
  return pino(
    {
      level: env.LOG_LEVEL,
      enabled: env.LOG_LEVEL !== 'silent',
      redact: { paths: [...SECRET_LOG_PATHS], censor: '***' },
      base: undefined,
    },
    pino.destination(2),
  );
}
