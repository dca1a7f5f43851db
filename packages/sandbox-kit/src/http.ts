import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultQueue } from './fault-queue.js';
import { faultSchema, faultTimesSchema, type Fault, type StatusFault } from './faults.js';

/** An answer, fully formed, before it is written. */
export interface Reply {
  status: number;
  body: string | Buffer;
  contentType: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';

export function jsonReply(status: number, body: string | Buffer, headers?: Record<string, string>): Reply {
  return headers === undefined ? { status, body, contentType: JSON_TYPE } : { status, body, contentType: JSON_TYPE, headers };
}

/** The page a proxy in front of an API serves for 502 and 503: HTML, whatever the API speaks. */
export function proxyReply(status: 502 | 503): Reply {
  const title = status === 502 ? '502 Bad Gateway' : '503 Service Temporarily Unavailable';
  const body = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  return { status, body, contentType: HTML_TYPE };
}

/** Requests a sandbox received, and its answers by status. */
export interface SandboxStats {
  /** Every HTTP request received, including those answered by a fault. */
  requests: number;
  /** Answered requests by status code; a `reset` fault has no status and is not counted here. */
  byStatus: Record<number, number>;
}

/** What a fault left to the page: none, or one that changes the body (a bad record, a truncation). */
export type FaultOutcome = { answered: true } | { answered: false; fault: Fault | undefined };

/**
 * The HTTP side every sandbox shares: a server on 127.0.0.1, request and status counts, the queue of
 * injected faults and how each one is played (a status, a reset, a delay, a bad record, a cut body).
 * The source's own routes, auth and error wording stay in its sandbox.
 */
export class SandboxHttp {
  private readonly server: Server;
  private readonly faults = new FaultQueue<Fault>();
  private readonly pendingDelays = new Set<NodeJS.Timeout>();
  private requestCount = 0;
  private readonly byStatus: Record<number, number> = {};
  /** Epoch ms of every request, for tests that check a client's pace. */
  private readonly arrivals: number[] = [];

  constructor(
    handle: (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>,
    private readonly internalError: () => Reply,
  ) {
    this.server = createServer((request, response) => {
      this.requestCount += 1;
      this.arrivals.push(Date.now());
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      handle(request, response, url).catch(() => {
        if (!response.headersSent) this.send(response, this.internalError());
        else response.destroy();
      });
    });
  }

  /** Listens on 127.0.0.1; returns the origin, e.g. `http://127.0.0.1:4010`. */
  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  injectFault(fault: Fault, options?: { times?: number }): void {
    this.faults.add(faultSchema.parse(fault), faultTimesSchema.parse(options?.times));
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * A page body as the played fault shapes it (see {@link shapeBody}). A malformed record stands in for a real
   * one, so a page without records (a sync that finds nothing new) hands the fault on to the next request
   * instead of using it up unseen.
   */
  pageBody(records: string[], fault: Fault | undefined, badRecordText: string, wrap: (records: string) => string): string | Buffer {
    if (fault?.kind === 'bad-record' && records.length === 0) this.faults.putBack(fault);
    return shapeBody(records, fault, badRecordText, wrap);
  }

  /**
   * Sends `reply` (a refusal: credentials, rate limit, a bad query) where the page a played fault was
   * to shape would have gone. A fault that shapes a page's body (a malformed record, a cut body) then
   * waits for the next page instead of being used up by a request that never got one: a client's
   * first request after another process used up the rate limit must not swallow the fault a test set.
   */
  sendInstead(response: ServerResponse, reply: Reply, fault: Fault | undefined): void {
    if (fault?.kind === 'bad-record' || fault?.kind === 'truncated-json') this.faults.putBack(fault);
    this.send(response, reply);
  }

  stats(): SandboxStats {
    return { requests: this.requestCount, byStatus: { ...this.byStatus } };
  }

  /** Requests received per whole second since the epoch: the most any one second saw, and when. */
  busiestSecond(sinceMs = 0): { second: number; requests: number } {
    const perSecond = new Map<number, number>();
    for (const at of this.arrivals) if (at >= sinceMs) perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
    let busiest = { second: 0, requests: 0 };
    for (const [second, requests] of perSecond) if (requests > busiest.requests) busiest = { second, requests };
    return busiest;
  }

  /**
   * Plays the next injected fault on a data request: a status is answered, a reset drops the
   * connection, a delay waits; what changes the body is handed back for {@link shapeBody}.
   */
  async playFault(request: IncomingMessage, response: ServerResponse, statusReply: (fault: StatusFault) => Reply): Promise<FaultOutcome> {
    const fault = this.faults.take();
    if (fault?.kind === 'status') {
      this.send(response, statusReply(fault));
      return { answered: true };
    }
    if (fault?.kind === 'reset') {
      request.socket.resetAndDestroy();
      return { answered: true };
    }
    if (fault?.kind === 'slow') {
      await this.delay(fault.delayMs);
      if (response.destroyed || response.writableEnded) return { answered: true };
    }
    return { answered: false, fault };
  }

  send(response: ServerResponse, reply: Reply): void {
    this.byStatus[reply.status] = (this.byStatus[reply.status] ?? 0) + 1;
    response.writeHead(reply.status, {
      'Content-Type': reply.contentType,
      'Content-Length': Buffer.byteLength(reply.body),
      ...reply.headers,
    });
    response.end(reply.body);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingDelays.delete(timer);
        resolve();
      }, ms);
      this.pendingDelays.add(timer);
    });
  }

  async close(): Promise<void> {
    // A request held by a 'slow' fault is abandoned rather than answered after shutdown.
    for (const timer of this.pendingDelays) clearTimeout(timer);
    this.pendingDelays.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

/** A 429 with `Retry-After` when the fault says, in the source's own body. */
export function withRetryAfter(reply: Reply, fault: StatusFault): Reply {
  if (fault.status === 429 && fault.retryAfterSeconds !== undefined) reply.headers = { ...reply.headers, 'Retry-After': String(fault.retryAfterSeconds) };
  return reply;
}

/**
 * A page body as the fault shapes it: `records` are the records' JSON texts, `wrap` builds the
 * source's envelope. A bad record stands in for one real record; a truncated body stops half-way.
 */
export function shapeBody(records: string[], fault: Fault | undefined, badRecordText: string, wrap: (records: string) => string): string | Buffer {
  if (fault?.kind === 'bad-record' && records.length > 0) records[Math.min(fault.index ?? 0, records.length - 1)] = badRecordText;
  const body = wrap(records.join(','));
  if (fault?.kind !== 'truncated-json') return body;
  const bytes = Buffer.from(body, 'utf8');
  return bytes.subarray(0, Math.floor(bytes.length / 2));
}
