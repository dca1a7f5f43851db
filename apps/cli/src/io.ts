/** The signals that ask a command to stop. */
export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/** Where a command writes, so that tests can capture output without touching the process. */
export interface Io {
  stdout: {
    write(text: string): unknown;
    isTTY?: boolean;
    /**
     * Resolves once a write that returned false may go on (the reader caught up, or went away): how
     * a long export keeps pace with a slow reader instead of buffering. Absent where writes never wait.
     */
    drained?(): Promise<void>;
    /** True once the reader has gone (`| head -1`): a long export stops reading then. */
    closed?(): boolean;
  };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Standard input, for secrets given as `-` (`--token -`); absent where there is none. */
  stdin?: AsyncIterable<string | Buffer>;
  /**
   * Calls `listener` with the signal when the operator asks to stop (Ctrl-C is SIGINT, `kill` SIGTERM);
   * long commands stop taking new work then.
   */
  onShutdown?: (listener: (signal: ShutdownSignal) => void) => void;
}

/** The process's Io, plus whether a reader went away while the command was writing. */
export interface ProcessIo extends Io {
  /** True once stdout or stderr hit a closed pipe (`tributary logs | head -1`); later writes to it were dropped. */
  brokenPipe(): boolean;
}

type Stream = NodeJS.WriteStream;

/**
 * A process stream that stops writing once its reader has gone. Node ignores SIGPIPE, so a closed
 * pipe surfaces as an asynchronous EPIPE 'error' event that would otherwise crash the process with
 * a stack trace; here it only marks the stream closed, and the command finishes its work quietly.
 */
function guarded(stream: Stream, onBroken: () => void): Io['stdout'] {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      closed = true;
      onBroken();
      return;
    }
    throw error;
  });
  return {
    get isTTY() {
      return stream.isTTY;
    },
    write(text: string) {
      if (closed || stream.destroyed) return false;
      return stream.write(text);
    },
    drained: () =>
      closed || stream.destroyed || !stream.writableNeedDrain
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const done = () => {
              stream.off('drain', done);
              stream.off('error', done);
              stream.off('close', done);
              resolve();
            };
            stream.on('drain', done);
            stream.on('error', done);
            stream.on('close', done);
          }),
    closed: () => closed || stream.destroyed,
  };
}

/** A stop request is honoured within this long, even when something (a database that hangs) keeps the command from ending. */
export const STOP_DEADLINE_MS = 12_000;

let stopDeadlineArmed = false;

/**
 * After a stop signal, ends the process at the deadline whatever still runs. Safe for data: a page
 * being written then rolls back with its checkpoint and is fetched again by the next run. The timer
 * does not keep a process alive that ends by itself sooner.
 */
function armStopDeadline(signal: ShutdownSignal): void {
  if (stopDeadlineArmed) return;
  stopDeadlineArmed = true;
  setTimeout(() => {
    process.stderr.write(`Did not stop within ${STOP_DEADLINE_MS / 1000} s of the signal; exiting now. Work in flight rolls back and runs again.\n`);
    // 128 + the signal's number, as for a command that stopped in time.
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }, STOP_DEADLINE_MS).unref();
}

/** The real process's streams and environment. */
export function processIo(): ProcessIo {
  let broken = false;
  const onBroken = () => (broken = true);
  return {
    stdout: guarded(process.stdout, onBroken),
    stderr: guarded(process.stderr, onBroken),
    env: process.env,
    stdin: process.stdin,
    onShutdown(listener) {
      const stop = (signal: ShutdownSignal) => {
        armStopDeadline(signal);
        listener(signal);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    },
    brokenPipe: () => broken,
  };
}

/** Writes one line. */
export function println(stream: Io['stdout'], text = ''): void {
  stream.write(`${text}\n`);
}
