import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import {
  ConfigError,
  DEFAULT_DESTINATION_LIMITS,
  roleAllows,
  roleIn,
  silentLogger,
  type ConnectorDefinition,
  type DestinationDefinition,
  type DestinationLimits,
  type Logger,
  type Principal,
  type Session,
  type Store,
} from '@tributary/core';
import { fileDestination, viewDestination, webhookDestination } from '@tributary/runner';
import { actorOf, type AuthService } from './auth-service.js';
import { asTributaryError, errorBodyOf, statusOf } from './http-errors.js';
import { createJobQueue, type JobQueue, type JobQueueOptions } from './jobs.js';
import { createMetrics, type ApiMetrics } from './metrics.js';
import { errorResponses, type ApiRoute } from './route.js';
import { apiRoutes, type ApiContext } from './routes/index.js';
import { CSRF_HEADER, SESSION_COOKIE } from './constants.js';

export { CSRF_HEADER, SESSION_COOKIE };

/** What `createApiServer` needs. */
export interface ApiServerOptions {
  /** The store; `pendingMigrations` (the TypeORM store has it) lets /readyz check the schema. */
  store: Store & { pendingMigrations?(): Promise<string[]> };
  connectors: ReadonlyMap<string, ConnectorDefinition> | readonly ConnectorDefinition[];
  /** Destination types profiles can be sent to; default the built-in webhook, file and view. */
  destinations?: readonly DestinationDefinition[];
  /**
   * Where the operator lets destinations added over the API reach; default none: no file destination,
   * webhooks only to public https receivers.
   */
  destinationLimits?: DestinationLimits;
  auth: AuthService;
  logger?: Logger;
  now?: () => Date;
  /** When a runner runs in this process: /readyz then wants its heartbeat to be recent. */
  runner?: { lastHeartbeat(): Date | undefined; maxSilenceMs?: number };
  /** Largest request body, in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Mark the session cookie `Secure` (behind HTTPS); default false, since the default bind is 127.0.0.1. */
  secureCookies?: boolean;
  /** Shared metrics (the CLI's runner feeds the same ones); made here when left out. */
  metrics?: ApiMetrics;
  /** Collect process metrics (default true). */
  processMetrics?: boolean;
  /**
   * The web console's built assets (a directory with index.html), served at `/`. The console reaches
   * the API through the same public routes as any client; it has no endpoint of its own.
   */
  consoleDir?: string;
  /** How this server runs the syncs and remaps queued over HTTP (see {@link JobQueueOptions}). */
  jobs?: Pick<JobQueueOptions, 'pollMs' | 'progressEveryMs' | 'concurrency'>;
}

/** A server ready to `listen`, with its routes for tests and the OpenAPI walk. */
export interface ApiServer {
  readonly app: FastifyInstance;
  readonly routes: readonly ApiRoute[];
  readonly metrics: ApiMetrics;
  readonly jobs: JobQueue;
  /** Listens and returns the base URL. */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /** Stops taking requests, lets in-flight ones finish, stops running jobs between pages. */
  close(): Promise<void>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const BUILT_IN_DESTINATIONS = [
  webhookDestination,
  fileDestination,
  viewDestination,
] as unknown as readonly DestinationDefinition[];

/** Paths pino must blank in access logs: credentials travel in these headers. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  `req.headers["${CSRF_HEADER}"]`,
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    session?: Session;
    /** Who a change is audited as when there is no principal yet (the e-mail of a sign-in). */
    auditActor?: string;
    /** Extra audit facts a handler adds (never a secret). */
    auditDetails?: Record<string, unknown>;
    /** Set once the route's handler runs (past authentication, CSRF, role and validation). */
    handlerReached?: boolean;
  }
  interface FastifyContextConfig {
    apiRoute?: ApiRoute;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Reads the caller's credentials: an API key in `Authorization`, else the session cookie. */
async function authenticate(request: FastifyRequest, auth: AuthService): Promise<void> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await auth.authenticateApiKey(match[1]!) : undefined;
    if (!principal) {
      throw new ConfigError('API_AUTH_REQUIRED', 'The API key is unknown, revoked or expired.', {
        hint: 'Send `Authorization: Bearer trb_…` with a valid key; an administrator creates one with `tributary api-keys create`.',
      });
    }
    request.principal = principal;
    return;
  }
  const token = request.cookies[SESSION_COOKIE];
  if (token) {
    const found = await auth.authenticateSession(token);
    if (found) {
      request.principal = found.principal;
      request.session = found.session;
    }
  }
}

