import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal, WorkspaceRole } from '@tributary/core';
import { errorBodySchema } from './http-errors.js';

/**
 * Who may call a route: anyone (`public`), any signed-in caller (`signed-in`), or a role in the
 * workspace named by the route's `:workspace` parameter. Every route declares it; the route × role
 * test walks them all.
 */
export type Access = 'public' | 'signed-in' | WorkspaceRole;

/** The request a handler sees: typed path, query and body, and who is calling. */
export interface RouteRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | undefined;
  /** The caller's address, for the audit log and the login rate limit. */
  address: string;
  raw: FastifyRequest;
}

/** One API route, as declared: method, path, access, zod schemas, and what a change is audited as. */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  access: Access;
  summary: string;
  tags: string[];
  /** The audit action of a change (`installation.install`); every non-GET route has one. */
  audit?: string;
  /** The auth service audits this change itself once the handler runs; the server audits only refusals before it. */
  auditedByService?: boolean;
  params?: z.ZodObject;
  querystring?: z.ZodObject;
  body?: z.ZodType;
  /** The success status and body; errors all have the one error body. */
  status?: number;
  response?: z.ZodType;
  /** Answers something other than JSON (a CSV stream, the metrics text): no response schema. */
  produces?: string;
  handler(request: RouteRequest<any, any, any>, reply: FastifyReply): Promise<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Declares a route with its handler typed by its schemas. */
type NoFields = z.ZodObject<Record<never, z.ZodType>>;

export function route<
  P extends z.ZodObject = NoFields,
  Q extends z.ZodObject = NoFields,
  B extends z.ZodType = z.ZodUndefined,
>(
  spec: Omit<ApiRoute, 'handler' | 'params' | 'querystring' | 'body'> & {
    params?: P;
    querystring?: Q;
    body?: B;
    handler(
      request: RouteRequest<z.output<P>, z.output<Q>, z.output<B>>,
      reply: FastifyReply,
    ): Promise<unknown>;
  },
): ApiRoute {
  return spec as ApiRoute;
}

/** The path parameter every workspace route has. */
export const workspaceName = z
  .string()
  .min(1)
  .max(100)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    'must start with a letter or digit and hold only letters, digits, _ . -',
  );
export const workspaceParams = z.object({ workspace: workspaceName });
export const appParams = workspaceParams.extend({
  app: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z][a-z0-9_]*$/, 'must be an app id such as closealert'),
});

/** Cursor pagination of list routes. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('At most this many items'),
  cursor: z.string().max(500).optional().describe('The `next` of the previous page'),
});

/** A page of a list. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last one'),
  });
}

/** The error answers every route may give, for the OpenAPI document. */
export const errorResponses = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  404: errorBodySchema,
  409: errorBodySchema,
  422: errorBodySchema,
  429: errorBodySchema,
  503: errorBodySchema,
};

/** A JSON object whose fields the route's description names; kept open so that new fields do not break clients. */
export const looseObject = z.looseObject({});
