import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { SECRET_LOG_PATHS } from '@tributary/core';
import type { Env } from './env.js';

/**
 * The CLI's logger: warnings and errors to stderr by default, secrets redacted wherever they hide;
 * readable lines on a terminal, JSON lines for log collectors otherwise.
 */
export function createCliLogger(env: Env, stderrIsTty = Boolean(process.stderr.isTTY)): Logger {
  const options = {
    level: env.LOG_LEVEL,
    enabled: env.LOG_LEVEL !== 'silent',
    redact: { paths: [...SECRET_LOG_PATHS], censor: '***' },
    base: undefined,
  };
  const destination = stderrIsTty ? pretty({ destination: 2, sync: true, colorize: true }) : pino.destination(2);
  return pino(options, destination);
}