/** Checks a route's access for the caller: 401 without credentials, 404 outside its workspaces, 403 below the role. */
function authorize(request: FastifyRequest, route: ApiRoute): void {
  if (route.access === 'public') return;
  const principal = request.principal;
  if (!principal) {
    throw new ConfigError('API_AUTH_REQUIRED', 'Sign in or send an API key to use this route.', {
      hint: 'POST /auth/login with your e-mail and password, or send `Authorization: Bearer trb_…`.',
    });
  }
  if (request.session && !SAFE_METHODS.has(request.method)) {
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameText(sent, request.session.csrfToken)) {
      throw new ConfigError(
        'API_CSRF_INVALID',
        `A change made with a session cookie must carry the session's CSRF token in the ${CSRF_HEADER} header.`,
        { hint: 'GET /auth/me returns it as csrfToken.' },
      );
    }
  }
  if (route.access === 'signed-in') return;
  const workspace = (request.params as { workspace?: string }).workspace;
  const held = workspace === undefined ? undefined : roleIn(principal, workspace);
  // Outside the caller's workspaces the workspace does not exist for them: 404, never its data.
  if (held === undefined)
    throw new ConfigError(
      'WORKSPACE_NOT_FOUND',
      `There is no workspace "${workspace ?? ''}" you have access to.`,
      { hint: 'Ask an administrator of the workspace for a role in it.' },
    );
  if (!roleAllows(held, route.access)) {
    throw new ConfigError(
      'API_ROLE_REQUIRED',
      `This needs the ${route.access} role in workspace "${workspace}"; you are ${held === 'admin' ? 'an' : 'a'} ${held} there.`,
      {
        hint: 'Ask an administrator of the workspace for that role.',
      },
    );
  }
}

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const failure = asTributaryError(error);
  const status = statusOf(failure);
  if (status >= 500) reply.log.error({ err: error }, 'request failed');
  return reply.code(status).type('application/json').send(errorBodyOf(failure));
}

