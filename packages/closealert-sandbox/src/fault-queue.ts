import type { Fault } from './types.js';

/** Faults waiting for the next form_responses requests, first in first out, one per request. */
export class FaultQueue {
  private readonly pending: { fault: Fault; remaining: number }[] = [];

  add(fault: Fault, times: number): void {
    if (times > 0) this.pending.push({ fault, remaining: times });
  }

  clear(): void {
    this.pending.length = 0;
  }

  take(): Fault | undefined {
    const head = this.pending[0];
    if (head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining === 0) this.pending.shift();
    return head.fault;
  }
}
