import {
  ConfigError,
  silentLogger,
  type BillingSettings,
  type ConnectorDefinition,
  type CustomerTableLink,
  type Installation,
  type InstallationStore,
  type AppDataStore,
  type Logger,
} from '@tributary/core';

// Installing an app, shared by `tributary install` and the HTTP API: the connection check runs before
// anything is saved, and data kept by an earlier uninstall of the same source is reattached.

/** What {@link installConnector} needs. */
export interface InstallConnectorOptions {
  store: InstallationStore & AppDataStore;
  connector: ConnectorDefinition;
  workspace: string;
  /** Settings already validated by the connector's schema, secrets included. */
  config: Record<string, unknown>;
  customerTable?: CustomerTableLink | undefined;
  billing: BillingSettings;
  /** Days responses and raw records are kept; left out, they are kept until deleted. */
  retentionDays?: number;
  /** Who installs; see `NewInstallation.actor`. */
  actor?: string;
  now?: () => Date;
  logger?: Logger;
  signal?: AbortSignal;
}

/** What installing did. */
export interface InstallConnectorResult {
  installation: Installation;
  /** The connection check's notes, for the operator. */
  notes: string[];
  /** Set when the data of an earlier installation was reattached: the rows it holds. */
  reattachedRows?: number;
  /** The earlier installation whose data was reattached. */
  reattached?: Installation;
  /** Earlier installations of other sources whose kept data stays apart. */
  apart: Installation[];
}

/** The connector's config without its secret fields. */
export function settingsWithoutSecrets(
  connector: Pick<ConnectorDefinition, 'secrets'>,
  config: Record<string, unknown>,
): Record<string, unknown> {
  const secrets = new Set(connector.secrets);
  return Object.fromEntries(Object.entries(config).filter(([key]) => !secrets.has(key)));
}

/** What names the source an installation reads (the connector says, else its non-secret settings), as comparable text. */
export function sourceIdentityOf(connector: ConnectorDefinition, config: Record<string, unknown>): string {
  if (connector.sourceIdentity) return JSON.stringify(connector.sourceIdentity(config));
  return JSON.stringify(
    Object.entries(settingsWithoutSecrets(connector, config)).sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Checks the settings against the source, then saves the installation and provisions its tables in one step. */
export async function installConnector(options: InstallConnectorOptions): Promise<InstallConnectorResult> {
  const { store, connector, workspace, config } = options;
  const existing = await store.findInstallation(workspace, connector.id);
  if (existing) {
    throw new ConfigError(
      'APP_ALREADY_INSTALLED',
      `${connector.displayName} is already installed in workspace "${workspace}".`,
      {
        hint: `Replace its token with \`tributary app token --workspace ${workspace} ${connector.id} --token-file <file>\`, or uninstall it first.`,
      },
    );
  }
  const now = options.now?.() ?? new Date();
  const check = await connector.check({
    config,
    now,
    logger: options.logger ?? silentLogger(),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  // An earlier installation whose data was kept is reattached (same id, rows, checkpoint), but only
  // when it read the same source: another project's checkpoint would skip this one's history.
  const keptData = (await store.listInstallations(workspace))
    .filter((i) => i.app === connector.id && i.status === 'uninstalled' && i.purgedAt === undefined)
    .sort((a, b) => (b.uninstalledAt?.getTime() ?? 0) - (a.uninstalledAt?.getTime() ?? 0));
  const identity = sourceIdentityOf(connector, config);
  const kept = keptData.find((i) => sourceIdentityOf(connector, i.config) === identity);
  const installation = await store.install({
    workspace,
    app: connector.id,
    config,
    secretFields: connector.secrets,
    mappings: [...connector.defaultMappings],
    dataModel: connector.dataModel,
    customerTable: options.customerTable,
    billing: options.billing,
    ...(options.actor !== undefined ? { actor: options.actor } : {}),
    connectorVersion: connector.version,
    reattach: kept?.id ?? null,
    ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }),
  });
  const reattached = kept !== undefined && installation.id === kept.id;
  const result: InstallConnectorResult = {
    installation,
    notes: check.notes,
    apart: keptData.filter((i) => i.id !== installation.id),
  };
  if (reattached) {
    result.reattached = kept;
    result.reattachedRows = Object.values(await store.countRows(installation.id)).reduce((n, c) => n + c, 0);
  }
  return result;
}
