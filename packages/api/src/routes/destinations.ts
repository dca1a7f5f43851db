import { z } from 'zod';
import {
  ConfigError,
  describeIssues,
  InternalError,
  type Activation,
  type DeliveryRecord,
  type DestinationStore,
  type StoredDestination,
} from '@tributary/core';
import { iso } from '../json.js';
import { decodeCursor, encodeCursor, pageByKey } from '../pagination.js';
import { pageOf, pageQuery, route, workspaceParams, type ApiRoute } from '../route.js';
import type { ApiContext } from './index.js';

// Destinations, the profiles activated to them and the outbox of deliveries, for administrators:
// they decide what leaves Tributary and where to. The store does the work, as for the CLI.

const destinationName = z.string().trim().min(1).max(100);
const destinationParams = workspaceParams.extend({ name: destinationName });
const profileParams = workspaceParams.extend({ name: z.string().min(1).max(100).describe('The profile') });
const activationParams = profileParams.extend({ destination: destinationName });

const activationSchema = z
  .object({
    profile: z.string(),
    destination: z.string(),
    since: z.string(),
    view: z.string().nullable().describe('For a view destination: the view its members are in'),
  })
  .meta({ id: 'Activation' });

const destinationSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    kind: z.enum(['push', 'view']),
    settings: z.record(z.string(), z.unknown()).describe('The settings without their secret fields'),
    secrets: z.array(z.string()).describe('Names of the secret settings: set when added, never answered'),
    createdAt: z.string(),
    profiles: z.array(activationSchema),
  })
  .meta({ id: 'Destination' });

