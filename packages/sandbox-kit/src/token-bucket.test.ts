import { describe, expect, it } from 'vitest';
import { FaultQueue } from './fault-queue.js';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('empties, refuses, then refills with time up to its capacity', () => {
    let nowMs = 0;
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 2 }, () => nowMs);
    expect([bucket.take(), bucket.take(), bucket.take()].map((result) => result.remaining)).toEqual([
      2, 1, 0,
    ]);
    expect(bucket.take()).toEqual({ allowed: false, remaining: 0 });
    nowMs += 500;
    expect(bucket.take()).toEqual({ allowed: true, remaining: 0 });
    nowMs += 60_000;
    expect(bucket.take()).toEqual({ allowed: true, remaining: 2 });
  });

  it('starts full again after a reset', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 0 }, () => 0);
    bucket.take();
    expect(bucket.take().allowed).toBe(false);
    bucket.reset({ capacity: 5, refillPerSecond: 0 });
    expect(bucket.take()).toEqual({ allowed: true, remaining: 4 });
  });
});

describe('FaultQueue', () => {
  it('hands out faults first in first out, each as many times as asked', () => {
    const queue = new FaultQueue();
    queue.add({ kind: 'reset' }, 2);
    queue.add({ kind: 'truncated-json' }, 1);
    expect([queue.take(), queue.take(), queue.take(), queue.take()]).toEqual([
      { kind: 'reset' },
      { kind: 'reset' },
      { kind: 'truncated-json' },
      undefined,
    ]);
    queue.add({ kind: 'reset' }, 1);
    queue.putBack({ kind: 'truncated-json' });
    expect([queue.take(), queue.take()]).toEqual([{ kind: 'truncated-json' }, { kind: 'reset' }]);
    queue.add({ kind: 'reset' }, 3);
    queue.clear();
    expect(queue.take()).toBeUndefined();
  });
});
