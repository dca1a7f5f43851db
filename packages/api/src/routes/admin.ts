import { z } from 'zod';
import { ConfigError, workspaceRoleSchema } from '@tributary/core';
import { actorOf } from '../auth-service.js';
import { tokenHealth } from './installations.js';
import {
  apiKeyJson,
  apiKeySchema,
  auditJson,
  auditSchema,
  invoiceJson,
  invoiceSchema,
  userJson,
  userSchema,
} from '../json.js';
import { pageByKey } from '../pagination.js';
import { pageOf, pageQuery, route, workspaceParams, type ApiRoute } from '../route.js';
import type { ApiContext } from './index.js';

const DAY_MS = 86_400_000;

/** What administrators see and manage: invoices, health, audit log, users and API keys. */
export function adminRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    route({
      method: 'GET',
      url: '/workspaces/:workspace/invoices',
      access: 'admin',
      summary: 'Invoices of the workspace, oldest period first',
      tags: ['billing'],
      params: workspaceParams,
      querystring: pageQuery,
      response: pageOf(invoiceSchema),
      handler: async (request) => {
        const invoices = await ctx.store.listInvoices({ workspace: request.params.workspace });
        const key = (i: (typeof invoices)[number]) => `${i.periodStart.toISOString()}|${i.id}`;
        const page = pageByKey(invoices, key, request.query);
        return { items: page.items.map(invoiceJson), next: page.next };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/doctor',
      access: 'admin',
      summary: "The workspace's health: each app's token, last run and what needs attention",
      tags: ['operations'],
      params: workspaceParams,
      response: z.object({
        ok: z.boolean(),
        apps: z.array(
          z.object({
            app: z.string(),
            installationId: z.string(),
            token: z.object({
              expiresAt: z.string().nullable(),
              daysLeft: z.number().nullable(),
              problem: z.string().nullable(),
            }),
            lastRun: z
              .object({
                id: z.string(),
                status: z.string(),
                startedAt: z.string(),
                errorCode: z.string().nullable(),
              })
              .nullable(),
            attention: z.array(z.string()),
          }),
        ),
      }),
      handler: async (request) => {
        const now = ctx.now();
        const installations = (await ctx.store.listInstallations(request.params.workspace)).filter(
          (i) => i.status === 'active',
        );
        const latest = new Map(
          (await ctx.store.latestRuns(installations.map((i) => i.id))).map((r) => [r.installationId, r]),
        );
        const apps = installations.map((installation) => {
          const attention: string[] = [];
          const { expiresAt, daysLeft, problem } = tokenHealth(ctx, installation, now);
          if (problem) attention.push(problem);
          else if (daysLeft !== null && daysLeft <= 14)
            attention.push(
              `The token expires in ${daysLeft} day(s): replace it with PUT …/apps/${installation.app}/token.`,
            );
          const run = latest.get(installation.id);
          if (run?.status === 'failed')
            attention.push(
              `The last run failed${run.errorCode ? ` [${run.errorCode}]` : ''}: ${run.error ?? 'no reason recorded'}`,
            );
          if (run?.status === 'abandoned')
            attention.push(
              'The last run was abandoned: its process died; the next run resumes after its last committed page.',
            );
          return {
            app: installation.app,
            installationId: installation.id,
            token: { expiresAt, daysLeft, problem },
            lastRun: run
              ? {
                  id: run.id,
                  status: run.status,
                  startedAt: run.startedAt.toISOString(),
                  errorCode: run.errorCode ?? null,
                }
              : null,
            attention,
          };
        });
        return { ok: apps.every((a) => a.attention.length === 0), apps };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/audit',
      access: 'admin',
      summary: 'The audit log of the workspace, newest first',
      tags: ['administration'],
      params: workspaceParams,
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(500).default(50),
        cursor: z.string().max(200).optional(),
      }),
      response: pageOf(auditSchema),
      handler: async (request) => {
        const events = await ctx.auth.listAudit({
          workspace: request.params.workspace,
          limit: request.query.limit + 1,
          ...(request.query.cursor ? { before: request.query.cursor } : {}),
        });
        const page = events.slice(0, request.query.limit);
        return {
          items: page.map(auditJson),
          next: events.length > request.query.limit ? page[page.length - 1]!.id : null,
        };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/users',
      access: 'admin',
      summary: 'Users with a role in the workspace',
      tags: ['administration'],
      params: workspaceParams,
      querystring: pageQuery,
      response: pageOf(userSchema),
      handler: async (request) => {
        const page = pageByKey(
          await ctx.auth.listUsers(request.params.workspace),
          (u) => u.email,
          request.query,
        );
        return { items: page.items.map((u) => userJson(u, request.params.workspace)), next: page.next };
      },
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/users',
      access: 'admin',
      audit: 'user.create',
      auditedByService: true,
      summary: 'Create a user with a role; answers a one-time password once',
      tags: ['administration'],
      params: workspaceParams,
      body: z.object({ email: z.email().max(320), role: workspaceRoleSchema }),
      status: 201,
      response: z.object({ user: userSchema, oneTimePassword: z.string().nullable() }),
      handler: async (request) => {
        const { user, oneTimePassword } = await ctx.auth.createUser({
          email: request.body.email,
          workspace: request.params.workspace,
          role: request.body.role,
          actor: actorOf(request.principal),
        });
        request.raw.auditDetails = { email: user.email, role: request.body.role };
        return { user: userJson(user, request.params.workspace), oneTimePassword: oneTimePassword ?? null };
      },
    }),
    route({
      method: 'PUT',
      url: '/workspaces/:workspace/users/:userId/role',
      access: 'admin',
      audit: 'user.set-role',
      auditedByService: true,
      summary: "Change a user's role in the workspace, or remove it (role null)",
      tags: ['administration'],
      params: workspaceParams.extend({ userId: z.string().min(1).max(100) }),
      body: z.object({ role: workspaceRoleSchema.nullable() }),
      status: 204,
      response: z.null(),
      handler: async (request, reply) => {
        const members = await ctx.auth.listUsers(request.params.workspace);
        if (!members.some((u) => u.id === request.params.userId)) {
          throw new ConfigError(
            'API_ITEM_NOT_FOUND',
            `No user ${request.params.userId} in workspace "${request.params.workspace}".`,
            { hint: `GET /workspaces/${request.params.workspace}/users lists them.` },
          );
        }
        request.raw.auditDetails = { role: request.body.role };
        await ctx.auth.setRole({
          userId: request.params.userId,
          workspace: request.params.workspace,
          role: request.body.role ?? undefined,
          actor: actorOf(request.principal),
        });
        return reply.code(204).send();
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/api-keys',
      access: 'admin',
      summary: 'API keys of the workspace (never their secrets)',
      tags: ['administration'],
      params: workspaceParams,
      querystring: pageQuery,
      response: pageOf(apiKeySchema),
      handler: async (request) => {
        const page = pageByKey(
          await ctx.auth.listApiKeys(request.params.workspace),
          (k) => k.id,
          request.query,
        );
        return { items: page.items.map(apiKeyJson), next: page.next };
      },
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/api-keys',
      access: 'admin',
      audit: 'api-key.create',
      auditedByService: true,
      summary: 'Create an API key; its secret is in this answer only',
      tags: ['administration'],
      params: workspaceParams,
      body: z.object({
        name: z.string().trim().min(1).max(100),
        role: workspaceRoleSchema,
        expiresInDays: z.number().int().min(1).max(3650).optional(),
      }),
      status: 201,
      response: z.object({ key: apiKeySchema, secret: z.string().describe('Shown once: store it now') }),
      handler: async (request) => {
        const { key, secret } = await ctx.auth.createApiKey({
          workspace: request.params.workspace,
          role: request.body.role,
          name: request.body.name,
          ...(request.body.expiresInDays
            ? { expiresAt: new Date(ctx.now().getTime() + request.body.expiresInDays * DAY_MS) }
            : {}),
          actor: actorOf(request.principal),
        });
        request.raw.auditDetails = { prefix: key.prefix, role: key.role, name: key.name };
        return { key: apiKeyJson(key), secret };
      },
    }),
    route({
      method: 'DELETE',
      url: '/workspaces/:workspace/api-keys/:id',
      access: 'admin',
      audit: 'api-key.revoke',
      auditedByService: true,
      summary: 'Revoke an API key',
      tags: ['administration'],
      params: workspaceParams.extend({ id: z.string().min(1).max(100) }),
      status: 204,
      response: z.null(),
      handler: async (request, reply) => {
        const revoked = await ctx.auth.revokeApiKey({
          workspace: request.params.workspace,
          id: request.params.id,
          actor: actorOf(request.principal),
        });
        if (!revoked)
          throw new ConfigError(
            'API_ITEM_NOT_FOUND',
            `No API key ${request.params.id} in workspace "${request.params.workspace}".`,
            { hint: `GET /workspaces/${request.params.workspace}/api-keys lists them.` },
          );
        return reply.code(204).send();
      },
    }),
  ];
}
