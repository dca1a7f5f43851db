import type { SourceWait } from '@tributary/core';
import { println, type Io } from './io.js';

/** How far long work has come. */
export interface ProgressUpdate {
  /** Items handled so far, e.g. responses fetched. */
  count: number;
  /** What `count` counts: `responses`. */
  unit: string;
  /** Steps done and in total (windows of a sync, responses of a remap), when known: they give the ETA. */
  done?: number | undefined;
  total?: number | undefined;
  /** What the steps are: `windows`; when it equals `unit`, the count is not repeated. */
  of?: string;
  /** Further counts for the terminal line, e.g. `120 new, 2 rejected`. */
  detail?: string;
}

export interface Progress {
  update(progress: ProgressUpdate): void;
  /** The source made the work wait (a rate limit, a retry): said at once, with how long and why. */
  wait(wait: SourceWait): void;
  done(): void;
}

export interface ProgressOptions {
  /** Clock in ms; tests pass their own. */
  now?: () => number;
  /** Without a terminal, one line per this many ms (default a minute). */
  lineEveryMs?: number;
}

const number = (n: number) => Math.round(n).toLocaleString('en-US');

/** `42 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

/**
 * Progress of a sync, a backfill or a remap on stderr: a bar redrawn in place on a terminal, and
 * otherwise (a log file, a pipe) one line a minute, so that long work never looks hung and a log
 * does not fill with bars. A wait is always said when it starts.
 */
export function createProgress(io: Io, label: string, options: ProgressOptions = {}): Progress {
  const tty = Boolean(io.stderr.isTTY);
  const now = options.now ?? Date.now;
  const every = options.lineEveryMs ?? 60_000;
  const started = now();
  let lastLine = started;
  let lastDraw = 0;
  let drawn = false;
  let latest: ProgressUpdate | undefined;

  const describe = (p: ProgressUpdate, bar: boolean): string => {
    const elapsed = now() - started;
    const parts: string[] = [];
    if (p.total !== undefined && p.done !== undefined && p.total > 0) {
      const ratio = Math.min(1, p.done / p.total);
      const width = 20;
      const filled = Math.round(ratio * width);
      parts.push(`${bar ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : ''}${number(p.done)}/${number(p.total)} ${p.of ?? ''}`.trimEnd());
    }
    if (p.of !== p.unit) parts.push(`${number(p.count)} ${p.unit}`);
    if (elapsed >= 1000) parts.push(`${number((p.count * 1000) / elapsed)}/s`);
    if (p.total !== undefined && p.done !== undefined && p.done > 0 && p.done < p.total) {
      parts.push(`ETA ${formatDuration((elapsed * (p.total - p.done)) / p.done)}`);
    }
    if (bar && p.detail) parts.push(`(${p.detail})`);
    return `${label}: ${parts.join('  ')}`;
  };
  const clear = () => {
    if (drawn) io.stderr.write('\r\x1b[2K');
  };
  const draw = () => {
    if (!latest) return;
    io.stderr.write(`\r\x1b[2K${describe(latest, true)}`);
    drawn = true;
    lastDraw = now();
  };

  return {
    update(progress) {
      latest = progress;
      if (tty) {
        if (now() - lastDraw >= 100) draw();
      } else if (now() - lastLine >= every) {
        println(io.stderr, describe(progress, false));
        lastLine = now();
      }
    },
    wait(wait) {
      if (wait.ms < 1000) return;
      clear();
      println(io.stderr, `${label}: waiting ${formatDuration(wait.ms)}: ${wait.reason}`);
      drawn = false;
      if (tty) draw();
    },
    done() {
      if (tty && latest) draw();
      if (drawn) io.stderr.write('\n');
      drawn = false;
    },
  };
}