/** Builds the HTTP API. Nothing listens until `listen`. */
export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const logger = (options.logger ?? silentLogger()).child(
    { component: 'api' },
    { redact: { paths: REDACT, censor: '[redacted]' } },
  );
  const now = options.now ?? (() => new Date());
  const connectors = new Map<string, ConnectorDefinition>(
    options.connectors instanceof Map
      ? [...options.connectors]
      : (options.connectors as readonly ConnectorDefinition[]).map((c) => [c.id, c]),
  );
  const connectorFor = (app: string) => connectors.get(app);
  const destinations = new Map<string, DestinationDefinition>(
    (options.destinations ?? BUILT_IN_DESTINATIONS).map((d) => [d.id, d]),
  );
  const { store, auth } = options;
  const metrics =
    options.metrics ??
    createMetrics({
      store,
      connectorFor,
      now,
      logger,
      ...(options.processMetrics === false ? { defaultMetrics: false } : {}),
    });
  const jobs = createJobQueue({ store, connectorFor, logger, metrics, now, ...options.jobs });

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    // The reference page is served by this process; its assets are local, so 'self' is enough.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
      },
    },
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tributary API',
        version: '0.1.0',
        description:
          'Install apps, read runs, edit mappings, build profiles. Every route names the workspace role it needs.',
      },
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key: `Authorization: Bearer trb_…`',
          },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description: `The session cookie of POST /auth/login; changes also need the ${CSRF_HEADER} header`,
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  if (options.consoleDir !== undefined) {
    // One route per built file, found at start: nothing outside the directory can be asked for, and
    // an unknown path still gets the API's JSON 404. The console routes by the URL's #fragment, so a
    // reload never lands on an API path.
    await app.register(fastifyStatic, {
      root: options.consoleDir,
      prefix: '/',
      wildcard: false,
      decorateReply: false,
      index: ['index.html'],
      schemaHide: true,
    });
  }

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new ConfigError('API_ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`, {
        hint: 'GET /openapi.json lists every route.',
      }),
    ),
  );
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.config.apiRoute;
    metrics.httpRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    if (!route?.audit || (route.auditedByService && request.handlerReached)) return;
    const params = request.params as Record<string, string | undefined>;
    const status = reply.statusCode;
    try {
      await auth.audit({
        actor: request.principal ? actorOf(request.principal) : (request.auditActor ?? 'anonymous'),
        action: route.audit,
        ...(params.workspace ? { workspace: params.workspace } : {}),
        ...(targetOf(params) ? { target: targetOf(params)! } : {}),
        address: request.ip,
        outcome:
          status < 400 ? 'ok' : status === 401 || status === 403 || status === 404 ? 'denied' : 'failed',
        details: { status, requestId: request.id, ...request.auditDetails },
      });
    } catch (error) {
      request.log.error({ err: error }, 'the audit event could not be written');
    }
  });

  const ctx: ApiContext = {
    store,
    auth,
    connectors,
    connectorFor,
    destinationFor: (type) => destinations.get(type),
    destinationTypes: () => [...destinations.keys()],
    destinationLimits: options.destinationLimits ?? DEFAULT_DESTINATION_LIMITS,
    now,
    jobs,
    metrics,
    logger,
    runner: options.runner,
    secureCookies: options.secureCookies ?? false,
  };
  const routes = apiRoutes(ctx);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.url,
      config: { apiRoute: r },
      schema: {
        summary: r.summary,
        tags: r.tags,
        description: `Access: ${r.access === 'public' ? 'anyone' : r.access === 'signed-in' ? 'any signed-in caller' : `the ${r.access} role (or higher) in the workspace`}.`,
        ...(r.access === 'public' ? {} : { security: [{ apiKey: [] }, { session: [] }] }),
        ...(r.params ? { params: r.params } : {}),
        ...(r.querystring ? { querystring: r.querystring } : {}),
        ...(r.body ? { body: r.body } : {}),
        ...(r.produces ? {} : { response: { [r.status ?? 200]: r.response!, ...errorResponses } }),
      },
      preValidation: async (request) => {
        await authenticate(request, auth);
        authorize(request, r);
      },
      handler: async (request, reply) => {
        request.handlerReached = true;
        const result = await r.handler(
          {
            params: request.params,
            query: request.query,
            body: request.body,
            principal: request.principal,
            address: request.ip,
            raw: request,
          },
          reply,
        );
        if (reply.sent) return reply;
        if (r.status && !reply.statusCode.toString().startsWith('4')) reply.code(r.status);
        return result;
      },
    });
  }
  app.addHook('onClose', async () => {
    await jobs.close();
  });

  return {
    app,
    routes,
    metrics,
    jobs,
    async listen(listenOptions = {}) {
      return app.listen({ host: listenOptions.host ?? '127.0.0.1', port: listenOptions.port ?? 0 });
    },
    async close() {
      await app.close();
    },
  };
}

function targetOf(params: Record<string, string | undefined>): string | undefined {
  const parts = [params.app, params.name, params.destination, params.runId, params.id, params.userId].filter(
    (p): p is string => p !== undefined,
  );
  return parts.length > 0 ? parts.join('/') : undefined;
}
