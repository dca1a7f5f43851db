import { describe, expect, it } from 'vitest';
import type { Io } from './io.js';
import { createProgress, formatDuration } from './progress.js';

function capture(tty: boolean) {
  let stderr = '';
  const io: Io = { stdout: { write: () => true }, stderr: { isTTY: tty, write: (text: string) => (stderr += text) }, env: {} };
  return { io, err: () => stderr };
}

describe('progress', () => {
  it('draws a bar with windows, responses, rate and ETA on a terminal', () => {
    let now = 0;
    const c = capture(true);
    const progress = createProgress(c.io, 'acme/closealert', { now: () => now });
    now = 10_000;
    progress.update({ count: 5000, unit: 'responses', done: 1, total: 4, of: 'windows', detail: '5000 new, 0 rejected' });
    expect(c.err()).toContain('\r');
    expect(c.err()).toContain('acme/closealert: [#####---------------] 1/4 windows  5,000 responses  500/s  ETA 30 s  (5000 new, 0 rejected)');
    progress.done();
    expect(c.err().endsWith('\n')).toBe(true);
  });

  it('writes one plain line a minute when stderr is not a terminal', () => {
    let now = 0;
    const c = capture(false);
    const progress = createProgress(c.io, 'acme/closealert', { now: () => now });
    for (let second = 1; second <= 150; second++) {
      now = second * 1000;
      progress.update({ count: second * 10, unit: 'responses', done: Math.floor(second / 50), total: 4, of: 'windows' });
    }
    progress.done();
    const lines = c.err().split('\n').filter(Boolean);
    expect(lines).toEqual(['acme/closealert: 1/4 windows  600 responses  10/s  ETA 3 min', 'acme/closealert: 2/4 windows  1,200 responses  10/s  ETA 2 min']);
    expect(c.err()).not.toContain('\r');
  });

  it('says how long a wait lasts and why, at once', () => {
    const c = capture(false);
    const progress = createProgress(c.io, 'acme/closealert', { now: () => 0 });
    progress.wait({ ms: 120_000, code: 'SOURCE_RATE_LIMITED', reason: 'CloseAlert rate-limited the requests (429).' });
    progress.wait({ ms: 300, code: 'SOURCE_UNAVAILABLE', reason: 'a short backoff is not worth a line' });
    expect(c.err()).toBe('acme/closealert: waiting 2 min: CloseAlert rate-limited the requests (429).\n');
  });

  it('formats durations for people', () => {
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(3_720_000)).toBe('1 h 2 min');
  });
});
