import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';
import { createCliLogger, formatLogLine } from './logger.js';

function sink(tty: boolean) {
  let text = '';
  return { stream: { isTTY: tty, write: (chunk: string) => (text += chunk) }, text: () => text };
}

describe('the CLI logger', () => {
  it('writes a sentence a line on a terminal, never raw JSON', () => {
    const err = sink(true);
    const logger = createCliLogger(readEnv({}), err.stream);
    logger.warn({ workspace: 'acme', app: 'closealert', ms: 1200, apiToken: 'secret-token' }, 'slow query');
    expect(err.text()).toBe('warning: acme/closealert: slow query (ms=1200, apiToken=***)\n');
  });

  it('writes JSON lines when stderr is not a terminal, or with LOG_FORMAT=json', () => {
    for (const [tty, env] of [[false, {}], [true, { LOG_FORMAT: 'json' }]] as const) {
      const err = sink(tty);
      createCliLogger(readEnv(env), err.stream).warn({ workspace: 'acme' }, 'slow query');
      expect(JSON.parse(err.text())).toMatchObject({ level: 40, workspace: 'acme', msg: 'slow query' });
    }
  });

  it('refuses an unknown LOG_FORMAT with the variable named', () => {
    expect(() => readEnv({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT: must be one of json, pretty/);
  });

  it('leaves a line that is not JSON as it is', () => {
    expect(formatLogLine('plain')).toBe('plain\n');
  });
});
