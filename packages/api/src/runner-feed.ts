import { createServer, type Server } from 'node:http';
import type { Logger, RunLogStore } from '@tributary/core';
import type { RunnerEvent } from '@tributary/runner';
import type { ApiMetrics } from './metrics.js';

// What a runner in this process tells the metrics and /readyz: each finished run (its counts read
// back from the run log) and each scheduler pass, the runner's heartbeat.

export interface RunnerFeed {
  onEvent(event: RunnerEvent): void;
  /** For the runner's `onSourceRequest`. */
  onSourceRequest(app: string, status: number | 'error'): void;
  lastHeartbeat(): Date | undefined;
  /** Waits for the run-log reads still in flight (tests, shutdown). */
  settled(): Promise<void>;
}

export function feedRunnerMetrics(options: {
  metrics: ApiMetrics;
  store: RunLogStore;
  logger: Logger;
  now?: () => Date;
}): RunnerFeed {
  const now = options.now ?? (() => new Date());
  let heartbeat: Date | undefined;
  const pending = new Set<Promise<void>>();
  return {
    onEvent(event) {
      if (event.type === 'tick') heartbeat = now();
      if (event.type !== 'job-done' || !event.runId || !event.app) return;
      const app = event.app;
      const read = options.store
        .getRun(event.runId)
        .then((run) => {
          if (!run || run.status === 'running') return;
          const seconds = run.finishedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : 0;
          options.metrics.runFinished(
            app,
            {
              status: run.status === 'abandoned' ? 'failed' : run.status,
              fetched: run.fetched,
              inserted: run.inserted,
              rejected: run.rejected,
            },
            seconds,
          );
        })
        .catch((error: unknown) =>
          options.logger.warn({ err: error }, 'the metrics could not read a finished run'),
        )
        .finally(() => pending.delete(read));
      pending.add(read);
    },
    onSourceRequest: (app, status) => options.metrics.sourceRequest(app, String(status)),
    lastHeartbeat: () => heartbeat,
    async settled() {
      await Promise.allSettled([...pending]);
    },
  };
}

/** A server that answers GET /metrics only: for `tributary runner --metrics-port`. */
export async function startMetricsServer(
  metrics: ApiMetrics,
  options: { host?: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          code: 'API_ROUTE_NOT_FOUND',
          message: 'Only GET /metrics is served here.',
          hint: null,
        }),
      );
      return;
    }
    metrics
      .text()
      .then((text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text))
      .catch(() =>
        response.writeHead(503, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            code: 'STORE_UNREACHABLE',
            message: 'The metrics could not be read.',
            hint: null,
          }),
        ),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
