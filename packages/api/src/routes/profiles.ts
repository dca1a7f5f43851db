import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  ConfigError,
  csvField,
  describeProfileCondition,
  profileConditionSchema,
  profileDefinitionSchema,
  type ProfileEvaluation,
  type ProfileMember,
  type StoredProfile,
} from '@tributary/core';
import { iso } from '../json.js';
import { decodeCursor, encodeCursor, pageByKey } from '../pagination.js';
import { pageOf, pageQuery, route, workspaceParams, type ApiRoute } from '../route.js';
import type { ApiContext } from './index.js';

// Profiles stay thin here: the store compiles and evaluates them.

// The condition tree is recursive: named, it becomes one component that refers to itself.
if (!z.globalRegistry.has(profileConditionSchema))
  z.globalRegistry.add(profileConditionSchema, { id: 'ProfileCondition' });

const profileParams = workspaceParams.extend({ name: z.string().min(1).max(100) });
const definitionBody = profileDefinitionSchema.omit({ name: true }).meta({ id: 'ProfileDefinition' });

const profileSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    over: z.string(),
    app: z.string().nullable().describe('The one app the profile reads; null when it spans every feedback app'),
    match: z.unknown(),
    conditions: z.string().describe('The conditions as one readable line'),
    createdAt: z.string(),
    updatedAt: z.string(),
    lastEvaluation: z.object({ evaluatedAt: z.string(), memberCount: z.number() }).nullable(),
  })
  .meta({ id: 'Profile' });

const memberSchema = z
  .object({
    email: z.string(),
    customerId: z.string().nullable(),
    contactId: z.string().nullable(),
    responseId: z.string(),
    app: z.string(),
    formId: z.union([z.number(), z.string()]).nullable(),
    score: z.number().nullable(),
    respondedAt: z.string(),
  })
  .meta({ id: 'ProfileMember' });

const evaluationSchema = z.object({
  profile: z.string(),
  evaluatedAt: z.string(),
  recorded: z.boolean(),
  count: z.number(),
  members: z.array(memberSchema).describe('The first members; GET …/export streams them all'),
  entered: z.array(z.string()),
  left: z.array(z.string()),
  previousEvaluatedAt: z.string().nullable(),
});


function profileJson(p: StoredProfile): z.infer<typeof profileSchema> {
  return {
    id: p.id,
    name: p.name,
    description: p.definition.description,
    over: p.definition.over,
    app: p.definition.app ?? null,
    match: p.definition.match,
    conditions: describeProfileCondition(p.definition.match),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    lastEvaluation: p.lastEvaluation
      ? { evaluatedAt: p.lastEvaluation.evaluatedAt.toISOString(), memberCount: p.lastEvaluation.memberCount }
      : null,
  };
}

function memberJson(m: ProfileMember): z.infer<typeof memberSchema> {
  return {
    email: m.email,
    customerId: m.customerId ?? m.contactId,
    contactId: m.contactId,
    app: m.app,
    responseId: m.responseId,
    formId: m.formId,
    score: m.score,
    respondedAt: m.respondedAt.toISOString(),
  };
}

function evaluationJson(
  e: ProfileEvaluation,
  limit: number,
  name = e.profile.name,
): z.infer<typeof evaluationSchema> {
  return {
    profile: name,
    evaluatedAt: e.evaluatedAt.toISOString(),
    recorded: e.evaluationId !== undefined,
    count: e.members.length,
    members: e.members.slice(0, limit).map(memberJson),
    entered: e.entered,
    left: e.left,
    previousEvaluatedAt: iso(e.previousEvaluatedAt),
  };
}

const CSV_HEADER = ['email', 'customer_id', 'contact_id', 'response_id', 'form_id', 'score', 'responded_at'];

function csvLine(m: ProfileMember): string {
  return (
    [m.email, m.customerId ?? m.contactId, m.contactId, m.responseId, m.formId, m.score, m.respondedAt.toISOString()]
      .map(csvField)
      .join(',') + '\r\n'
  );
}

/**
 * An export's text, a batch of members at a time as the store reads them. A client that goes away
 * destroys the response's stream, which returns this generator and, through it, the store's: the
 * query stops there.
 */
async function* exportChunks(
  first: ProfileMember[] | undefined,
  rest: AsyncGenerator<ProfileMember[], unknown, undefined>,
  format: 'csv' | 'json',
  /** Called once the export ends, complete or not. */
  ended: () => void,
): AsyncGenerator<string> {
  let started = false;
  const chunk = (batch: readonly ProfileMember[]) => {
    if (format === 'csv') return batch.map(csvLine).join('');
    let text = '';
    for (const m of batch) {
      text += (started ? ',' : '') + JSON.stringify(memberJson(m));
      started = true;
    }
    return text;
  };
  yield format === 'csv' ? CSV_HEADER.join(',') + '\r\n' : '[';
  try {
    if (first) yield chunk(first);
    for await (const batch of rest) yield chunk(batch);
  } finally {
    await rest.return(undefined);
    ended();
  }
  if (format === 'json') yield ']\n';
}

