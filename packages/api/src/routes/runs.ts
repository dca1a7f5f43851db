import { z } from 'zod';
import { ConfigError, type RunRecord } from '@tributary/core';
import { runJson, runSchema } from '../json.js';
import { decodeCursor, encodeCursor, nextOffset, offsetOf } from '../pagination.js';
import { pageOf, pageQuery, route, workspaceParams, type ApiRoute } from '../route.js';
import type { ApiContext } from './index.js';

const runParams = workspaceParams.extend({ runId: z.string().min(1).max(100) });
const RUN_STATUSES = ['running', 'succeeded', 'failed', 'stopped', 'abandoned'] as const;
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function runRoutes(ctx: ApiContext): ApiRoute[] {
  /** A run of the workspace, or a 404 (a run of another workspace does not exist for the caller). */
  const runOf = async (workspace: string, runId: string): Promise<RunRecord> => {
    const run = await ctx.store.getRun(runId).catch(() => undefined);
    if (!run || run.workspace !== workspace)
      throw new ConfigError('RUN_NOT_FOUND', `No run ${runId} in workspace "${workspace}".`, {
        hint: `GET /workspaces/${workspace}/runs lists them.`,
      });
    return run;
  };
  return [
    route({
      method: 'GET',
      url: '/workspaces/:workspace/runs',
      access: 'viewer',
      summary: 'Runs of a workspace, newest first',
      tags: ['runs'],
      params: workspaceParams,
      querystring: pageQuery.extend({
        app: z.string().max(100).optional(),
        status: z.enum(RUN_STATUSES).optional().describe('Only runs with this status'),
        from: z.iso.datetime({ offset: true }).optional().describe('Only runs started at or after this instant'),
        to: z.iso.datetime({ offset: true }).optional().describe('Only runs started before this instant'),
      }),
      response: pageOf(runSchema),
      handler: async (request) => {
        const offset = offsetOf(request.query.cursor);
        const { app, status, from, to } = request.query;
        const runs = await ctx.store.listRuns({
          workspace: request.params.workspace,
          ...(app ? { app } : {}),
          ...(status ? { status } : {}),
          ...(from ? { startedFrom: new Date(from) } : {}),
          ...(to ? { startedBefore: new Date(to) } : {}),
          limit: offset + request.query.limit + 1,
          // The list shows counts only: no run's customers or rejected records are read.
          details: false,
        });
        const page = runs.slice(offset, offset + request.query.limit);
        return {
          items: page.map((r) => runJson(r)),
          next: nextOffset(offset, page.length, runs.length > offset + request.query.limit),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/runs/:runId',
      access: 'viewer',
      summary: 'One run with its rejected records and the first customers it saved',
      tags: ['runs'],
      params: runParams,
      response: runSchema,
      handler: async (request) => {
        const run = await runOf(request.params.workspace, request.params.runId);
        return { ...runJson(run, true), saved: run.saved };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/runs/:runId/customers',
      access: 'viewer',
      summary: 'Every customer a run saved, with the feedback saved, a page at a time',
      tags: ['runs'],
      params: runParams,
      querystring: pageQuery,
      response: pageOf(z.looseObject({ seq: z.number() })).extend({ total: z.number() }),
      handler: async (request) => {
        await runOf(request.params.workspace, request.params.runId);
        const after = decodeCursor(request.query.cursor, isSeq);
        const page = await ctx.store.listSavedCustomers(request.params.runId, {
          ...(after !== undefined ? { after } : {}),
          limit: request.query.limit,
        });
        return {
          items: page?.customers ?? [],
          total: page?.total ?? 0,
          next: page?.next !== undefined ? encodeCursor(page.next) : null,
        };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/runs/:runId/rejected',
      access: 'viewer',
      summary: 'The records a run set aside, with the reason and the raw record, a page at a time',
      tags: ['runs'],
      params: runParams,
      querystring: pageQuery,
      response: pageOf(
        z.object({ seq: z.number(), sourceId: z.string().optional(), reason: z.string(), raw: z.unknown() }),
      ).extend({ total: z.number() }),
      handler: async (request) => {
        await runOf(request.params.workspace, request.params.runId);
        const after = decodeCursor(request.query.cursor, isSeq);
        const page = await ctx.store.listRejectedRecords(request.params.runId, {
          ...(after !== undefined ? { after } : {}),
          limit: request.query.limit,
        });
        return {
          items: page?.records ?? [],
          total: page?.total ?? 0,
          next: page?.next !== undefined ? encodeCursor(page.next) : null,
        };
      },
    }),
  ];
}
