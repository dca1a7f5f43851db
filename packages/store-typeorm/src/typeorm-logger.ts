import type { Logger as OrmLogger } from 'typeorm';
import type { Logger } from '@tributary/core';

/**
 * Routes TypeORM's messages to the injected pino logger. Statements are logged without their bound
 * values, which hold customer data and sealed secrets.
 */
export function typeormLogger(logger: Logger): OrmLogger {
  return {
    logQuery: (query) => logger.trace({ query }, 'query'),
    logQueryError: (error, query) =>
      logger.debug({ query, error: error instanceof Error ? error.message : error }, 'query failed'),
    logQuerySlow: (time, query) => logger.warn({ query, ms: time }, 'slow query'),
    logSchemaBuild: (message) => logger.debug(message),
    logMigration: (message) => logger.info(message),
    log: (level, message: unknown) => {
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      if (level === 'warn') logger.warn(text);
      else logger.debug(text);
    },
  };
}
