import { z } from 'zod';
import {
  ConfigError,
  billingSettingsSchema,
  isTributaryError,
  parseUserInput,
  type Installation,
  type InstallationSummary,
} from '@tributary/core';
import { installConnector } from '@tributary/runner';
import { installationJson, installationSchema, iso } from '../json.js';
import { pageByKey } from '../pagination.js';
import { appParams, pageOf, pageQuery, route, workspaceParams, type ApiRoute } from '../route.js';
import { connectorOrThrow } from './catalog.js';
import type { ApiContext } from './index.js';
import type { Job } from '../jobs.js';

// Installing, changing and removing apps. The API checks the caller's role itself, so the store is
// called without an `actor`: its own administrator list belongs to the CLI's operators.

export const jobSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['sync', 'remap']),
    workspace: z.string(),
    app: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'interrupted']),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    progress: z.object({ done: z.number(), total: z.number().optional() }),
    runId: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    note: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'Job' });

export function jobJson(job: Job): z.infer<typeof jobSchema> {
  return {
    id: job.id,
    kind: job.kind,
    workspace: job.workspace,
    app: job.app,
    status: job.status,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    progress: job.progress,
    runId: job.runId ?? null,
    error: job.error ?? null,
    note: job.note ?? null,
    result: job.result ?? null,
  };
}

/** The active installation of an app in a workspace, or a 404. */
export async function activeInstallation(
  ctx: ApiContext,
  workspace: string,
  app: string,
): Promise<Installation> {
  const installation = await ctx.store.findInstallation(workspace, app);
  if (!installation) {
    throw new ConfigError('APP_NOT_INSTALLED', `${app} is not installed in workspace "${workspace}".`, {
      hint: `GET /workspaces/${workspace}/apps lists what is.`,
    });
  }
  return installation;
}

const DAY_MS = 86_400_000;

/**
 * When the installation's token stops working, read locally (no call to the source), with days
 * left, or the reason it cannot be used: for the doctor and the console's app page.
 */
export function tokenHealth(
  ctx: ApiContext,
  installation: Installation,
  now: Date,
): { expiresAt: string | null; daysLeft: number | null; problem: string | null } {
  const connector = ctx.connectorFor(installation.app);
  let expiresAt: Date | null = null;
  let problem: string | null = null;
  if (!connector) problem = `No connector "${installation.app}" is loaded in this server: it cannot sync.`;
  else if (installation.secretError) problem = `The token cannot be opened: ${installation.secretError}`;
  else {
    const parsed = connector.configSchema.safeParse(installation.config);
    try {
      expiresAt = parsed.success ? (connector.credentialsExpireAt?.(parsed.data) ?? null) : null;
      if (parsed.success) connector.preflight?.(parsed.data, now);
    } catch (error) {
      problem = isTributaryError(error) ? error.message : 'The stored token cannot be read.';
    }
  }
  const daysLeft = expiresAt ? Math.max(0, Math.ceil((expiresAt.getTime() - now.getTime()) / DAY_MS)) : null;
  return { expiresAt: iso(expiresAt), daysLeft, problem };
}

const customerTableSchema = z.object({
  table: z.string().min(1).max(200),
  emailColumn: z.string().min(1).max(100),
  idColumn: z.string().min(1).max(100),
});

