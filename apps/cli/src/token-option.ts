import { readFileSync } from 'node:fs';
import { ConfigError } from '@tributary/core';
import type { Env } from './env.js';
import type { Io } from './io.js';

/** The ways a command takes an API token on its command line. */
export interface TokenOptions {
  /** The token itself, or `-` to read it from standard input. */
  token?: string;
  tokenFile?: string;
}

/** How one secret is given: on the command line (or `-` for stdin), in a file, or in the environment. */
export interface SecretInputSpec {
  /** What the secret is, for messages: "the API token". */
  what: string;
  /** `--token`, `--new-key`. */
  flag: string;
  /** `--token-file`, `--new-key-file`. */
  fileFlag: string;
  /** The environment variable that may hold it. */
  envName: string;
  envValue: string | undefined;
  stdin: Io['stdin'];
}

function usage(spec: SecretInputSpec): string {
  return `${spec.fileFlag} <path>, ${spec.flag} - (read from standard input) or ${spec.envName}`;
}

async function readStdin(spec: SecretInputSpec): Promise<string> {
  if (!spec.stdin) throw new ConfigError('USAGE', `${spec.flag} - reads ${spec.what} from standard input, which this command does not have.`);
  let text = '';
  for await (const chunk of spec.stdin) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return text;
}

function readFile(path: string, spec: SecretInputSpec): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(spec.flag === '--token' ? 'TOKEN_FILE_UNREADABLE' : 'SECRET_FILE_UNREADABLE', `Cannot read the file ${path} given with ${spec.fileFlag}: ${code}.`);
  }
}

/**
 * A secret from at most one of `--flag <value>`, `--flag -` (stdin) or `--flag-file <path>`, else from
 * the environment variable; undefined when none gives it. A command-line value is visible to every
 * user of the machine in the process list, so the other three exist and the messages point at them.
 */
export async function readSecretInput(given: { value?: string | undefined; file?: string | undefined }, spec: SecretInputSpec): Promise<string | undefined> {
  if (given.value !== undefined && given.file !== undefined) {
    throw new ConfigError('USAGE', `Give ${spec.what} with one of ${spec.flag} or ${spec.fileFlag}, not both.`, {
      hint: `${usage(spec)} keep it out of the process list and your shell history.`,
    });
  }
  let text: string | undefined;
  let origin: string;
  if (given.file !== undefined) {
    text = readFile(given.file, spec);
    origin = `the file ${given.file}`;
  } else if (given.value === '-') {
    text = await readStdin(spec);
    origin = 'standard input';
  } else if (given.value !== undefined) {
    text = given.value;
    origin = spec.flag;
  } else {
    text = spec.envValue;
    origin = spec.envName;
  }
  if (text === undefined) return undefined;
  const secret = text.trim();
  if (!secret) {
    throw new ConfigError(spec.flag === '--token' ? 'TOKEN_FILE_EMPTY' : 'SECRET_EMPTY', `${spec.what.replace(/^./, (c) => c.toUpperCase())} from ${origin} is empty.`);
  }
  return secret;
}

/** The API token of `install` and `app token`: `--token-file`, `--token -`, `TRIBUTARY_APP_TOKEN` or `--token`. */
export async function resolveToken(options: TokenOptions, io: Pick<Io, 'stdin'>, env: Pick<Env, 'TRIBUTARY_APP_TOKEN'>): Promise<string> {
  const spec: SecretInputSpec = {
    what: 'the API token',
    flag: '--token',
    fileFlag: '--token-file',
    envName: 'TRIBUTARY_APP_TOKEN',
    envValue: env.TRIBUTARY_APP_TOKEN,
    stdin: io.stdin,
  };
  const token = await readSecretInput({ value: options.token, file: options.tokenFile }, spec);
  if (token === undefined) {
    throw new ConfigError('USAGE', `Give the API token with ${usage(spec)}, or --token <jwt>.`, {
      hint: '--token <jwt> shows the token to every user of this machine in the process list; prefer the others.',
    });
  }
  return token;
}
