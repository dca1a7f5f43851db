/** Where a command writes, so that tests can capture output without touching the process. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Standard input, for secrets given as `-` (`--token -`); absent where there is none. */
  stdin?: AsyncIterable<string | Buffer>;
  /** Resolves when the operator asks to stop (Ctrl-C, SIGTERM); long commands stop taking new work then. */
  onShutdown?: (listener: () => void) => void;
}

/** The real process's streams and environment. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdin: process.stdin,
    onShutdown(listener) {
      process.once('SIGINT', listener);
      process.once('SIGTERM', listener);
    },
  };
}

/** Writes one line. */
export function println(stream: Io['stdout'], text = ''): void {
  stream.write(`${text}\n`);
}
