import type { Fault } from './faults.js';

/** Faults waiting for the next data requests, first in first out, one per request. */
export class FaultQueue<F = Fault> {
  private readonly pending: { fault: F; remaining: number }[] = [];

  add(fault: F, times: number): void {
    if (times > 0) this.pending.push({ fault, remaining: times });
  }

  /** Puts a fault back at the head of the queue, for the next request (one it did not fit). */
  putBack(fault: F): void {
    this.pending.unshift({ fault, remaining: 1 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  take(): F | undefined {
    const head = this.pending[0];
    if (head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining === 0) this.pending.shift();
    return head.fault;
  }
}
