import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isTributaryError, parseUserInput, type DestinationStore, type Installation, type Store } from '@tributary/core';
import { appStatuses } from '../app-status.js';
import { withContext, type CliContext } from '../context.js';
import { CommandFailed } from '../exit-codes.js';
import { println, type Io } from '../io.js';
import { keyIdOf } from '../secret-key.js';
import { requireWorkspace, workspaceSchema } from '../workspace.js';

/** One finding of `tributary doctor`. */
export interface DoctorCheck {
  /** What was checked: `database`, `secret keys`, or `<workspace>/<app>`. */
  subject: string;
  status: 'ok' | 'attention' | 'failed';
  message: string;
}

function messageOf(error: unknown): string {
  return isTributaryError(error) ? `${error.message}${error.hint ? ` (${error.hint})` : ''}` : String(error);
}

async function checkSecretKeys(ctx: CliContext, store: Store): Promise<DoctorCheck[]> {
  const keys = ctx.secretKeys();
  const known = new Set(keys.keys.map(keyIdOf));
  const checks: DoctorCheck[] = [];
  const where = keys.source === 'env' ? 'TRIBUTARY_SECRET_KEY' : `key file ${keys.file}`;
  if (keys.file && !keys.unsaved) {
    const mode = statSync(keys.file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      checks.push({
        subject: 'secret keys',
        status: 'attention',
        message: `The key file ${keys.file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${keys.file}`,
      });
    }
  }
  const usage = await store.secretKeyUsage();
  const missing = Object.keys(usage).filter((id) => !known.has(id));
  if (missing.length > 0) {
    checks.push({
      subject: 'secret keys',
      status: 'attention',
      message: `${missing.map((id) => `${usage[id]} secret(s) sealed with key ${id}`).join(', ')}, which ${where} does not hold: those tokens cannot be read. Restore that key (e.g. in TRIBUTARY_SECRET_KEY_PREVIOUS), or replace the tokens with \`tributary app token\`.`,
    });
  }
  const stale = Object.entries(usage).filter(([id]) => id !== keys.currentKeyId && known.has(id));
  if (checks.length === 0 && keys.unsaved) {
    checks.push({ subject: 'secret keys', status: 'ok', message: `no key file yet at ${keys.file} (the first install creates it)` });
  } else if (checks.length === 0) {
    const note = stale.length > 0 ? `; ${stale.reduce((n, [, c]) => n + c, 0)} secret(s) still under an older key (run \`tributary secrets rotate\`)` : '';
    checks.push({ subject: 'secret keys', status: 'ok', message: `current key ${keys.currentKeyId} from ${where}${note}` });
  }
  return checks;
}

/**
 * A SQLite file (and its -wal/-shm files) that other users can read: it holds e-mails, comments and
 * raw records. Files Tributary creates are 0600; older ones, or copies, may not be.
 */
function checkDatabaseFile(url: string): DoctorCheck[] {
  const path = /^sqlite:(.+)$/.exec(url)?.[1];
  if (!path || path === ':memory:') return [];
  const file = resolve(path.replace(/^\/\/(?=\/)/, ''));
  const open = [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f) && (statSync(f).mode & 0o077) !== 0);
  if (open.length === 0) return [];
  const mode = (statSync(open[0]!).mode & 0o777).toString(8).padStart(4, '0');
  return [
    {
      subject: 'database',
      status: 'attention',
      // Only the database file: SQLite gives its -wal and -shm files (which come and go) the same mode.
      message: `The database file ${open[0]} is readable by others (mode ${mode}) and holds e-mails and feedback; run: chmod 600 ${file}`,
    },
  ];
}

/**
 * Workspaces with apps but no administrator (installed before Tributary knew administrators): the
 * next operator to install or remove an app there would become one, whoever it is.
 */
async function checkAdministrators(store: Store, installations: readonly Installation[]): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const workspace of [...new Set(installations.map((i) => i.workspace))].sort()) {
    if ((await store.listWorkspaceAdmins(workspace)).length > 0) continue;
    checks.push({
      subject: workspace,
      status: 'attention',
      message: `Workspace "${workspace}" has no administrator: the next operator who installs or removes an app in it becomes one. Claim it: tributary workspace admins add <your name> --workspace ${workspace}`,
    });
  }
  return checks;
}

