/** Where a command writes, so that tests can capture output without touching the process. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Resolves when the operator asks to stop (Ctrl-C, SIGTERM); long commands stop taking new work then. */
  onShutdown?: (listener: () => void) => void;
}

/** A stop request is honoured within this long, even when something (a database that hangs) keeps the command from ending. */
export const STOP_DEADLINE_MS = 12_000;

let stopDeadlineArmed = false;

/**
 * After a stop signal, ends the process at the deadline whatever still runs. Safe for data: a page
 * being written then rolls back with its checkpoint and is fetched again by the next run. The timer
 * does not keep a process alive that ends by itself sooner.
 */
function armStopDeadline(): void {
  if (stopDeadlineArmed) return;
  stopDeadlineArmed = true;
  setTimeout(() => {
    process.stderr.write(`Did not stop within ${STOP_DEADLINE_MS / 1000} s of the signal; exiting now. Work in flight rolls back and runs again.\n`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
}

/** The real process's streams and environment. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onShutdown(listener) {
      const stop = () => {
        armStopDeadline();
        listener();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  };
}

/** Writes one line. */
export function println(stream: Io['stdout'], text = ''): void {
  stream.write(`${text}\n`);
}