export function installationRoutes(ctx: ApiContext): ApiRoute[] {
  const json = (i: Installation | InstallationSummary) => installationJson(i, ctx.connectorFor(i.app));
  return [
    route({
      method: 'GET',
      url: '/workspaces',
      access: 'signed-in',
      summary: 'The workspaces the caller has a role in',
      tags: ['workspaces'],
      querystring: pageQuery,
      response: pageOf(z.object({ name: z.string(), role: z.string() })),
      handler: async (request) => {
        const p = request.principal!;
        const memberships = p.kind === 'api-key' ? [{ workspace: p.workspace, role: p.role }] : p.memberships;
        const page = pageByKey(memberships, (m) => m.workspace, request.query);
        return { items: page.items.map((m) => ({ name: m.workspace, role: m.role })), next: page.next };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/apps',
      access: 'viewer',
      summary: 'Installed apps (active and uninstalled) of a workspace',
      tags: ['apps'],
      params: workspaceParams,
      querystring: pageQuery,
      response: pageOf(installationSchema),
      handler: async (request) => {
        const page = pageByKey(
          await ctx.store.listInstallationSummaries(request.params.workspace),
          (i) => i.id,
          request.query,
        );
        return { items: page.items.map(json), next: page.next };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/apps/:app',
      access: 'viewer',
      summary: 'The active installation of an app',
      tags: ['apps'],
      params: appParams,
      response: installationSchema,
      handler: async (request) =>
        json(await activeInstallation(ctx, request.params.workspace, request.params.app)),
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/apps/:app/status',
      access: 'viewer',
      summary: "An active app's last run, next scheduled run and token expiry",
      tags: ['apps'],
      params: appParams,
      response: z.object({
        lastRun: z
          .object({
            id: z.string(),
            status: z.string(),
            startedAt: z.string(),
            finishedAt: z.string().nullable(),
            errorCode: z.string().nullable(),
          })
          .nullable(),
        nextRunAt: z
          .string()
          .nullable()
          .describe("Null before the runner's first scheduled run: it syncs at the runner's next tick"),
        token: z.object({
          expiresAt: z.string().nullable(),
          daysLeft: z.number().nullable(),
          problem: z.string().nullable(),
        }),
      }),
      handler: async (request) => {
        const installation = await activeInstallation(ctx, request.params.workspace, request.params.app);
        const [run] = await ctx.store.latestRuns([installation.id]);
        const schedule = await ctx.store.readSchedule(installation.id);
        return {
          lastRun: run
            ? {
                id: run.id,
                status: run.status,
                startedAt: run.startedAt.toISOString(),
                finishedAt: iso(run.finishedAt),
                errorCode: run.errorCode ?? null,
              }
            : null,
          nextRunAt: iso(schedule?.nextRunAt),
          token: tokenHealth(ctx, installation, ctx.now()),
        };
      },
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/apps/:app',
      access: 'admin',
      audit: 'installation.install',
      summary: 'Install an app: checks the settings against the source first, then provisions its tables',
      tags: ['apps'],
      params: appParams,
      body: z.object({
        config: z
          .record(z.string(), z.unknown())
          .describe("The app's settings (GET /connectors/{app} gives their JSON Schema), secrets included"),
        billing: billingSettingsSchema.optional(),
        customerTable: customerTableSchema.optional(),
      }),
      status: 201,
      response: z.object({
        installation: installationSchema,
        notes: z.array(z.string()),
        reattachedRows: z.number().nullable(),
      }),
      handler: async (request) => {
        const connector = connectorOrThrow(ctx, request.params.app);
        const config = parseUserInput(
          connector.configSchema,
          request.body.config,
          `${connector.displayName} settings`,
        ) as Record<string, unknown>;
        request.raw.auditDetails = {
          settings: Object.keys(config).filter((k) => !connector.secrets.includes(k)),
        };
        const result = await installConnector({
          store: ctx.store,
          connector,
          workspace: request.params.workspace,
          config,
          customerTable: request.body.customerTable,
          billing: request.body.billing ?? { plan: 'monthly' },
          now: ctx.now,
          logger: ctx.logger,
        });
        return {
          installation: json(result.installation),
          notes: result.notes.map((note) => note.replaceAll('<ws>', request.params.workspace)),
          reattachedRows: result.reattachedRows ?? null,
        };
      },
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/apps/:app/check',
      access: 'admin',
      audit: 'installation.check',
      summary: 'Check settings against the source without saving anything (what an install checks first)',
      tags: ['apps'],
      params: appParams,
      body: z.object({
        config: z.record(z.string(), z.unknown()).describe('The settings an install would take, secrets included'),
      }),
      response: z.object({ notes: z.array(z.string()) }),
      handler: async (request) => {
        const connector = connectorOrThrow(ctx, request.params.app);
        const config = parseUserInput(
          connector.configSchema,
          request.body.config,
          `${connector.displayName} settings`,
        ) as Record<string, unknown>;
        request.raw.auditDetails = {
          settings: Object.keys(config).filter((k) => !connector.secrets.includes(k)),
        };
        const check = await connector.check({ config, now: ctx.now(), logger: ctx.logger });
        return { notes: check.notes.map((note) => note.replaceAll('<ws>', request.params.workspace)) };
      },
    }),
    route({
      method: 'PUT',
      url: '/workspaces/:workspace/apps/:app/token',
      access: 'admin',
      audit: 'installation.token',
      summary: "Replace the app's API token (checked against the source before it is saved)",
      tags: ['apps'],
      params: appParams,
      body: z.object({ token: z.string().trim().min(1).max(10_000) }),
      response: z.object({ installation: installationSchema, notes: z.array(z.string()) }),
      handler: async (request) => {
        const connector = connectorOrThrow(ctx, request.params.app);
        const [secretField, ...others] = connector.secrets;
        if (secretField === undefined || others.length > 0) {
          throw new ConfigError(
            'TOKEN_NOT_APPLICABLE',
            `${connector.displayName} does not have exactly one secret token to replace.`,
          );
        }
        // The listing opens no token it cannot, so that a token whose key was lost can still be replaced.
        const listed = (await ctx.store.listInstallations(request.params.workspace)).find(
          (i) => i.app === request.params.app && i.status === 'active',
        );
        const installation =
          listed ?? (await activeInstallation(ctx, request.params.workspace, request.params.app));
        const config = parseUserInput(
          connector.configSchema,
          { ...installation.config, [secretField]: request.body.token },
          `${connector.displayName} settings`,
          { [secretField]: 'token' },
        ) as Record<string, unknown>;
        const check = await connector.check({ config, now: ctx.now(), logger: ctx.logger });
        const updated = await ctx.store.updateInstallation(installation.id, {
          config,
          secretFields: connector.secrets,
        });
        return { installation: json(updated), notes: check.notes };
      },
    }),
    route({
      method: 'PUT',
      url: '/workspaces/:workspace/apps/:app/billing',
      access: 'admin',
      audit: 'installation.billing',
      summary: 'Change the billing plan or PO number (from the next period on)',
      tags: ['apps'],
      params: appParams,
      body: billingSettingsSchema,
      response: installationSchema,
      handler: async (request) => {
        const installation = await activeInstallation(ctx, request.params.workspace, request.params.app);
        request.raw.auditDetails = { plan: request.body.plan, poNumber: request.body.poNumber ?? null };
        return json(await ctx.store.updateInstallation(installation.id, { billing: request.body }));
      },
    }),
    route({
      method: 'DELETE',
      url: '/workspaces/:workspace/apps/:app',
      access: 'admin',
      audit: 'installation.uninstall',
      summary: 'Uninstall: stops syncs and invoices; purge=true also deletes its data',
      tags: ['apps'],
      params: appParams,
      querystring: z.object({ purge: z.enum(['true', 'false']).default('false') }),
      response: z.object({ id: z.string(), purged: z.boolean() }),
      handler: async (request) => {
        const installation = await activeInstallation(ctx, request.params.workspace, request.params.app);
        const purge = request.query.purge === 'true';
        request.raw.auditDetails = { purge };
        await ctx.store.uninstall(installation.id, { purge, at: ctx.now() });
        return { id: installation.id, purged: purge };
      },
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/apps/:app/sync',
      access: 'admin',
      audit: 'installation.sync',
      summary: 'Queue a sync now; answers at once with a job to poll',
      tags: ['apps'],
      params: appParams,
      status: 202,
      response: jobSchema,
      handler: async (request) =>
        jobJson(
          await ctx.jobs.enqueue(
            'sync',
            await activeInstallation(ctx, request.params.workspace, request.params.app),
          ),
        ),
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/jobs/:id',
      access: 'viewer',
      summary: 'A sync or remap job: status and progress',
      tags: ['apps'],
      params: workspaceParams.extend({ id: z.uuid() }),
      response: jobSchema,
      handler: async (request) => {
        const job = await ctx.jobs.get(request.params.id);
        if (!job || job.workspace !== request.params.workspace) {
          throw new ConfigError(
            'API_JOB_NOT_FOUND',
            `No job ${request.params.id} in workspace "${request.params.workspace}".`,
            { hint: 'Use the id that POST …/sync or …/remap answered, with the same workspace.' },
          );
        }
        return jobJson(job);
      },
    }),
  ];
}
