/** The signals that ask a command to stop. */
export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/** Where a command writes, so that tests can capture output without touching the process. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /**
   * Calls `listener` with the signal when the operator asks to stop (Ctrl-C is SIGINT, `kill` SIGTERM);
   * long commands stop taking new work then.
   */
  onShutdown?: (listener: (signal: ShutdownSignal) => void) => void;
}

/** The real process's streams and environment. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onShutdown(listener) {
      process.once('SIGINT', () => listener('SIGINT'));
      process.once('SIGTERM', () => listener('SIGTERM'));
    },
  };
}

/** Writes one line. */
export function println(stream: Io['stdout'], text = ''): void {
  stream.write(`${text}\n`);
}
