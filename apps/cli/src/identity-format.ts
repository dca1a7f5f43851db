import { z } from 'zod';
import { ConfigError, parseUserInput, workspaceRoleSchema, type ApiKey, type AuditEvent, type User, type WorkspaceRole } from '@tributary/core';
import type { AuthService } from '@tributary/auth';
import type { CliContext } from './context.js';

// Shared by `users`, `api-keys` and `audit`: the auth service over the CLI's store, the actor the
// audit log names for an operator, and the JSON shapes of users, keys and events.

/** The auth service over the command's store (migrated: these commands write). */
export async function authFor(ctx: CliContext): Promise<AuthService> {
  // Loaded on use, so that the other commands (a sync restarted by cron, say) start no slower.
  const { createAuthService } = await import('@tributary/auth');
  return createAuthService({ store: await ctx.store(), logger: ctx.logger });
}

/** The audit log's name for a change made from the CLI. */
export function cliActor(ctx: CliContext): string {
  return `cli:${ctx.operator}`;
}

/** A `--role` value: one of the three roles. */
export function parseRole(input: string, flag = '--role'): WorkspaceRole {
  return parseUserInput(workspaceRoleSchema, input.trim().toLowerCase(), flag);
}

const DURATION = /^(\d{1,5})([dhw])$/;
const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** `--expires`: a duration from now (`90d`, `12h`, `2w`) or an ISO-8601 date in the future. */
export function parseExpiry(input: string, now: Date): Date {
  const text = input.trim();
  const duration = DURATION.exec(text);
  const at = duration
    ? new Date(now.getTime() + Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS])
    : /^\d{4}-\d{2}-\d{2}/.test(text)
      ? new Date(text)
      : undefined;
  if (!at || Number.isNaN(at.getTime()) || at.getTime() <= now.getTime()) {
    throw new ConfigError('USAGE', `--expires ${JSON.stringify(input)} is neither a duration (90d, 12h, 2w) nor a date in the future (2027-01-31).`);
  }
  return at;
}

export const emailArgSchema = z.string().trim().min(3).max(320);

export function userJson(user: User): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    createdAt: user.createdAt.toISOString(),
    lockedUntil: user.lockedUntil?.toISOString() ?? null,
    mustChangePassword: user.mustChangePassword ?? false,
    memberships: user.memberships,
  };
}

export function apiKeyJson(key: ApiKey): Record<string, unknown> {
  return {
    id: key.id,
    prefix: key.prefix,
    name: key.name,
    workspace: key.workspace,
    role: key.role,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    createdBy: key.createdBy ?? null,
  };
}

/** A key's state at `now`: active, expired or revoked. */
export function keyStatus(key: ApiKey, now: Date): string {
  if (key.revokedAt) return `revoked ${key.revokedAt.toISOString()}`;
  if (key.expiresAt && key.expiresAt <= now) return `expired ${key.expiresAt.toISOString()}`;
  return 'active';
}

export function auditJson(event: AuditEvent): Record<string, unknown> {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    workspace: event.workspace ?? null,
    target: event.target ?? null,
    address: event.address ?? null,
    outcome: event.outcome,
    details: event.details ?? null,
  };
}
