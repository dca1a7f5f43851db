// Issue 14's benchmark: the HTTP API under 50 concurrent clients (autocannon) on the profile
// benchmark's database of BENCH_API_RESPONSES responses (default 1,000,000): GET runs, GET apps, and
// a profile preview (count and first members of an unsaved definition). Targets: p99 <= 50 ms for
// the lists, <= 100 ms for the preview. BENCH_API_DIALECTS=postgres,sqlite picks the databases,
// BENCH_API_ROUTES=runs,apps,preview the routes. With 50 clients each waiting for its answer, the mean
// latency is 50 / throughput, so on a shared machine the CPU each request costs (this process, which
// also runs the clients, and PostgreSQL's backends) is the figure to compare.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { createApiServer } from '@tributary/api';
import { createAuthService } from '@tributary/auth';
import { closeAlertConnector } from '@tributary/connector-closealert';
import type { ConnectorDefinition } from '@tributary/core';
import { createPostgresTestDatabase } from '@tributary/testing';
import { seedProfilesDatabase } from './profiles.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_API_SECONDS ?? 10);
const RUNS = 200;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU seconds the PostgreSQL backends serving `url`'s database have used so far (0 without /proc). */
async function backendCpuSeconds(admin: pg.Client | undefined): Promise<number> {
  if (!admin) return 0;
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // A backend that ended (or a server on another machine): nothing to count.
    }
  }
  return ticks / USER_HZ;
}

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
        key: 'runs',
        name: 'GET runs',
        method: 'GET' as const,
        path: `/workspaces/${workspace}/runs?limit=50`,
        target: 50,
      },
      { key: 'apps', name: 'GET apps', method: 'GET' as const, path: `/workspaces/${workspace}/apps`, target: 50 },
      {
        key: 'preview',
        name: 'POST profile preview',
        method: 'POST' as const,
        path: `/workspaces/${workspace}/profiles/preview?limit=20`,
        body: JSON.stringify(definition),
        target: 100,
      },
    ];
    const only = process.env.BENCH_API_ROUTES?.split(',');
    const rows: Record<string, string | number>[] = [];
    const admin = dialect === 'postgres' ? new pg.Client({ connectionString: url }) : undefined;
    await admin?.connect();
    try {
      for (const t of targets) {
        if (only && !only.includes(t.key)) continue;
        const check = await fetch(`${base}${t.path}`, {
          method: t.method,
          headers,
          ...(t.body ? { body: t.body } : {}),
        });
        if (check.status !== 200)
          throw new Error(`${t.name} answered ${check.status}: ${await check.text()}`);
        const cpuBefore = process.cpuUsage();
        const backendBefore = await backendCpuSeconds(admin);
        const result = await autocannon({
          url: `${base}${t.path}`,
          method: t.method,
          headers,
          ...(t.body ? { body: t.body } : {}),
          connections: CONNECTIONS,
          duration: DURATION_S,
        });
        const cpu = process.cpuUsage(cpuBefore);
        const nodeCpuS = (cpu.user + cpu.system) / 1e6;
        const backendCpuS = (await backendCpuSeconds(admin)) - backendBefore;
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
          'node CPU s': Number(nodeCpuS.toFixed(2)),
          'node CPU ms/req': Number(((nodeCpuS * 1000) / Math.max(1, result.requests.total)).toFixed(3)),
          ...(admin
            ? {
                'pg CPU s': Number(backendCpuS.toFixed(2)),
                'pg CPU ms/req': Number(((backendCpuS * 1000) / Math.max(1, result.requests.total)).toFixed(3)),
              }
            : {}),
          load: loadavg()[0]!.toFixed(1),
        });
      }
    } finally {
      await admin?.end();
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