export function profileRoutes(ctx: ApiContext): ApiRoute[] {
  const requireProfile = async (workspace: string, name: string) => {
    const profile = await ctx.store.getProfile(workspace, name);
    if (!profile)
      throw new ConfigError('PROFILE_NOT_FOUND', `No profile "${name}" in workspace "${workspace}".`, {
        hint: `GET /workspaces/${workspace}/profiles lists them.`,
      });
    return profile;
  };
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      ctx.metrics.profileEvaluated((performance.now() - started) / 1000);
    }
  };
  const base = '/workspaces/:workspace/profiles';
  return [
    route({
      method: 'GET',
      url: base,
      access: 'viewer',
      summary: 'Profiles of a workspace',
      tags: ['profiles'],
      params: workspaceParams,
      querystring: pageQuery,
      response: pageOf(profileSchema),
      handler: async (request) => {
        const all = await ctx.store.listProfiles(request.params.workspace);
        const page = pageByKey(all, (p) => p.name, request.query);
        return { items: page.items.map(profileJson), next: page.next };
      },
    }),
    route({
      method: 'POST',
      url: base,
      access: 'marketer',
      audit: 'profile.create',
      summary: 'Create a profile',
      tags: ['profiles'],
      params: workspaceParams,
      body: profileDefinitionSchema,
      status: 201,
      response: profileSchema,
      handler: async (request) => {
        return profileJson(await ctx.store.createProfile(request.params.workspace, request.body));
      },
    }),
    route({
      method: 'POST',
      url: `${base}/preview`,
      access: 'marketer',
      summary: 'Count and first members of an unsaved definition; nothing is recorded',
      tags: ['profiles'],
      params: workspaceParams,
      querystring: z.object({ limit: z.coerce.number().int().min(0).max(500).default(20) }),
      body: definitionBody,
      response: evaluationSchema,
      handler: async (request) => {
        const preview = await timed(() =>
          ctx.store.previewProfile(
            request.params.workspace,
            { ...request.body, name: 'unsaved' },
            { now: ctx.now(), limit: request.query.limit },
          ),
        );
        return {
          profile: '(unsaved)',
          evaluatedAt: preview.evaluatedAt.toISOString(),
          recorded: false,
          count: preview.count,
          members: preview.members.map(memberJson),
          entered: [],
          left: [],
          previousEvaluatedAt: null,
        };
      },
    }),
    route({
      method: 'GET',
      url: `${base}/:name`,
      access: 'viewer',
      summary: 'One profile',
      tags: ['profiles'],
      params: profileParams,
      response: profileSchema,
      handler: async (request) =>
        profileJson(await requireProfile(request.params.workspace, request.params.name)),
    }),
    route({
      method: 'PUT',
      url: `${base}/:name`,
      access: 'marketer',
      audit: 'profile.update',
      summary: 'Replace the definition of a profile; its history stays, and the next evaluation compares with the old members',
      tags: ['profiles'],
      params: profileParams,
      body: definitionBody,
      response: profileSchema,
      handler: async (request) => {
        const { workspace, name } = request.params;
        await requireProfile(workspace, name);
        return profileJson(await ctx.store.updateProfile(workspace, name, request.body));
      },
    }),
    route({
      method: 'DELETE',
      url: `${base}/:name`,
      access: 'marketer',
      audit: 'profile.delete',
      summary: 'Delete a profile with its history',
      tags: ['profiles'],
      params: profileParams,
      status: 204,
      response: z.null(),
      handler: async (request, reply) => {
        await requireProfile(request.params.workspace, request.params.name);
        await ctx.store.deleteProfile(request.params.workspace, request.params.name);
        return reply.code(204).send();
      },
    }),
    route({
      method: 'POST',
      url: `${base}/:name/run`,
      access: 'marketer',
      audit: 'profile.run',
      summary: 'Evaluate a profile now and record who entered and who left',
      tags: ['profiles'],
      params: profileParams,
      querystring: z.object({ limit: z.coerce.number().int().min(0).max(500).default(50) }),
      response: evaluationSchema,
      handler: async (request) => {
        await requireProfile(request.params.workspace, request.params.name);
        const evaluation = await timed(() =>
          ctx.store.evaluateProfile(request.params.workspace, request.params.name, {
            now: ctx.now(),
            record: true,
          }),
        );
        return evaluationJson(evaluation, request.query.limit);
      },
    }),
    route({
      method: 'GET',
      url: `${base}/:name/export`,
      access: 'marketer',
      summary: 'Every member, streamed as CSV or JSON (evaluated now, not recorded)',
      tags: ['profiles'],
      params: profileParams,
      querystring: z.object({ format: z.enum(['csv', 'json']).default('csv') }),
      produces: 'text/csv',
      handler: async (request, reply) => {
        await requireProfile(request.params.workspace, request.params.name);
        // Members go out as they are read; none is kept, and no changes are computed (none are sent).
        const members = ctx.store.streamProfile(request.params.workspace, request.params.name, {
          now: ctx.now(),
          record: false,
          changes: false,
        });
        // The first batch is read before the headers go, so that a failure is still a proper error response.
        const started = performance.now();
        const first = await members.next();
        const csv = request.query.format === 'csv';
        const file = `${request.params.name.replace(/[^\w.-]+/g, '_')}.${request.query.format}`;
        reply.header('content-disposition', `attachment; filename="${file}"`);
        reply.type(csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
        const ended = () => ctx.metrics.profileEvaluated((performance.now() - started) / 1000);
        return reply.send(Readable.from(exportChunks(first.done ? undefined : first.value, members, request.query.format, ended)));
      },
    }),
    route({
      method: 'GET',
      url: `${base}/:name/members`,
      access: 'viewer',
      summary: 'The members now, by e-mail, a page at a time; `q` keeps the e-mails that contain it (evaluated now, not recorded)',
      tags: ['profiles'],
      params: profileParams,
      querystring: pageQuery.extend({
        q: z.string().max(200).optional().describe('Part of an e-mail, case-insensitive'),
      }),
      response: pageOf(memberSchema).extend({
        total: z.number().describe('How many members match `q` (all pages)'),
      }),
      handler: async (request) => {
        await requireProfile(request.params.workspace, request.params.name);
        const after = decodeCursor(request.query.cursor, (v): v is string => typeof v === 'string');
        // Paged and counted by the database: a large profile is never read whole for one page.
        const page = await timed(() =>
          ctx.store.profileMembers(request.params.workspace, request.params.name, {
            now: ctx.now(),
            limit: request.query.limit,
            ...(after === undefined ? {} : { after }),
            ...(request.query.q === undefined ? {} : { contains: request.query.q }),
          }),
        );
        return { items: page.members.map(memberJson), next: page.after === null ? null : encodeCursor(page.after), total: page.total };
      },
    }),
    route({
      method: 'GET',
      url: `${base}/:name/changes`,
      access: 'viewer',
      summary: 'Who entered and who left since the last recorded evaluation (evaluated now, not recorded)',
      tags: ['profiles'],
      params: profileParams,
      response: evaluationSchema,
      handler: async (request) => {
        await requireProfile(request.params.workspace, request.params.name);
        const evaluation = await timed(() =>
          ctx.store.evaluateProfile(request.params.workspace, request.params.name, {
            now: ctx.now(),
            record: false,
          }),
        );
        return evaluationJson(evaluation, 0);
      },
    }),
    route({
      method: 'GET',
      url: `${base}/:name/history`,
      access: 'viewer',
      summary: 'Recorded evaluations with who entered and left, newest first',
      tags: ['profiles'],
      params: profileParams,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
      response: z.object({
        items: z.array(
          z.object({
            evaluationId: z.string(),
            evaluatedAt: z.string(),
            memberCount: z.number(),
            entered: z.array(z.string()),
            left: z.array(z.string()),
          }),
        ),
        next: z.null(),
      }),
      handler: async (request) => {
        await requireProfile(request.params.workspace, request.params.name);
        const history = await ctx.store.profileHistory(request.params.workspace, request.params.name, {
          limit: request.query.limit,
        });
        return {
          items: history.map((h) => ({ ...h, evaluatedAt: h.evaluatedAt.toISOString() })),
          next: null,
        };
      },
    }),
    route({
      method: 'GET',
      url: '/workspaces/:workspace/forms',
      access: 'viewer',
      summary: "The forms and questions of the workspace's feedback: what profiles can name",
      tags: ['profiles'],
      params: workspaceParams,
      response: z.object({
        items: z.array(z.looseObject({ id: z.union([z.number(), z.string()]) })),
        next: z.null(),
      }),
      handler: async (request) => ({
        items: await ctx.store.listFeedbackForms(request.params.workspace),
        next: null,
      }),
    }),
  ];
}
