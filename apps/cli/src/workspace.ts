import { z } from 'zod';
import { ConfigError, isTributaryError, parseUserInput, type Installation, type Store } from '@tributary/core';
import { CONNECTORS } from './connectors.js';

/** Workspace names appear in commands, logs and file names; keep them simple. */
export const workspaceSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must start with a letter or digit and hold only letters, digits, _ . -');

/** A workspace name from `--workspace`, or a ConfigError that names the flag. */
export function parseWorkspace(input: string): string {
  return parseUserInput(workspaceSchema, input, '--workspace');
}

/** `a, b, c`, or `none` for an empty list. */
function listOf(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}

/**
 * The workspace named by `--workspace`, when it exists (an app was installed in it, even if removed
 * since, or a user was given a role in it); otherwise a ConfigError (exit 2) that lists the workspaces there are, so that a typo never
 * reads as an empty result.
 */
export async function requireWorkspace(store: Store, input: string): Promise<string> {
  const name = parseWorkspace(input);
  try {
    // Reads no secret, so that a workspace whose token cannot be opened is still found (doctor says why).
    await store.listWorkspaceAdmins(name);
    return name;
  } catch (error) {
    if (!(isTributaryError(error) && error.code === 'WORKSPACE_NOT_FOUND')) throw error;
  }
  let names: string[] = [];
  try {
    // Every workspace, those made for users only (`users create --workspace`) included.
    names = await store.listWorkspaces();
  } catch {
    // The names are a courtesy; a database that fails here must not hide the real answer.
  }
  throw new ConfigError('WORKSPACE_NOT_FOUND', `There is no workspace "${name}"; workspaces: ${listOf(names)}.`, {
    hint:
      names.length > 0
        ? 'Check the spelling, or install an app to create a workspace: tributary install <app> --workspace <name> … (`tributary connectors` lists the apps, `tributary install <app> --help` their settings)'
        : `A workspace comes into being when an app is installed in it: tributary install <app> --workspace ${name} … (\`tributary connectors\` lists the apps, \`tributary install <app> --help\` their settings)`,
  });
}

/**
 * Refuses an operator (`TRIBUTARY_USER`) who does not administer the workspace, as `install` and
 * `uninstall` do: destinations, activations and erasures change what leaves Tributary and what it keeps.
 */
export async function requireWorkspaceAdmin(store: Store, workspace: string, operator: string, action: string): Promise<void> {
  await store.authorizeWorkspaceAdmin(workspace, operator, action);
}

/**
 * Refuses an operator who does not administer every workspace there is: an erasure without
 * `--workspace` (or lifting one) reaches into all of them.
 */
export async function requireAdminOfEveryWorkspace(store: Store, operator: string, action: string): Promise<void> {
  const names = [...new Set((await store.listInstallations()).map((i) => i.workspace))].sort();
  for (const name of names) await store.authorizeWorkspaceAdmin(name, operator, `${action} (it covers every workspace, "${name}" among them)`);
}

/**
 * The installations of `app` in an existing workspace, whatever their status (the run log and the
 * data of an uninstalled app stay); a ConfigError that lists the workspace's apps when there is none.
 */
export async function requireAppInWorkspace(store: Store, workspace: string, app: string): Promise<Installation[]> {
  const name = await requireWorkspace(store, workspace);
  const installations = await store.listInstallations(name);
  const matching = installations.filter((i) => i.app === app);
  if (matching.length > 0) return matching;
  const apps = [...new Set(installations.map((i) => i.app))].sort();
  throw new ConfigError('APP_NOT_INSTALLED', `${app} was never installed in workspace "${name}"; apps there: ${listOf(apps)}.`);
}

/** The active installation of `app` in `workspace`, or a ConfigError that says what exists and how to install it. */
export async function requireInstallation(store: Store, workspace: string, app: string): Promise<Installation> {
  const name = await requireWorkspace(store, workspace);
  const installation = await store.findInstallation(name, app);
  if (!installation) {
    const active = (await store.listInstallations(name)).filter((i) => i.status === 'active').map((i) => i.app);
    // Only an app a loaded connector provides can be installed; its settings differ per connector.
    const hint = CONNECTORS.has(app)
      ? `Install it with: tributary install ${app} --workspace ${name} … (\`tributary install ${app} --help\` lists its settings)`
      : `No connector "${app}" is loaded; apps that can be installed: ${listOf([...CONNECTORS.keys()])} (\`tributary connectors\` lists them).`;
    throw new ConfigError('APP_NOT_INSTALLED', `${app} is not installed in workspace "${name}"; installed there: ${listOf(active)}.`, { hint });
  }
  return installation;
}

/** The active installations of a workspace, for commands that act on every app of it. */
export async function activeInstallations(store: Store, workspace: string): Promise<Installation[]> {
  const name = await requireWorkspace(store, workspace);
  const active = (await store.listInstallations(name)).filter((i) => i.status === 'active');
  if (active.length === 0) {
    throw new ConfigError('APP_NOT_INSTALLED', `No app is installed in workspace "${name}" (any more).`, {
      hint: `Install one with: tributary install <app> --workspace ${name} … (\`tributary connectors\` lists the apps)`,
    });
  }
  return active;
}

/**
 * Connector messages name the workspace as `<ws>` (they do not know it); the operator gets the
 * command ready to paste.
 */
export function withWorkspace(text: string, workspace: string | undefined): string {
  if (workspace === undefined || !workspaceSchema.safeParse(workspace).success) return text;
  return text.replaceAll('<ws>', workspace);
}
