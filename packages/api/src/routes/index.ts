import type { ConnectorDefinition, DestinationDefinition, DestinationLimits, Logger, Store } from '@tributary/core';
import type { AuthService } from '../auth-service.js';
import type { JobQueue } from '../jobs.js';
import type { ApiMetrics } from '../metrics.js';
import type { ApiRoute } from '../route.js';
import { adminRoutes } from './admin.js';
import { catalogRoutes } from './catalog.js';
import { customerRoutes } from './customers.js';
import { destinationRoutes } from './destinations.js';
import { installationRoutes } from './installations.js';
import { mappingRoutes } from './mappings.js';
import { opsRoutes } from './ops.js';
import { profileRoutes } from './profiles.js';
import { runRoutes } from './runs.js';
import { sessionRoutes } from './session.js';

/** What route handlers work with. */
export interface ApiContext {
  store: Store & { pendingMigrations?(): Promise<string[]> };
  auth: AuthService;
  connectors: ReadonlyMap<string, ConnectorDefinition>;
  connectorFor(app: string): ConnectorDefinition | undefined;
  /** The destination type of an id, when this server has it loaded. */
  destinationFor(type: string): DestinationDefinition | undefined;
  destinationTypes(): string[];
  /** The operator's limits on where destinations reach; an administrator's request cannot change them. */
  destinationLimits: DestinationLimits;
  now: () => Date;
  jobs: JobQueue;
  metrics: ApiMetrics;
  logger: Logger;
  runner: { lastHeartbeat(): Date | undefined; maxSilenceMs?: number } | undefined;
  secureCookies: boolean;
}

/** Every route of the API, in the order the OpenAPI document lists them. */
export function apiRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    ...opsRoutes(ctx),
    ...sessionRoutes(ctx),
    ...catalogRoutes(ctx),
    ...installationRoutes(ctx),
    ...runRoutes(ctx),
    ...mappingRoutes(ctx),
    ...profileRoutes(ctx),
    ...destinationRoutes(ctx),
    ...adminRoutes(ctx),
    ...customerRoutes(ctx),
  ];
}
