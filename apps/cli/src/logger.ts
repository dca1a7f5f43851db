import { pino, type Logger } from 'pino';
import { secretLogPaths } from '@tributary/core';
import { knownSecretFields } from './connectors.js';
import type { Env } from './env.js';
import type { Io } from './io.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'workspace', 'app']);

function valueText(value: unknown): string {
  if (typeof value === 'string') return /[\s,=()]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/**
 * One JSON log line as one readable line: `warning: acme/closealert: slow query (ms=1200)`. The
 * level in words, the installation first, the message, then the other fields as key=value.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
  const where = typeof entry.workspace === 'string' ? `${entry.workspace}${typeof entry.app === 'string' ? `/${entry.app}` : ''}: ` : '';
  const fields = Object.entries(entry)
    .filter(([key, value]) => !HIDDEN_FIELDS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${valueText(value)}`);
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  return `${level}: ${where}${message}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}\n`;
}

/**
 * The CLI's logger: warnings and errors to stderr by default, secrets redacted wherever they hide;
 * a sentence a line on a terminal, JSON lines for log collectors when stderr is not a terminal or
 * LOG_FORMAT=json.
 */
export function createCliLogger(env: Env, stderr: Io['stderr']): Logger {
  const options = {
    level: env.LOG_LEVEL,
    enabled: env.LOG_LEVEL !== 'silent',
    // Each known connector's declared secrets, wherever a log object carries them.
    redact: { paths: secretLogPaths(knownSecretFields()), censor: '***' },
    base: undefined,
  };
  const pretty = (env.LOG_FORMAT ?? (stderr.isTTY ? 'pretty' : 'json')) === 'pretty';
  return pino(options, { write: (line: string) => stderr.write(pretty ? formatLogLine(line) : line) });
}
