// Issue 14's benchmark: the HTTP API under 50 concurrent clients (autocannon) on the profile
// benchmark's database of BENCH_API_RESPONSES responses (default 1,000,000): GET runs, GET apps, and
// a profile preview (count and first members of an unsaved definition). Targets: p99 <= 50 ms for
// the lists, <= 100 ms for the preview. BENCH_API_DIALECTS=postgres,sqlite picks the databases.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createApiServer } from '@tributary/api';
import { createAuthService } from '@tributary/auth';
import { closeAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition } from '@tributary/core';
import { createPostgresTestDatabase } from '@tributary/testing';
import { seedProfilesDatabase } from './profiles.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_API_SECONDS ?? 10);
const RUNS = 200;

async function benchOne(
  dialect: 'postgres' | 'sqlite',
  url: string,
  responses: number,
): Promise<Record<string, string | number>[]> {
  const seeded = await seedProfilesDatabase(dialect, url, responses);
  const { store, installationId, workspace } = seeded;
  try {
    // A run log of a few hundred runs, as a month of hourly syncs leaves.
    for (let i = 0; i < RUNS; i += 1) {
      const at = new Date(seeded.now.getTime() - (RUNS - i) * 3_600_000);
      const runId = await store.startRun(installationId, at);
      await store.finishRun(
        runId,
        {
          status: 'succeeded',
          fetched: 40,
          inserted: 40,
          unchanged: 0,
          rejected: 0,
          saved: [],
          warnings: [],
        },
        new Date(at.getTime() + 20_000),
      );
    }
    const auth = createAuthService({ store });
    const { secret } = await auth.createApiKey({
      workspace,
      role: 'marketer',
      name: 'bench',
      actor: 'bench',
    });
    const server = await createApiServer({
      store,
      connectors: [closeAlertConnector as unknown as ConnectorDefinition],
      auth,
      now: () => seeded.now,
      processMetrics: false,
    });
    const base = await server.listen();
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
    const { name: _, ...definition } = seeded.unhappy;
    const targets = [
      {
        name: 'GET runs',
        method: 'GET' as const,
        path: `/workspaces/${workspace}/runs?limit=50`,
        target: 50,
      },
      { name: 'GET apps', method: 'GET' as const, path: `/workspaces/${workspace}/apps`, target: 50 },
      {
        name: 'POST profile preview',
        method: 'POST' as const,
        path: `/workspaces/${workspace}/profiles/preview?limit=20`,
        body: JSON.stringify(definition),
        target: 100,
      },
    ];
    const rows: Record<string, string | number>[] = [];
    try {
      for (const t of targets) {
        const check = await fetch(`${base}${t.path}`, {
          method: t.method,
          headers,
          ...(t.body ? { body: t.body } : {}),
        });
        if (check.status !== 200)
          throw new Error(`${t.name} answered ${check.status}: ${await check.text()}`);
        const result = await autocannon({
          url: `${base}${t.path}`,
          method: t.method,
          headers,
          ...(t.body ? { body: t.body } : {}),
          connections: CONNECTIONS,
          duration: DURATION_S,
        });
        rows.push({
          benchmark: `api ${dialect}`,
          route: t.name,
          responses,
          connections: CONNECTIONS,
          'req/s': Math.round(result.requests.average),
          'p50 ms': result.latency.p50,
          'p99 ms': result.latency.p99,
          'target p99 ms': t.target,
          non2xx: result.non2xx,
          errors: result.errors,
        });
      }
    } finally {
      await server.close();
    }
    return rows;
  } finally {
    await store.close();
  }
}

/** Runs the API benchmark on SQLite and, when reachable, PostgreSQL. */
export async function benchApi(responses: number): Promise<Record<string, string | number>[]> {
  const dialects = (process.env.BENCH_API_DIALECTS ?? 'postgres,sqlite').split(',');
  const rows: Record<string, string | number>[] = [];
  if (dialects.includes('postgres')) {
    const postgres = await createPostgresTestDatabase('bench-api');
    if (postgres) {
      try {
        rows.push(...(await benchOne('postgres', postgres.url, responses)));
      } finally {
        await postgres.drop();
      }
    }
  }
  if (dialects.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-api-'));
    try {
      rows.push(...(await benchOne('sqlite', `sqlite:${join(dir, 'bench.db')}`, responses)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
