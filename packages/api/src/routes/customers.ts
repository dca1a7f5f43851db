import { z } from 'zod';
import {
  ConfigError,
  InternalError,
  type CustomerDataReport,
  type ErasureReceipt,
  type PersonalDataStore,
} from '@tributary/core';
import { actorOf } from '../auth-service.js';
import { iso } from '../json.js';
import { pageByKey } from '../pagination.js';
import { pageOf, pageQuery, route, workspaceParams, type ApiRoute } from '../route.js';
import type { ApiContext } from './index.js';

// One person's data in one workspace, for its administrators: found (right of access) or erased
// (right to erasure), and the receipts that keep an erased person out. The address travels in the
// body, never in a URL, so that no access log or proxy keeps it; the audit log keeps the receipt id.

const emailBody = z.object({
  email: z.string().trim().min(3).max(320).describe('The address, in any case or spacing'),
});

const receiptSchema = z
  .object({
    id: z.string(),
    workspace: z.string().nullable().describe('null: the erasure covers every workspace'),
    erasedAt: z.string(),
    erasedBy: z.string().nullable(),
    counts: z.record(z.string(), z.number()).describe('Rows deleted or anonymised, by where they were'),
    liftedAt: z.string().nullable().describe('When syncs were let to import the person again'),
    liftedBy: z.string().nullable(),
  })
  .meta({ id: 'ErasureReceipt' });

const reportSchema = z
  .object({
    email: z.string().describe('The address as it was matched'),
    workspace: z.string(),
    apps: z.array(
      z.looseObject({
        app: z.string(),
        installationId: z.string(),
        status: z.enum(['active', 'uninstalled']),
        records: z.array(z.unknown()).describe('Each record with the rows linked to it (its answers)'),
        contacts: z.array(z.unknown()),
        runLog: z.array(z.unknown()),
        rejected: z.array(z.unknown()),
      }),
    ),
    profiles: z.array(
      z.object({
        profile: z.string(),
        memberSince: z.string().nullable(),
        history: z.array(z.object({ evaluatedAt: z.string(), change: z.enum(['entered', 'left']) })),
      }),
    ),
    suppressedBy: z.array(receiptSchema).describe('Erasures that keep this address out of syncs here'),
  })
  .meta({ id: 'CustomerData' });

function receiptJson(r: ErasureReceipt): z.infer<typeof receiptSchema> {
  return {
    id: r.id,
    workspace: r.workspace ?? null,
    erasedAt: r.erasedAt.toISOString(),
    erasedBy: r.erasedBy ?? null,
    counts: r.counts,
    liftedAt: iso(r.liftedAt),
    liftedBy: r.liftedBy ?? null,
  };
}

/** Stored rows as JSON values: dates as ISO text, binary and big numbers as text. */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  ) as unknown;
}

function reportJson(report: CustomerDataReport, workspace: string): z.infer<typeof reportSchema> {
  return {
    email: report.email,
    workspace,
    apps: report.apps.map((a) => ({
      app: a.app,
      installationId: a.installationId,
      status: a.status,
      records: plain(a.records) as unknown[],
      contacts: plain(a.contacts) as unknown[],
      runLog: plain(a.runLog) as unknown[],
      rejected: plain(a.rejected) as unknown[],
    })),
    profiles: report.profiles.map((p) => ({
      profile: p.profile,
      memberSince: iso(p.memberSince),
      history: p.history.map((h) => ({ evaluatedAt: h.evaluatedAt.toISOString(), change: h.change })),
    })),
    suppressedBy: report.suppressedBy.map(receiptJson),
  };
}

function personalDataOf(ctx: ApiContext): PersonalDataStore {
  const store = ctx.store as Partial<PersonalDataStore>;
  if (typeof store.findCustomer !== 'function' || typeof store.forgetCustomer !== 'function')
    throw new InternalError('INTERNAL', 'This store cannot find or erase one customer’s data.');
  return store as PersonalDataStore;
}

export function customerRoutes(ctx: ApiContext): ApiRoute[] {
  const receiptsOf = async (workspace: string) =>
    (await personalDataOf(ctx).listErasureReceipts()).filter((r) => r.workspace === workspace);
  return [
    route({
      method: 'POST',
      url: '/workspaces/:workspace/customers/find',
      access: 'admin',
      audit: 'customer.find',
      summary:
        'Everything held about an address in the workspace (right of access): records with answers and raw copies, contacts, run-log lines, rejected records, profiles',
      tags: ['customers'],
      params: workspaceParams,
      body: emailBody,
      response: reportSchema,
      handler: async (request) => {
        const { workspace } = request.params;
        const report = await personalDataOf(ctx).findCustomer(request.body.email, { workspace });
        request.raw.auditDetails = { apps: report.apps.length, profiles: report.profiles.length };
        return reportJson(report, workspace);
      },
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/customers/forget',
      access: 'admin',
      audit: 'customer.forget',
      summary:
        'Erase everything held about an address in the workspace in one transaction (right to erasure) and keep later syncs from storing them; answers the receipt',
      tags: ['customers'],
      params: workspaceParams,
      body: emailBody,
      response: z.object({
        receipt: receiptSchema,
        alreadyForgotten: z
          .boolean()
          .describe('A receipt for this address stood already: it was reused, not doubled'),
        erased: z.record(z.string(), z.number()).describe('What this request deleted or anonymised'),
      }),
      handler: async (request) => {
        const { receipt, alreadyForgotten, erased } = await personalDataOf(ctx).forgetCustomer(
          request.body.email,
          { workspace: request.params.workspace, actor: actorOf(request.principal), at: ctx.now() },
        );
        request.raw.auditDetails = { receipt: receipt.id, alreadyForgotten };
        return { receipt: receiptJson(receipt), alreadyForgotten, erased };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/erasure-receipts',
      access: 'admin',
      summary:
        "The workspace's erasure receipts, oldest first (a salted hash of each address, never the address)",
      tags: ['customers'],
      params: workspaceParams,
      querystring: pageQuery,
      response: pageOf(receiptSchema),
      handler: async (request) => {
        const page = pageByKey(
          await receiptsOf(request.params.workspace),
          (r) => `${r.erasedAt.toISOString()}|${r.id}`,
          request.query,
        );
        return { items: page.items.map(receiptJson), next: page.next };
      },
    }),
    route({
      method: 'POST',
      url: '/workspaces/:workspace/erasure-receipts/:id/lift',
      access: 'admin',
      audit: 'customer.unforget',
      summary: 'Let syncs import the person of a receipt again; what was erased stays erased',
      tags: ['customers'],
      params: workspaceParams.extend({ id: z.string().min(1).max(100) }),
      response: z.object({ receipt: receiptSchema, changed: z.boolean() }),
      handler: async (request) => {
        const { workspace, id } = request.params;
        // Only this workspace's own receipts: one covering every workspace is lifted from the CLI.
        const before = (await receiptsOf(workspace)).find((r) => r.id === id);
        if (!before)
          throw new ConfigError(
            'ERASURE_RECEIPT_NOT_FOUND',
            `Workspace "${workspace}" has no erasure receipt "${id}".`,
            {
              hint: `GET /workspaces/${workspace}/erasure-receipts lists them; a receipt covering every workspace is lifted with tributary customers unforget.`,
            },
          );
        const receipt = await personalDataOf(ctx).liftErasure(id, {
          actor: actorOf(request.principal),
          at: ctx.now(),
        });
        return { receipt: receiptJson(receipt), changed: before.liftedAt === undefined };
      },
    }),
  ];
}
