import { z } from 'zod';
import { isTributaryError } from '@tributary/core';
import { route, type ApiRoute } from '../route.js';
import type { ApiContext } from './index.js';

const checkSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() });

/** Health, readiness and metrics: open to anyone (bind to a private address, or filter at the proxy). */
export function opsRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    route({
      method: 'GET',
      url: '/healthz',
      access: 'public',
      summary: 'The process is alive',
      tags: ['operations'],
      response: z.object({ status: z.literal('ok') }),
      handler: async () => ({ status: 'ok' as const }),
    }),
    route({
      method: 'GET',
      url: '/readyz',
      access: 'public',
      summary:
        'The database answers, its migrations are current, and the runner (with --with-runner) is beating',
      tags: ['operations'],
      response: z.object({ status: z.enum(['ready', 'not-ready']), checks: z.array(checkSchema) }),
      handler: async (_request, reply) => {
        const checks: z.infer<typeof checkSchema>[] = [];
        try {
          await ctx.store.listSchedules();
          checks.push({ name: 'database', ok: true });
        } catch (error) {
          checks.push({
            name: 'database',
            ok: false,
            detail: isTributaryError(error) ? error.code : 'unreachable',
          });
        }
        if (ctx.store.pendingMigrations) {
          try {
            const pending = await ctx.store.pendingMigrations();
            checks.push({
              name: 'migrations',
              ok: pending.length === 0,
              ...(pending.length > 0 ? { detail: `${pending.length} pending: run tributary migrate` } : {}),
            });
          } catch {
            checks.push({ name: 'migrations', ok: false, detail: 'cannot be read' });
          }
        }
        if (ctx.runner) {
          const beat = ctx.runner.lastHeartbeat();
          const silence = beat ? ctx.now().getTime() - beat.getTime() : Infinity;
          const max = ctx.runner.maxSilenceMs ?? 120_000;
          checks.push({
            name: 'runner',
            ok: silence <= max,
            ...(silence > max
              ? { detail: beat ? `no heartbeat for ${Math.round(silence / 1000)} s` : 'not started' }
              : {}),
          });
        }
        const ready = checks.every((c) => c.ok);
        reply.code(ready ? 200 : 503);
        return { status: ready ? ('ready' as const) : ('not-ready' as const), checks };
      },
      status: 200,
    }),
    route({
      method: 'GET',
      url: '/metrics',
      access: 'public',
      summary: 'Prometheus metrics',
      tags: ['operations'],
      produces: 'text/plain',
      handler: async (_request, reply) => {
        const text = await ctx.metrics.text();
        return reply.type(ctx.metrics.contentType).send(text);
      },
    }),
  ];
}
