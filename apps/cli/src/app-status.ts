import { isTributaryError, type Installation, type RunRecord, type Store } from '@tributary/core';
import { CONNECTORS, settingsWithoutSecrets } from './connectors.js';
import { lateFeedbackOf } from './late-feedback.js';
import { nextRunAt } from './next-run.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Tokens expiring within this many days are flagged (CloseAlert itself reminds 14 and 7 days ahead). */
export const EXPIRY_WARNING_DAYS = 14;

/** What a token's expiry means for the operator. */
export type CredentialState = 'valid' | 'no-expiry' | 'expiring' | 'expired' | 'unreadable' | 'not-applicable';

/** The token of an installation, as `apps` and `doctor` show it (never the token itself). */
export interface CredentialStatus {
  state: CredentialState;
  expiresAt: Date | null;
  daysLeft: number | null;
  /** What the operator should know or do. */
  message?: string;
}

/** The last run of an installation. */
export interface LastRun {
  id: string;
  startedAt: Date;
  finishedAt: Date | null;
  status: RunRecord['status'];
  errorCode?: string;
  error?: string;
}

/** Everything `apps` and `doctor` say about one installation. */
export interface AppStatus {
  installation: Installation;
  lastRun?: LastRun;
  nextRunAt: Date | null;
  credentials: CredentialStatus;
  /** Things the operator should act on: an expiring or expired token, a failing app. */
  attention: string[];
}

function credentialsOf(installation: Installation, now: Date): CredentialStatus {
  const none: CredentialStatus = { state: 'not-applicable', expiresAt: null, daysLeft: null };
  const connector = CONNECTORS.get(installation.app);
  if (installation.status !== 'active' || !connector) return none;
  if (installation.secretError) return { ...none, state: 'unreadable', message: `The token cannot be opened: ${installation.secretError}` };
  const parsed = connector.configSchema.safeParse(installation.config);
  if (!parsed.success) return { ...none, state: 'unreadable', message: `The stored settings of ${connector.displayName} are invalid.` };
  let expiresAt: Date | null = null;
  try {
    expiresAt = connector.credentialsExpireAt?.(parsed.data) ?? null;
  } catch (error) {
    return { ...none, state: 'unreadable', message: isTributaryError(error) ? error.message : 'The stored token cannot be read.' };
  }
  const daysLeft = expiresAt === null ? null : Math.max(0, Math.ceil((expiresAt.getTime() - now.getTime()) / DAY_MS));
  let warnings: string[] = [];
  try {
    warnings = connector.preflight?.(parsed.data, now).warnings ?? [];
  } catch (error) {
    // Preflight throws exactly when a run cannot succeed: an expired token, say.
    return { state: 'expired', expiresAt, daysLeft: 0, message: isTributaryError(error) ? error.message : String(error) };
  }
  if (expiresAt === null) return { state: 'no-expiry', expiresAt, daysLeft };
  if (expiresAt.getTime() <= now.getTime()) return { state: 'expired', expiresAt, daysLeft: 0, message: warnings[0] ?? 'The token has expired.' };
  if (warnings.length > 0 || (daysLeft !== null && daysLeft <= EXPIRY_WARNING_DAYS)) {
    return { state: 'expiring', expiresAt, daysLeft, message: warnings.join(' ') || `The token expires in ${daysLeft} days.` };
  }
  return { state: 'valid', expiresAt, daysLeft };
}

function lastRunOf(run: RunRecord): LastRun {
  return {
    id: run.id,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    status: run.status,
    ...(run.errorCode ? { errorCode: run.errorCode } : {}),
    ...(run.error ? { error: run.error } : {}),
  };
}

/** Connector messages name the workspace as `<ws>`; the operator gets the command ready to paste. */
function withWorkspace(status: CredentialStatus, workspace: string): CredentialStatus {
  return status.message ? { ...status, message: status.message.replaceAll('--workspace <ws>', `--workspace ${workspace}`) } : status;
}

