import type { Fault } from './faults.js';

/** Faults waiting for the next data requests, first in first out, one per request. */
export class FaultQueue<F = Fault> {
  private readonly pending: { fault: F; remaining: number }[] = [];

  add(fault: F, times: number): void {
    if (times > 0) this.pending.push({ fault, remaining: times });
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