async function checkApps(store: Store, workspace: string | undefined): Promise<DoctorCheck[]> {
  let installations: Installation[];
  try {
    installations = (await store.listInstallations(workspace)).filter((i) => i.status === 'active');
  } catch (error) {
    return [{ subject: 'apps', status: 'attention', message: `The installed apps cannot be read: ${messageOf(error)}` }];
  }
  if (installations.length === 0) return [{ subject: 'apps', status: 'ok', message: 'no apps installed' }];
  // A run left running by a process that died is closed as abandoned before it is judged.
  await store.markAbandonedRuns(new Date(), installations.map((i) => i.id));
  const statuses = await appStatuses(store, installations, new Date());
  const appChecks = statuses.flatMap((status): DoctorCheck[] => {
    const subject = `${status.installation.workspace}/${status.installation.app}`;
    if (status.attention.length === 0) {
      const token = status.credentials.expiresAt ? `token valid until ${status.credentials.expiresAt.toISOString()}` : 'token without expiry';
      const run = status.lastRun ? `last run ${status.lastRun.status} at ${status.lastRun.startedAt.toISOString()}` : 'not synced yet';
      return [{ subject, status: 'ok', message: `${run}; ${token}` }];
    }
    return status.attention.map((message) => ({ subject, status: 'attention', message }));
  });
  return [...(await checkAdministrators(store, installations)), ...appChecks];
}

/** Dead-lettered deliveries: a destination stopped hearing a profile's changes. */
async function checkDeliveries(store: Store, workspace: string | undefined): Promise<DoctorCheck[]> {
  const destinations = store as Store & Partial<DestinationStore>;
  if (typeof destinations.listDeliveries !== 'function') return [];
  const dead = await destinations.listDeliveries({ ...(workspace ? { workspace } : {}), status: 'dead', limit: 1000 });
  const byDestination = new Map<string, typeof dead>();
  for (const d of dead) byDestination.set(`${d.workspace}/${d.destination}`, [...(byDestination.get(`${d.workspace}/${d.destination}`) ?? []), d]);
  return [...byDestination.entries()].map(([subject, batches]) => ({
    subject,
    status: 'attention' as const,
    message: `${batches.length} batch(es) dead-lettered (newest: ${batches[0]!.id}, ${batches[0]!.lastError ?? 'no error kept'}); the receiver never got those changes. See: tributary deliveries --status dead --workspace ${batches[0]!.workspace}`,
  }));
}

/**
 * Checks everything an operator should act on: the database (unreachable: exit 4, with the reason;
 * missing or not migrated: exit 2, creating nothing; a SQLite file others can read), the secret keys (a secret sealed with a key no longer configured, a key file others can read),
 * every active app (a token expiring within 14 days or expired, a last run that failed), and
 * workspaces with apps but no administrator.
 * Exits 1 when anything needs attention, 0 otherwise.
 */
export async function runDoctor(io: Io, options: { workspace?: string; json?: boolean }): Promise<void> {
  const workspace = options.workspace === undefined ? undefined : parseUserInput(workspaceSchema, options.workspace, '--workspace');
  const checks: DoctorCheck[] = [];
  const report = () => {
    if (options.json) println(io.stdout, JSON.stringify({ ok: checks.every((c) => c.status === 'ok'), checks }, null, 2));
    else for (const check of checks) println(io.stdout, `${check.status === 'ok' ? 'ok       ' : check.status === 'failed' ? 'FAILED   ' : 'ATTENTION'}  ${check.subject}: ${check.message}`);
  };
  await withContext(io, async (ctx) => {
    let store: Store;
    try {
      store = await ctx.existingStore();
    } catch (error) {
      checks.push({ subject: 'database', status: 'failed', message: messageOf(error) });
      report();
      // The database failure keeps its own exit code (4), so that scripts tell it from an app problem.
      throw error;
    }
    if (workspace !== undefined) await requireWorkspace(store, workspace);
    checks.push({ subject: 'database', status: 'ok', message: 'reachable, migrations applied' });
    checks.push(...checkDatabaseFile(ctx.env.TRIBUTARY_DATABASE_URL));
    checks.push(...(await checkSecretKeys(ctx, store)));
    checks.push(...(await checkApps(store, workspace)));
    checks.push(...(await checkDeliveries(store, workspace)));
    report();
  });
  const problems = checks.filter((c) => c.status !== 'ok').length;
  if (problems > 0) throw new CommandFailed(`${problems} thing(s) need attention.`);
}

/** Registers `tributary doctor`. */
export function registerDoctor(program: Command, io: Io): void {
  program
    .command('doctor')
    .description('check the database, the secret keys and every installed app; exits 1 when something needs attention, 4 when the database is unreachable')
    .option('--workspace <ws>', 'only the apps of this workspace')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { workspace?: string; json?: boolean }) => {
      await runDoctor(io, options);
    });
}
