import { ConfigError, isTributaryError, type TributaryError } from '@tributary/core';

/** Exit codes of `tributary`, one per kind of failure, so that scripts can react. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  source: 3,
  storage: 4,
  internal: 70,
  /** stdout or stderr was a pipe whose reader went away; like git and seq: 128 + SIGPIPE. */
  brokenPipe: 141,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal's number, as shells report it. */
  sigint: 130,
  sigterm: 143,
} as const;

/**
 * A sync or check that ran and failed; its details were already printed. Exit code 1, or the code
 * of the failure that ended it (a sync refused by the source exits 3, one that lost its database 4).
 */
export class CommandFailed extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CommandFailed';
    this.exitCode = exitCode;
  }
}

/** A command that stopped early because it was asked to (Ctrl-C, SIGTERM); what it committed stays. */
export class StoppedBySignal extends Error {
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    message: string,
  ) {
    super(message);
    this.name = 'StoppedBySignal';
  }
}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'another process is listening on it',
  EACCES: 'this user may not listen on it (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s',
};

/**
 * Node's own error when a server cannot listen (a port taken by another process, say) is the
 * user's to fix, not a bug: every command that listens (serve, sandbox, runner --metrics-port)
 * gets the same words here, at the top, instead of each wrapping its listen call.
 */
function asUserError(error: unknown): unknown {
  if (!(error instanceof Error) || isTributaryError(error)) return error;
  const system = error as Error & { code?: unknown; syscall?: unknown; address?: unknown; port?: unknown };
  if (system.syscall !== 'listen' || typeof system.code !== 'string' || !(system.code in LISTEN_REASONS)) return error;
  const where = `${typeof system.address === 'string' ? system.address : ''}:${typeof system.port === 'number' ? system.port : '?'}`;
  return new ConfigError('LISTEN_FAILED', `Cannot listen on ${where}: ${LISTEN_REASONS[system.code]}.`, {
    hint: 'Pick another --port (0 takes any free one), or stop the process that holds this one.',
    cause: error,
  });
}

/** Maps any thrown value to an exit code: the single place where that decision is made. */
export function exitCodeFor(thrown: unknown): number {
  const error = asUserError(thrown);
  if (error instanceof StoppedBySignal) return error.signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  if (error instanceof CommandFailed) return error.exitCode;
  if (!isTributaryError(error)) return EXIT.internal;
  return exitCodeForActor(error);
}

function exitCodeForActor(error: TributaryError): number {
  switch (error.actor) {
    case 'user':
      return EXIT.usage;
    case 'source':
      return EXIT.source;
    case 'store':
      return EXIT.storage;
    case 'bug':
      return EXIT.internal;
  }
}

/** The message a person reads for a failure: what happened, and who should do what. */
export function describeFailure(thrown: unknown): string {
  const error = asUserError(thrown);
  if (error instanceof CommandFailed || error instanceof StoppedBySignal) return error.message;
  if (isTributaryError(error)) {
    const lines = [`error [${error.code}]: ${error.message}`];
    if (error.hint) lines.push(`hint: ${error.hint}`);
    if (error.actor === 'bug') lines.push('This is a bug in Tributary: please report it with the command you ran.');
    return lines.join('\n');
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `internal error: ${detail}\nThis is a bug in Tributary: please report it with the command you ran.`;
}
