import { StorageError, describeIssues, type Installation } from '@tributary/core';
import { storedCustomerTable } from './customer-table.js';
import type { InstallationRow, InstallationSecretRow } from './entities.js';
import { storedDataModel, storedMappingsSchema } from './installation-checks.js';
import { billingOf } from './lifecycle.js';
import type { SecretCipher } from './secrets.js';

// An installation's config as stored: plain settings in its row, each secret sealed in a row of its
// own, bound to that row; and an installation put back together from them.

/** Binds a sealed secret to its row: a value copied to another installation or field does not open. */
export function secretContext(installationId: string, name: string): string {
  return `tributary:installation:${installationId}:${name}`;
}

/** Splits a config into its plain settings and the values of its secret fields. */
export function splitConfig(config: Record<string, unknown>, secretFields: readonly string[]) {
  const plain: Record<string, unknown> = {};
  const secrets: [string, unknown][] = [];
  const secretNames = new Set(secretFields);
  for (const [name, value] of Object.entries(config)) {
    if (!secretNames.has(name)) plain[name] = value;
    else if (value !== undefined) secrets.push([name, value]);
  }
  return { plain, secrets };
}

/** Seals each secret of an installation for its own row and field. */
export function sealSecrets(cipher: SecretCipher, installationId: string, secrets: readonly [string, unknown][], now: Date): InstallationSecretRow[] {
  return secrets.map(([name, value]) => ({
    installationId,
    name,
    // JSON keeps a secret's type: a numeric PIN comes back as a number.
    ...cipher.encrypt(JSON.stringify(value), secretContext(installationId, name)),
    updatedAt: now,
  }));
}

/**
 * An installation from its row, its secrets opened into its config. `tolerant` (listing) leaves a
 * secret that cannot be opened out of the config and says why in `secretError`, so that one
 * installation sealed with a missing key does not hide the others.
 */
export function openInstallation(cipher: SecretCipher, row: InstallationRow, workspace: string, secrets: readonly InstallationSecretRow[], tolerant = false): Installation {
  const what = `Installation ${row.id}`;
  const mappings = storedMappingsSchema.safeParse(row.mappings);
  if (!mappings.success) throw new StorageError('STORE_DATA_INVALID', `${what} holds invalid mappings: ${describeIssues(mappings.error)}`);
  const config: Record<string, unknown> = { ...(row.config as Record<string, unknown>) };
  let secretError: string | undefined;
  for (const secret of secrets) {
    try {
      config[secret.name] = JSON.parse(cipher.decrypt(secret, secretContext(row.id, secret.name)));
    } catch (error) {
      if (!tolerant) throw error;
      secretError ??= (error as Error).message;
    }
  }
  const customerTable = storedCustomerTable(row.customerTable);
  return {
    id: row.id,
    workspace,
    app: row.app,
    status: row.status,
    config,
    mappings: mappings.data,
    dataModel: storedDataModel(row.dataModel, what),
    ...(customerTable ? { customerTable } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    ...(row.uninstalledAt ? { uninstalledAt: row.uninstalledAt } : {}),
    billing: billingOf(row),
    ...(row.purgedAt ? { purgedAt: row.purgedAt } : {}),
    ...(row.connectorVersion ? { connectorVersion: row.connectorVersion } : {}),
    ...(row.retentionDays ? { retentionDays: row.retentionDays } : {}),
    ...(secretError ? { secretError } : {}),
  };
}
