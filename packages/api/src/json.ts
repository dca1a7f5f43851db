import { z } from 'zod';
import type {
  ApiKey,
  AuditEvent,
  ConnectorDefinition,
  Installation,
  InstallationSummary,
  Invoice,
  RunRecord,
  User,
} from '@tributary/core';
import { settingsWithoutSecrets } from '@tributary/runner';

// Domain objects as the API shows them: dates as ISO-8601 text, never a secret.

export const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

export const installationSchema = z
  .object({
    id: z.string(),
    workspace: z.string(),
    app: z.string(),
    status: z.enum(['active', 'uninstalled']),
    connectorVersion: z.string().nullable(),
    installedAt: z.string(),
    uninstalledAt: z.string().nullable(),
    purgedAt: z.string().nullable(),
    settings: z.record(z.string(), z.unknown()).describe('The settings without their secret fields'),
    billing: z.object({ plan: z.string(), poNumber: z.string().optional() }).loose().nullable(),
  })
  .meta({ id: 'Installation' });

export function installationJson(
  installation: Installation | InstallationSummary,
  connector: ConnectorDefinition | undefined,
): z.infer<typeof installationSchema> {
  // A list's summaries carry only the plain settings; a single read has the whole config.
  const config = 'config' in installation ? installation.config : installation.settings;
  return {
    id: installation.id,
    workspace: installation.workspace,
    app: installation.app,
    status: installation.status,
    connectorVersion: installation.connectorVersion ?? null,
    installedAt: installation.createdAt.toISOString(),
    uninstalledAt: iso(installation.uninstalledAt),
    purgedAt: iso(installation.purgedAt),
    // A connector this server does not know has unknown secrets: show no settings at all.
    settings: connector ? settingsWithoutSecrets(connector, config) : {},
    billing: installation.billing ? { ...installation.billing } : null,
  };
}

export const runSchema = z
  .object({
    id: z.string(),
    installationId: z.string(),
    workspace: z.string(),
    app: z.string(),
    status: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    fetched: z.number(),
    inserted: z.number(),
    unchanged: z.number(),
    rejected: z.number(),
    savedTotal: z.number(),
    error: z.string().nullable(),
    errorCode: z.string().nullable(),
    warnings: z.array(z.string()),
  })
  .loose()
  .meta({ id: 'Run' });

export function runJson(run: RunRecord, full = false): z.infer<typeof runSchema> {
  return {
    id: run.id,
    installationId: run.installationId,
    workspace: run.workspace,
    app: run.app,
    status: run.status,
    startedAt: run.startedAt.toISOString(),
    finishedAt: iso(run.finishedAt),
    fetched: run.fetched,
    inserted: run.inserted,
    unchanged: run.unchanged,
    rejected: run.rejected,
    savedTotal: run.savedTotal,
    error: run.error ?? null,
    errorCode: run.errorCode ?? null,
    warnings: run.warnings,
    ...(run.duplicates !== undefined ? { duplicates: run.duplicates } : {}),
    ...(run.late !== undefined ? { late: run.late } : {}),
    ...(full ? { rejectedRecords: run.rejectedRecords } : {}),
  };
}

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    createdAt: z.string(),
    lockedUntil: z.string().nullable(),
    role: z.string().nullable(),
  })
  .meta({ id: 'User' });

export function userJson(user: User, workspace: string): z.infer<typeof userSchema> {
  return {
    id: user.id,
    email: user.email,
    createdAt: user.createdAt.toISOString(),
    lockedUntil: iso(user.lockedUntil),
    role: user.memberships.find((m) => m.workspace === workspace)?.role ?? null,
  };
}

export const apiKeySchema = z
  .object({
    id: z.string(),
    prefix: z.string(),
    name: z.string(),
    workspace: z.string(),
    role: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });

export function apiKeyJson(key: ApiKey): z.infer<typeof apiKeySchema> {
  return {
    id: key.id,
    prefix: key.prefix,
    name: key.name,
    workspace: key.workspace,
    role: key.role,
    createdAt: key.createdAt.toISOString(),
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    lastUsedAt: iso(key.lastUsedAt),
  };
}

export const auditSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    workspace: z.string().nullable(),
    target: z.string().nullable(),
    address: z.string().nullable(),
    outcome: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEvent' });

export function auditJson(event: AuditEvent): z.infer<typeof auditSchema> {
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

export const invoiceSchema = z.looseObject({ id: z.string() }).meta({ id: 'Invoice' });

export function invoiceJson(invoice: Invoice): Record<string, unknown> & { id: string } {
  return JSON.parse(JSON.stringify(invoice)) as Record<string, unknown> & { id: string };
}
