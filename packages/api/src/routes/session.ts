import { z } from 'zod';
import { ConfigError, MIN_PASSWORD_LENGTH } from '@tributary/core';
import type { FastifyReply } from 'fastify';
import { route, type ApiRoute } from '../route.js';
import { SESSION_COOKIE } from '../constants.js';
import type { ApiContext } from './index.js';

const meSchema = z
  .object({
    kind: z.enum(['user', 'api-key']),
    email: z.string().nullable(),
    keyPrefix: z.string().nullable(),
    memberships: z.array(z.object({ workspace: z.string(), role: z.string() })),
    mustChangePassword: z
      .boolean()
      .describe('Signed in with a one-time password: POST /auth/password before anything else'),
    csrfToken: z
      .string()
      .nullable()
      .describe('Send it in the x-csrf-token header with every change made with the session cookie'),
  })
  .meta({ id: 'Me' });

/** Signing in and out with a password; the session lives in an HttpOnly SameSite=Strict cookie. */
export function sessionRoutes(ctx: ApiContext): ApiRoute[] {
  const setSessionCookie = (reply: FastifyReply, token: string, expires: Date) =>
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secureCookies,
      path: '/',
      expires,
    });
  return [
    route({
      method: 'POST',
      url: '/auth/login',
      access: 'public',
      audit: 'user.login',
      auditedByService: true,
      summary: 'Sign in: sets the session cookie and returns the CSRF token',
      tags: ['session'],
      body: z.object({
        email: z.string().trim().min(3).max(320),
        password: z.string().min(1).max(1024).describe(`At least ${MIN_PASSWORD_LENGTH} characters`),
      }),
      response: meSchema,
      handler: async (request, reply) => {
        request.raw.auditActor = `user:${request.body.email.toLowerCase()}`;
        const { sessionToken, session, user } = await ctx.auth.signIn({
          email: request.body.email,
          password: request.body.password,
          address: request.address,
        });
        setSessionCookie(reply, sessionToken, session.expiresAt);
        return {
          kind: 'user' as const,
          email: user.email,
          keyPrefix: null,
          memberships: user.memberships,
          mustChangePassword: user.mustChangePassword === true,
          csrfToken: session.csrfToken,
        };
      },
    }),
    route({
      method: 'POST',
      url: '/auth/logout',
      access: 'signed-in',
      audit: 'user.logout',
      auditedByService: true,
      summary: 'Sign out: ends the session',
      tags: ['session'],
      status: 204,
      response: z.null(),
      handler: async (request, reply) => {
        const token = request.raw.cookies[SESSION_COOKIE];
        if (token) await ctx.auth.signOut(token);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.code(204).send();
      },
    }),
    route({
      method: 'POST',
      url: '/auth/password',
      access: 'signed-in',
      audit: 'user.change-password',
      auditedByService: true,
      summary: 'Change your own password (required after a one-time password); answers a new session',
      tags: ['session'],
      body: z.object({
        currentPassword: z.string().min(1).max(1024).describe('The password you signed in with'),
        newPassword: z.string().min(1).max(1024).describe(`At least ${MIN_PASSWORD_LENGTH} characters`),
      }),
      response: meSchema,
      handler: async (request, reply) => {
        const p = request.principal!;
        if (p.kind !== 'user')
          throw new ConfigError('API_REQUEST_INVALID', 'An API key has no password to change.', {
            hint: 'Sign in with your e-mail and password to change your password.',
          });
        await ctx.auth.changePassword({
          userId: p.userId,
          currentPassword: request.body.currentPassword,
          newPassword: request.body.newPassword,
          address: request.address,
        });
        // Changing the password ends every session, this one too: sign in again with the new one so
        // that the person who just chose it carries on where they were.
        const { sessionToken, session, user } = await ctx.auth.signIn({
          email: p.email,
          password: request.body.newPassword,
          address: request.address,
        });
        setSessionCookie(reply, sessionToken, session.expiresAt);
        return {
          kind: 'user' as const,
          email: user.email,
          keyPrefix: null,
          memberships: user.memberships,
          mustChangePassword: user.mustChangePassword === true,
          csrfToken: session.csrfToken,
        };
      },
    }),
    route({
      method: 'GET',
      url: '/auth/me',
      access: 'signed-in',
      summary: 'Who is calling, with the workspaces and roles',
      tags: ['session'],
      response: meSchema,
      handler: async (request) => {
        const p = request.principal!;
        if (p.kind === 'api-key')
          return {
            kind: p.kind,
            email: null,
            keyPrefix: p.prefix,
            memberships: [{ workspace: p.workspace, role: p.role }],
            mustChangePassword: false,
            csrfToken: null,
          };
        // The principal carries no password state: read it, so that a reload still asks for a new password.
        const user = await ctx.auth.findUser(p.email);
        return {
          kind: p.kind,
          email: p.email,
          keyPrefix: null,
          memberships: p.memberships,
          mustChangePassword: user?.mustChangePassword === true,
          csrfToken: request.raw.session?.csrfToken ?? null,
        };
      },
    }),
  ];
}
