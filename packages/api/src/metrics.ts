import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectorDefinition, Logger, Store } from '@tributary/core';
import type { RunOutcome } from '@tributary/core';

// The Prometheus metrics of `tributary serve` and `tributary runner --metrics-port`. Counters count
// what this process did; gauges (queue depth, token expiry) are read from the store at each scrape.

export interface ApiMetrics {
  readonly registry: Registry;
  runFinished(
    app: string,
    outcome: Pick<RunOutcome, 'status' | 'fetched' | 'inserted' | 'rejected'>,
    seconds: number,
  ): void;
  sourceWait(app: string, code: string): void;
  sourceRequest(app: string, status: string): void;
  profileEvaluated(seconds: number): void;
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  text(): Promise<string>;
  contentType: string;
}

const DAY_MS = 86_400_000;

export function createMetrics(options: {
  store: Store;
  connectorFor(app: string): ConnectorDefinition | undefined;
  now: () => Date;
  logger: Logger;
  /** Process metrics (memory, event loop lag); off in tests that build many servers. */
  defaultMetrics?: boolean;
}): ApiMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tributary_' });
  const runs = new Counter({
    name: 'tributary_runs_total',
    help: 'Sync runs finished by this process, by app and status',
    labelNames: ['app', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tributary_run_duration_seconds',
    help: 'Duration of sync runs',
    labelNames: ['app'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  const records = new Counter({
    name: 'tributary_records_total',
    help: 'Records fetched, stored and rejected by syncs',
    labelNames: ['app', 'kind'],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'tributary_source_requests_total',
    help: 'Requests to source APIs, by status',
    labelNames: ['app', 'status'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'tributary_source_retries_total',
    help: 'Retried source requests',
    labelNames: ['app', 'code'],
    registers: [registry],
  });
  const rateLimitWaits = new Counter({
    name: 'tributary_source_rate_limit_waits_total',
    help: 'Pauses for a source rate limit',
    labelNames: ['app'],
    registers: [registry],
  });
  const profileLatency = new Histogram({
    name: 'tributary_profile_evaluation_seconds',
    help: 'Profile evaluation latency',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const http = new Histogram({
    name: 'tributary_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const { store, now } = options;
  new Gauge({
    name: 'tributary_queue_depth',
    help: 'Syncs waiting: installations due now, plus syncs and remaps queued over HTTP',
    registers: [registry],
    async collect() {
      const due = (await store.listSchedules()).filter(
        (e) => (e.state?.nextRunAt ?? e.installedAt).getTime() <= now().getTime(),
      ).length;
      this.set(due + (await store.jobQueueDepth()).queued);
    },
  });
  new Gauge({
    name: 'tributary_queue_oldest_due_seconds',
    help: 'How long the oldest due sync (scheduled, or queued over HTTP) has been waiting',
    registers: [registry],
    async collect() {
      const t = now().getTime();
      const oldestJob = (await store.jobQueueDepth()).oldest;
      const due = (await store.listSchedules())
        .map((e) => (e.state?.nextRunAt ?? e.installedAt).getTime())
        .concat(oldestJob ? [oldestJob.getTime()] : [])
        .filter((at) => at <= t);
      this.set(due.length === 0 ? 0 : (t - Math.min(...due)) / 1000);
    },
  });
  new Gauge({
    name: 'tributary_token_expiry_days',
    help: 'Days until the API token of an installation expires (absent when it never does)',
    labelNames: ['workspace', 'app'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const installation of await store.listInstallations()) {
        if (installation.status !== 'active') continue;
        const connector = options.connectorFor(installation.app);
        const parsed = connector?.configSchema.safeParse(installation.config);
        if (!connector?.credentialsExpireAt || !parsed?.success) continue;
        try {
          const at = connector.credentialsExpireAt(parsed.data);
          if (at)
            this.set(
              { workspace: installation.workspace, app: installation.app },
              Math.floor((at.getTime() - now().getTime()) / DAY_MS),
            );
        } catch (error) {
          options.logger.debug({ err: error, installationId: installation.id }, 'token expiry unreadable');
        }
      }
    },
  });
  return {
    registry,
    contentType: registry.contentType,
    runFinished(app, outcome, seconds) {
      runs.inc({ app, status: outcome.status });
      duration.observe({ app }, seconds);
      records.inc({ app, kind: 'fetched' }, outcome.fetched);
      records.inc({ app, kind: 'stored' }, outcome.inserted);
      records.inc({ app, kind: 'rejected' }, outcome.rejected);
    },
    sourceWait(app, code) {
      if (code === 'SOURCE_RATE_LIMITED') rateLimitWaits.inc({ app });
      else retries.inc({ app, code });
    },
    sourceRequest(app, status) {
      requests.inc({ app, status });
    },
    profileEvaluated(seconds) {
      profileLatency.observe(seconds);
    },
    httpRequest(method, route, status, seconds) {
      http.observe({ method, route, status: String(status) }, seconds);
    },
    text: () => registry.metrics(),
  };
}
