import { z } from 'zod';
import { ConfigError, parseUserInput, type Installation, type Store } from '@tributary/core';

/** Workspace names appear in commands, logs and file names; keep them simple. */
export const workspaceSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must start with a letter or digit and hold only letters, digits, _ . -');

/** The active installation of `app` in `workspace`, or a ConfigError that says how to install it. */
export async function requireInstallation(store: Store, workspace: string, app: string): Promise<Installation> {
  const name = parseUserInput(workspaceSchema, workspace, 'workspace');
  const installation = await store.findInstallation(name, app);
  if (!installation) {
    throw new ConfigError('APP_NOT_INSTALLED', `${app} is not installed in workspace "${name}".`, {
      hint: `Install it with: tributary install ${app} --workspace ${name} --project <key> --token <jwt>`,
    });
  }
  return installation;
}
