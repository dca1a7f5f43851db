import { Option } from 'commander';
import { ConfigError } from '@tributary/core';
import { println, type Io } from './io.js';

// Flags and output shared by many commands, so that each command names the app, takes --json and
// prints its result the same way.

/** `--app <app>`, the alias of an `[app]` argument: `.argument('[app]', …).addOption(appFlag())`. */
export function appFlag(): Option {
  return new Option('--app <app>', 'the same as the [app] argument (kept for older scripts)');
}

/** The app named by the argument or by `--app`; both may be given only when they agree. */
export function appOf(argument: string | undefined, options: { app?: string }): string | undefined {
  if (argument !== undefined && options.app !== undefined && argument !== options.app) {
    throw new ConfigError('USAGE', `The app is named twice, as "${argument}" and as --app ${options.app}; give it once.`);
  }
  return argument ?? options.app;
}

/** `--json`, for a chain of options: `.addOption(jsonFlag())`. */
export function jsonFlag(): Option {
  return new Option('--json', 'print the result as one JSON document on stdout (messages go to stderr)');
}

/**
 * Where a command writes: sentences to stdout, or with `--json` to stderr, so that stdout holds
 * exactly one JSON document that scripts can parse.
 */
export interface Output {
  readonly json: boolean;
  /** A sentence for a person. */
  say(text?: string): void;
  /** The result: printed as JSON with `--json`, ignored otherwise (the sentences said it). */
  result(value: unknown): void;
}

export function outputFor(io: Io, options: { json?: boolean }): Output {
  const json = Boolean(options.json);
  return {
    json,
    say: (text = '') => println(json ? io.stderr : io.stdout, text),
    result: (value) => {
      if (json) println(io.stdout, JSON.stringify(value, null, 2));
    },
  };
}
