import { readFileSync } from 'node:fs';
import { ConfigError } from '@tributary/core';

/** The two ways a command takes an API token. */
export interface TokenOptions {
  token?: string;
  tokenFile?: string;
}

/**
 * The token from `--token` or from `--token-file` (exactly one). A file keeps the token out of
 * shell history and out of the process list, where a command-line argument is visible to others.
 */
export function resolveToken(options: TokenOptions): string {
  if ((options.token === undefined) === (options.tokenFile === undefined)) {
    throw new ConfigError('USAGE', 'Give the API token with exactly one of --token <jwt> or --token-file <path>.', {
      hint: '--token-file keeps the token out of your shell history.',
    });
  }
  if (options.token !== undefined) return options.token;
  let text: string;
  try {
    text = readFileSync(options.tokenFile!, 'utf8');
  } catch (error) {
    throw new ConfigError('TOKEN_FILE_UNREADABLE', `Cannot read the token file ${options.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
  const token = text.trim();
  if (!token) throw new ConfigError('TOKEN_FILE_EMPTY', `The token file ${options.tokenFile} is empty.`);
  return token;
}