/** The status of each installation at `now`. */
export async function appStatuses(store: Store, installations: readonly Installation[], now: Date): Promise<AppStatus[]> {
  // Two statements for any number of installations: the newest run of each, and the schedules.
  const latestRuns = new Map((await store.latestRuns(installations.map((i) => i.id))).map((run) => [run.installationId, run]));
  const schedules = new Map((await store.listSchedules()).map((entry) => [entry.installationId, entry.state]));
  const statuses: AppStatus[] = [];
  for (const installation of installations) {
    const run = latestRuns.get(installation.id);
    const lastRun = run ? lastRunOf(run) : undefined;
    const schedule = installation.status === 'active' ? schedules.get(installation.id) : undefined;
    const credentials = withWorkspace(credentialsOf(installation, now), installation.workspace);
    const attention: string[] = [];
    if (credentials.state === 'expired' || credentials.state === 'expiring' || credentials.state === 'unreadable') {
      attention.push(credentials.message ?? `Token ${credentials.state}.`);
    }
    if (installation.status === 'active' && lastRun?.status === 'failed') {
      attention.push(`The last run (${lastRun.startedAt.toISOString()}) failed${lastRun.errorCode ? ` [${lastRun.errorCode}]` : ''}: ${lastRun.error ?? 'no reason recorded'}`);
    }
    if (installation.status === 'active' && lastRun?.status === 'abandoned') {
      attention.push(
        `The last run (${lastRun.startedAt.toISOString()}) was abandoned: its process died before it finished, after committing ${run!.inserted} new response(s). The next run resumes after its last committed page.`,
      );
    }
    if (installation.status === 'active' && !CONNECTORS.has(installation.app)) {
      attention.push(`This build of Tributary has no connector "${installation.app}": it cannot sync.`);
    }
    statuses.push({
      installation,
      ...(lastRun ? { lastRun } : {}),
      nextRunAt: nextRunAt({
        status: installation.status,
        ...(schedule ? { scheduledAt: schedule.nextRunAt } : {}),
        now,
      }),
      credentials,
      attention,
    });
  }
  return statuses;
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

/** What every JSON view of an installation starts with. */
function installationIdentity(installation: Installation): Record<string, unknown> {
  return {
    id: installation.id,
    workspace: installation.workspace,
    app: installation.app,
    connectorVersion: installation.connectorVersion ?? null,
    status: installation.status,
    installedAt: iso(installation.createdAt),
    uninstalledAt: iso(installation.uninstalledAt),
  };
}

/** An app's status as JSON for scripts: no configuration, so that no secret can leak. */
export function appStatusToJson(status: AppStatus): Record<string, unknown> {
  const { installation, lastRun, credentials } = status;
  return {
    ...installationIdentity(installation),
    billing: installation.billing ?? null,
    retentionDays: installation.retentionDays ?? null,
    lateFeedback: lateFeedbackOf(installation) ?? null,
    lastRun: lastRun ? { ...lastRun, startedAt: iso(lastRun.startedAt), finishedAt: iso(lastRun.finishedAt) } : null,
    nextRunAt: iso(status.nextRunAt),
    token: { state: credentials.state, expiresAt: iso(credentials.expiresAt), daysLeft: credentials.daysLeft, message: credentials.message ?? null },
    attention: status.attention,
  };
}

/**
 * An installation as JSON for the commands that change one: its settings without the secret fields
 * (a connector without a known secret list shows no settings at all), so that no token can leak.
 */
export function installationToJson(installation: Installation): Record<string, unknown> {
  const connector = CONNECTORS.get(installation.app);
  return {
    ...installationIdentity(installation),
    settings: connector ? settingsWithoutSecrets(connector, installation.config) : {},
    billing: installation.billing ?? null,
    retentionDays: installation.retentionDays ?? null,
  };
}
