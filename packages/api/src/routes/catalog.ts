import { z } from 'zod';
import { ConfigError, configFieldsOf, type ConnectorDefinition } from '@tributary/core';
import { pageByKey } from '../pagination.js';
import { pageOf, pageQuery, route, type ApiRoute } from '../route.js';
import type { ApiContext } from './index.js';

const connectorSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    version: z.string(),
    pricing: z.unknown().nullable(),
    secretFields: z.array(z.string()),
    config: z
      .record(z.string(), z.unknown())
      .describe('JSON Schema of the settings; secret fields carry writeOnly and x-secret'),
  })
  .meta({ id: 'Connector' });

/** The settings' JSON Schema, with the secrets marked so that a form masks them and never shows them back. */
export function configJsonSchema(connector: ConnectorDefinition): Record<string, unknown> {
  const schema = z.toJSONSchema(connector.configSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  > & { properties?: Record<string, Record<string, unknown>> };
  for (const field of connector.secrets) {
    const property = schema.properties?.[field];
    if (property) Object.assign(property, { writeOnly: true, 'x-secret': true });
  }
  delete schema.$schema;
  return schema;
}

function connectorJson(connector: ConnectorDefinition): z.infer<typeof connectorSchema> {
  const fields = configFieldsOf(connector);
  return {
    id: connector.id,
    name: connector.displayName,
    description: connector.description ?? null,
    version: connector.version,
    pricing: connector.pricing ?? null,
    secretFields: fields.filter((f) => f.secret).map((f) => f.name),
    config: configJsonSchema(connector),
  };
}

export function connectorOrThrow(ctx: ApiContext, app: string): ConnectorDefinition {
  const connector = ctx.connectorFor(app);
  if (!connector)
    throw new ConfigError('APP_UNKNOWN', `There is no app "${app}".`, {
      hint: `Known apps: ${[...ctx.connectors.keys()].join(', ')}.`,
    });
  return connector;
}

/** The connectors this server knows: what can be installed. */
export function catalogRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    route({
      method: 'GET',
      url: '/connectors',
      access: 'signed-in',
      summary: 'The apps that can be installed',
      tags: ['catalog'],
      querystring: pageQuery,
      response: pageOf(connectorSchema),
      handler: async (request) => {
        const page = pageByKey([...ctx.connectors.values()], (c) => c.id, request.query);
        return { items: page.items.map(connectorJson), next: page.next };
      },
    }),
    route({
      method: 'GET',
      url: '/connectors/:app',
      access: 'signed-in',
      summary: 'One app: settings as JSON Schema, secrets marked',
      tags: ['catalog'],
      params: z.object({ app: z.string().min(1).max(100) }),
      response: connectorSchema,
      handler: async (request) => connectorJson(connectorOrThrow(ctx, request.params.app)),
    }),
  ];
}
