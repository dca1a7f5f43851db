import { closeAlertConnector } from '@tributary/connector-closealert';
import { ConfigError, type ConnectorDefinition } from '@tributary/core';

/** The connectors this build of Tributary knows, by id. */
export const CONNECTORS: ReadonlyMap<string, ConnectorDefinition> = new Map<string, ConnectorDefinition>([
  [closeAlertConnector.id, closeAlertConnector as unknown as ConnectorDefinition],
]);

/** Finds a connector, or explains which ones exist. */
export function connectorById(id: string): ConnectorDefinition {
  const connector = CONNECTORS.get(id);
  if (!connector) {
    throw new ConfigError('APP_UNKNOWN', `There is no app "${id}".`, { hint: `Known apps: ${[...CONNECTORS.keys()].join(', ')}.` });
  }
  return connector;
}