const deliverySchema = z
  .object({
    batch: z.string().describe('The batch id, also the idempotency key the receiver gets'),
    profile: z.string(),
    destination: z.string(),
    reason: z.enum(['evaluation', 'activation', 'forget']),
    count: z.number().describe('Changes in the batch'),
    status: z.enum(['pending', 'delivered', 'dead']),
    deadLetter: z.boolean().describe('The runner gave up on it'),
    attempts: z.number(),
    createdAt: z.string(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'Delivery' });

function activationJson(a: Activation): z.infer<typeof activationSchema> {
  return {
    profile: a.profile,
    destination: a.destination,
    since: a.createdAt.toISOString(),
    view: a.view ?? null,
  };
}

function deliveryJson(d: DeliveryRecord): z.infer<typeof deliverySchema> {
  return {
    batch: d.id,
    profile: d.profile,
    destination: d.destination,
    reason: d.reason,
    count: d.count,
    status: d.status,
    deadLetter: d.status === 'dead',
    attempts: d.attempts,
    createdAt: d.createdAt.toISOString(),
    nextAttemptAt: iso(d.nextAttemptAt),
    deliveredAt: iso(d.deliveredAt),
    lastError: d.lastError,
  };
}

/** The store's destinations role; every store Tributary opens has it. */
export function destinationStoreOf(ctx: ApiContext): DestinationStore {
  const store = ctx.store as Partial<DestinationStore>;
  if (typeof store.listDestinations !== 'function' || typeof store.listDeliveries !== 'function')
    throw new InternalError('INTERNAL', 'This store keeps no destinations.');
  return store as DestinationStore;
}

const notFound = (workspace: string, name: string) =>
  new ConfigError('DESTINATION_NOT_FOUND', `Workspace "${workspace}" has no destination named "${name}".`, {
    hint: `GET /workspaces/${workspace}/destinations lists them.`,
  });

const isBatchId = (v: unknown): v is string => typeof v === 'string' && z.uuid().safeParse(v).success;

export function destinationRoutes(ctx: ApiContext): ApiRoute[] {
  const base = '/workspaces/:workspace/destinations';
  const json = (
    d: StoredDestination,
    activations: readonly Activation[],
  ): z.infer<typeof destinationSchema> => {
    // A secret field of the type as loaded here stays out even if it was stored unsealed by an older version.
    const secret = new Set([
      ...d.secretFields,
      ...((ctx.destinationFor(d.type)?.secrets ?? []) as readonly string[]),
    ]);
    return {
      name: d.name,
      type: d.type,
      kind: d.kind,
      settings: Object.fromEntries(Object.entries(d.config).filter(([key]) => !secret.has(key))),
      secrets: d.secretFields,
      createdAt: d.createdAt.toISOString(),
      profiles: activations.filter((a) => a.destination === d.name).map(activationJson),
    };
  };
  return [
    route({
      method: 'GET',
      url: base,
      access: 'admin',
      summary: 'Destinations of the workspace with the profiles activated to them (never their secrets)',
      tags: ['destinations'],
      params: workspaceParams,
      querystring: pageQuery,
      response: pageOf(destinationSchema),
      handler: async (request) => {
        const store = destinationStoreOf(ctx);
        const { workspace } = request.params;
        const [all, activations] = await Promise.all([
          store.listDestinations(workspace),
          store.listActivations(workspace),
        ]);
        const page = pageByKey(all, (d) => d.name, request.query);
        return { items: page.items.map((d) => json(d, activations)), next: page.next };
      },
    }),
    route({
      method: 'POST',
      url: base,
      access: 'admin',
      audit: 'destination.add',
      summary:
        "Add a destination; its settings are checked by its type's schema, its secrets sealed and never answered",
      tags: ['destinations'],
      params: workspaceParams,
      body: z.object({
        name: destinationName,
        type: z.string().min(1).max(100).describe('webhook, file, view, or a type a plugin adds'),
        settings: z.record(z.string(), z.unknown()).default({}),
      }),
      status: 201,
      response: destinationSchema,
      handler: async (request) => {
        const { workspace } = request.params;
        const { name, type, settings } = request.body;
        // Never the settings: a secret may be among them.
        request.raw.auditDetails = { name, type };
        const definition = ctx.destinationFor(type);
        if (!definition)
          throw new ConfigError('DESTINATION_UNKNOWN', `There is no destination type "${type}".`, {
            hint: `Types this server knows: ${ctx.destinationTypes().join(', ')}.`,
          });
        const parsed = definition.configSchema.safeParse(settings);
        if (!parsed.success)
          // The issues name fields and rules, never the values given.
          throw new ConfigError(
            'DESTINATION_INVALID',
            `Invalid settings for a ${definition.id} destination: ${describeIssues(parsed.error)}`,
            { hint: 'Fix the settings named and send them again.' },
          );
        // An administrator is not the server's operator: the operator's limits decide where it may point.
        await definition.admit?.(parsed.data, { limits: ctx.destinationLimits, addedBy: 'workspace-admin' });
        const added = await destinationStoreOf(ctx).addDestination(
          {
            workspace,
            name,
            type: definition.id,
            kind: definition.kind,
            snapshot: Boolean(definition.snapshot),
            config: parsed.data as Record<string, unknown>,
            secretFields: [...(definition.secrets as readonly string[])],
          },
          ctx.now(),
        );
        return json(added, []);
      },
    }),
    route({
      method: 'POST',
      url: `${base}/:name/test`,
      access: 'admin',
      audit: 'destination.test',
      summary:
        'Check a destination against its receiver (a webhook gets a signed test batch with no changes)',
      tags: ['destinations'],
      params: destinationParams,
      response: z.object({ notes: z.array(z.string()) }),
      handler: async (request) => {
        const { workspace, name } = request.params;
        const destination = await destinationStoreOf(ctx).getDestination(workspace, name);
        if (!destination) throw notFound(workspace, name);
        const definition = ctx.destinationFor(destination.type);
        if (!definition)
          throw new ConfigError(
            'DESTINATION_UNKNOWN',
            `This server has no "${destination.type}" destination type loaded, so it cannot test "${name}".`,
            { hint: 'Name its package in TRIBUTARY_CONNECTORS or the config file and restart the server.' },
          );
        const config = definition.configSchema.parse(destination.config);
        // A test writes or sends for real, so one the operator added outside the limits is not tested from here either.
        await definition.admit?.(config, { limits: ctx.destinationLimits, addedBy: 'workspace-admin' });
        if (!definition.test) return { notes: [`A ${definition.id} destination has nothing to test.`] };
        return definition.test({ config, name, logger: ctx.logger, limits: ctx.destinationLimits });
      },
    }),
    route({
      method: 'DELETE',
      url: `${base}/:name`,
      access: 'admin',
      audit: 'destination.remove',
      summary:
        'Remove a destination with its activations (a view destination drops its views) and its queued batches',
      tags: ['destinations'],
      params: destinationParams,
      status: 204,
      response: z.null(),
      handler: async (request, reply) => {
        const { workspace, name } = request.params;
        if (!(await destinationStoreOf(ctx).removeDestination(workspace, name)))
          throw notFound(workspace, name);
        return reply.code(204).send();
      },
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/profiles/:name/destinations',
      access: 'admin',
      audit: 'profile.activate',
      summary:
        'Activate a profile to a destination: its current members are announced as entered, then every recorded change follows',
      tags: ['destinations'],
      params: profileParams,
      body: z.object({ destination: destinationName }),
      status: 201,
      response: activationSchema,
      handler: async (request) => {
        const { workspace, name } = request.params;
        const { destination } = request.body;
        request.raw.auditDetails = { destination };
        const activation = await destinationStoreOf(ctx).activateProfile(
          workspace,
          name,
          destination,
          ctx.now(),
        );
        return activationJson(activation);
      },
    }),
    route({
      method: 'DELETE',
      url: '/workspaces/:workspace/profiles/:name/destinations/:destination',
      access: 'admin',
      audit: 'profile.deactivate',
      summary:
        "Stop sending a profile's changes to a destination (batches already queued are still delivered)",
      tags: ['destinations'],
      params: activationParams,
      status: 204,
      response: z.null(),
      handler: async (request, reply) => {
        const { workspace, name, destination } = request.params;
        request.raw.auditDetails = { destination };
        if (!(await destinationStoreOf(ctx).deactivateProfile(workspace, name, destination)))
          throw new ConfigError(
            'DESTINATION_NOT_FOUND',
            `The profile "${name}" is not activated to "${destination}".`,
            {
              hint: `GET /workspaces/${workspace}/destinations lists each destination's profiles.`,
            },
          );
        return reply.code(204).send();
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/deliveries',
      access: 'admin',
      summary:
        'Batches sent or to send to destinations, newest first: changes, status, attempts, dead letters',
      tags: ['destinations'],
      params: workspaceParams,
      querystring: pageQuery.extend({
        status: z.enum(['pending', 'delivered', 'dead']).optional().describe('Only batches in this state'),
      }),
      response: pageOf(deliverySchema),
      handler: async (request) => {
        const { limit, status, cursor } = request.query;
        const before = decodeCursor(cursor, isBatchId);
        const list = await destinationStoreOf(ctx).listDeliveries({
          workspace: request.params.workspace,
          limit: limit + 1,
          ...(status ? { status } : {}),
          ...(before ? { before } : {}),
        });
        const page = list.slice(0, limit);
        return {
          items: page.map(deliveryJson),
          next: list.length > limit ? encodeCursor(page[page.length - 1]!.id) : null,
        };
      },
    }),
  ];
}
