import { z } from 'zod';
import {
  COLUMN_TYPES,
  TRANSFORMS,
  addMapping,
  brokenDependencies,
  dependencyRefusal,
  findTable,
  mappingState,
  profilesReading,
  resetMappings,
  setMapping,
  toggleMapping,
  parseTarget,
  type ConnectorDefinition,
  type Installation,
  type MappingEdit,
} from '@tributary/core';
import { appParams, route, type ApiRoute } from '../route.js';
import { connectorOrThrow } from './catalog.js';
import { activeInstallation, jobJson, jobSchema } from './installations.js';
import type { ApiContext } from './index.js';

const mappingSchema = z
  .object({
    target: z.string(),
    type: z.string(),
    source: z.string(),
    transform: z.string(),
    enabled: z.boolean(),
    state: z.enum(['default', 'changed', 'added', 'off']),
  })
  .meta({ id: 'Mapping' });
const mappingsSchema = z.object({ items: z.array(mappingSchema), next: z.null() });
const editResult = z.object({
  summary: z.string(),
  mappings: z.array(mappingSchema),
  forced: z.array(z.unknown()).nullable(),
  profilesThatStopWorking: z.array(z.string()).nullable(),
});
const column = z.string().min(3).max(200).describe('table.column');
const force = z
  .boolean()
  .default(false)
  .describe('Change it even when profiles or the customer link depend on it');

function rows(installation: Installation, connector: ConnectorDefinition): z.infer<typeof mappingSchema>[] {
  return installation.mappings.map((m) => ({
    target: `${m.target.table}.${m.target.column}`,
    type:
      findTable(installation.dataModel, m.target.table)?.columns.find((c) => c.name === m.target.column)
        ?.type ?? '?',
    source: m.source,
    transform: m.transform,
    enabled: m.enabled,
    state: mappingState(m, connector),
  }));
}

/** The data mappings, edited with the same validated functions as `tributary mappings`. */
export function mappingRoutes(ctx: ApiContext): ApiRoute[] {
  const apply = async (
    workspace: string,
    app: string,
    force: boolean,
    edit: (i: Installation, c: ConnectorDefinition) => MappingEdit,
  ) => {
    const connector = connectorOrThrow(ctx, app);
    const installation = await activeInstallation(ctx, workspace, app);
    const change = edit(installation, connector);
    const broken = brokenDependencies(
      installation.mappings,
      change.mappings,
      change.dataModel ?? installation.dataModel,
      connector,
    );
    const affected =
      broken.length === 0 ? [] : profilesReading(broken, await ctx.store.listProfiles(workspace), app);
    if (broken.length > 0 && !force) throw dependencyRefusal(broken, affected);
    const updated = await ctx.store.updateInstallation(installation.id, {
      mappings: change.mappings,
      ...(change.dataModel ? { dataModel: change.dataModel } : {}),
    });
    return {
      summary: change.summary,
      mappings: rows(updated, connector),
      forced: broken.length > 0 ? broken : null,
      profilesThatStopWorking: broken.length > 0 ? affected : null,
    };
  };
  const base = '/workspaces/:workspace/apps/:app/mappings';
  return [
    route({
      method: 'GET',
      url: base,
      access: 'viewer',
      summary: 'The data mappings: column, type, source field, transform, state',
      tags: ['mappings'],
      params: appParams,
      response: mappingsSchema,
      handler: async (request) => {
        const connector = connectorOrThrow(ctx, request.params.app);
        return {
          items: rows(await activeInstallation(ctx, request.params.workspace, request.params.app), connector),
          next: null,
        };
      },
    }),
    route({
      method: 'POST',
      url: `${base}/set`,
      access: 'admin',
      audit: 'mapping.set',
      summary: 'Change the mapping that feeds a column: another column, source field or transform',
      tags: ['mappings'],
      params: appParams,
      body: z.object({
        column,
        to: column.optional(),
        source: z.string().min(1).max(200).optional(),
        transform: z.enum(TRANSFORMS).optional(),
        force,
      }),
      response: editResult,
      handler: async (request) => {
        const b = request.body;
        const edit = {
          ...(b.to ? { to: parseTarget(b.to) } : {}),
          ...(b.source !== undefined ? { source: b.source } : {}),
          ...(b.transform ? { transform: b.transform } : {}),
        };
        return apply(request.params.workspace, request.params.app, b.force, (i, c) =>
          setMapping(i.mappings, i.dataModel, c, parseTarget(b.column), edit),
        );
      },
    }),
    ...([false, true] as const).map((enabled) =>
      route({
        method: 'POST',
        url: `${base}/${enabled ? 'enable' : 'disable'}`,
        access: 'admin',
        audit: enabled ? 'mapping.enable' : 'mapping.disable',
        summary: enabled
          ? 'Switch a mapping on again'
          : 'Switch a mapping off: its column stays empty for new responses',
        tags: ['mappings'],
        params: appParams,
        body: z.object({ column, source: z.string().min(1).max(200).optional(), force }),
        response: editResult,
        handler: async (request) =>
          apply(request.params.workspace, request.params.app, request.body.force, (i, c) =>
            toggleMapping(
              i.mappings,
              i.dataModel,
              c,
              parseTarget(request.body.column),
              enabled,
              request.body.source,
            ),
          ),
      }),
    ),
    route({
      method: 'POST',
      url: `${base}/add`,
      access: 'admin',
      audit: 'mapping.add',
      summary: "Map an extra source field to a new column of the app's tables",
      tags: ['mappings'],
      params: appParams,
      body: z.object({
        source: z.string().min(1).max(200),
        column,
        type: z.enum(COLUMN_TYPES),
        transform: z.enum(TRANSFORMS).optional(),
      }),
      response: editResult,
      handler: async (request) => {
        const b = request.body;
        return apply(request.params.workspace, request.params.app, false, (i, c) =>
          addMapping(i.mappings, i.dataModel, c, b.source, parseTarget(b.column), b.type, b.transform),
        );
      },
    }),
    route({
      method: 'POST',
      url: `${base}/reset`,
      access: 'admin',
      audit: 'mapping.reset',
      summary: 'Restore the default mappings',
      tags: ['mappings'],
      params: appParams,
      response: editResult,
      handler: async (request) =>
        apply(request.params.workspace, request.params.app, false, (i, c) => resetMappings(i.dataModel, c)),
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/apps/:app/remap',
      access: 'admin',
      audit: 'installation.remap',
      summary: 'Apply the current mappings to the stored responses, as a job with progress',
      tags: ['mappings'],
      params: appParams,
      status: 202,
      response: jobSchema,
      handler: async (request) =>
        jobJson(
          await ctx.jobs.enqueue(
            'remap',
            await activeInstallation(ctx, request.params.workspace, request.params.app),
          ),
        ),
    }),
  ];
}
