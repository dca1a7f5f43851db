import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the test server saw. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  atMs: number;
}

/** A tiny local HTTP server for the SDK's own tests: real sockets, a handler per test. */
export interface TestServer {
  url: string;
  seen: SeenRequest[];
  handle(handler: (request: IncomingMessage, response: ServerResponse, index: number) => void): void;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  let handler: (request: IncomingMessage, response: ServerResponse, index: number) => void = (_request, response) =>
    response.writeHead(500).end();
  const server = createServer((request, response) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, atMs: performance.now() });
    handler(request, response, seen.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    handle: (next) => {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON answer. */
export function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
