import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { typeformConnector } from '@tributary/connector-typeform';
import { ConfigError, isConnector, isDestination, isTributaryError, type ConnectorDefinition, type DestinationDefinition, type Installation } from '@tributary/core';
import { fileDestination, viewDestination, webhookDestination } from '@tributary/runner/definitions';
import { z } from 'zod';

/** A connector this process knows, and where it came from. */
export interface KnownConnector {
  connector: ConnectorDefinition;
  /** The package name or path it was loaded from. */
  package: string;
  builtIn: boolean;
}

// The one list of connectors that ship with Tributary; every other one is discovered at start-up.
const BUILT_IN: readonly KnownConnector[] = [
  { connector: closeAlertConnector as unknown as ConnectorDefinition, package: '@tributary/connector-closealert', builtIn: true },
  { connector: typeformConnector as unknown as ConnectorDefinition, package: '@tributary/connector-typeform', builtIn: true },
];

const known = new Map<string, KnownConnector>(BUILT_IN.map((k) => [k.connector.id, k]));
const connectors = new Map<string, ConnectorDefinition>(BUILT_IN.map((k) => [k.connector.id, k.connector]));

// Destinations are found the same way: built in, or a module whose default export is one.
const BUILT_IN_DESTINATIONS: readonly DestinationDefinition[] = [webhookDestination, fileDestination, viewDestination] as unknown as DestinationDefinition[];
const destinations = new Map<string, { destination: DestinationDefinition; package: string; builtIn: boolean }>();
const resetDestinations = () => {
  destinations.clear();
  for (const d of BUILT_IN_DESTINATIONS) destinations.set(d.id, { destination: d, package: '@tributary/runner', builtIn: true });
};
resetDestinations();

/** Every known destination type with its origin. */
export function knownDestinations(): { destination: DestinationDefinition; package: string; builtIn: boolean }[] {
  return [...destinations.values()];
}

/** The destination type of an id, or undefined. */
export function destinationFor(id: string): DestinationDefinition | undefined {
  return destinations.get(id)?.destination;
}

/** Finds a destination type, or explains which ones exist. */
export function destinationById(id: string): DestinationDefinition {
  const destination = destinationFor(id);
  if (!destination) {
    throw new ConfigError('DESTINATION_UNKNOWN', `There is no destination type "${id}".`, {
      hint: `Known types: ${[...destinations.keys()].join(', ')}. One from another package is found when TRIBUTARY_CONNECTORS or the "connectors" list of tributary.config.json names it.`,
    });
  }
  return destination;
}

/** The connectors this process knows, by id: the built-in ones and those {@link loadConnectors} found. */
export const CONNECTORS: ReadonlyMap<string, ConnectorDefinition> = connectors;

/** Every known connector with its origin, in the order they were found. */
export function knownConnectors(): KnownConnector[] {
  return [...known.values()];
}

/** Finds a connector, or explains which ones exist. */
export function connectorById(id: string): ConnectorDefinition {
  const connector = CONNECTORS.get(id);
  if (!connector) {
    throw new ConfigError('APP_UNKNOWN', `There is no app "${id}".`, {
      hint: `Known apps: ${[...CONNECTORS.keys()].join(', ')}. An app from another package is found when TRIBUTARY_CONNECTORS or the "connectors" list of tributary.config.json names it.`,
    });
  }
  return connector;
}

/**
 * The connector of an installation, or a ConfigError for the operator when its package is not
 * loaded: it was installed through TRIBUTARY_CONNECTORS or the config file, which no longer name it.
 */
export function connectorOf(installation: Pick<Installation, 'workspace' | 'app'> & { connectorVersion?: string | undefined }): ConnectorDefinition {
  const connector = CONNECTORS.get(installation.app);
  if (connector) return connector;
  const version = installation.connectorVersion ? ` (installed with version ${installation.connectorVersion})` : '';
  throw new ConfigError('CONNECTOR_MISSING', `${installation.workspace}/${installation.app} cannot run: no connector "${installation.app}"${version} is loaded in this Tributary.`, {
    hint: `Name its package in TRIBUTARY_CONNECTORS (or the "connectors" list of tributary.config.json) so that \`tributary connectors\` lists it, then run the command again; or remove the app with \`tributary uninstall ${installation.app} --workspace ${installation.workspace}\`.`,
  });
}

/** The file `tributary.config.json` of the working directory, or the one TRIBUTARY_CONFIG names. */
const configFileSchema = z.object({ connectors: z.array(z.string().trim().min(1)).default([]) });

/** Where the connectors come from: the environment variable, then the config file. */
export interface ConnectorSources {
  /** TRIBUTARY_CONNECTORS: comma-separated package names or paths. */
  list?: string | undefined;
  /** TRIBUTARY_CONFIG, else tributary.config.json in `cwd` when it exists. */
  configFile?: string | undefined;
  cwd: string;
}

function readConfigFile(path: string, explicit: boolean): { specs: string[]; base: string } {
  if (!existsSync(path)) {
    if (explicit) throw new ConfigError('CONFIG_FILE_UNREADABLE', `TRIBUTARY_CONFIG names ${path}, which does not exist.`, { hint: 'Fix the path or unset TRIBUTARY_CONFIG.' });
    return { specs: [], base: dirname(path) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('CONFIG_FILE_UNREADABLE', `Cannot read the config file ${path}: ${(error as Error).message}.`, { cause: error, hint: 'It must be JSON such as {"connectors": ["my-connector"]}.' });
  }
  const result = configFileSchema.safeParse(parsed);
  if (!result.success) {
    throw new ConfigError('CONFIG_FILE_UNREADABLE', `The config file ${path} is not of the form {"connectors": ["package-or-path", …]}.`, { cause: result.error });
  }
  // Paths in the file are relative to the file, as in package.json.
  return { specs: result.data.connectors, base: dirname(path) };
}

const isPath = (spec: string) => spec.startsWith('.') || isAbsolute(spec) || spec.includes('\\');

/** The entry file of a package directory: its `exports` "." (import or default), else `main`, else index.js. */
function entryOfDirectory(dir: string): string {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return join(dir, 'index.js');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; main?: string };
  let entry: unknown = pkg.exports;
  if (entry && typeof entry === 'object' && '.' in entry) entry = (entry as Record<string, unknown>)['.'];
  while (entry && typeof entry === 'object') {
    const conditions = entry as Record<string, unknown>;
    entry = conditions.import ?? conditions.default ?? conditions.node;
  }
  return join(dir, typeof entry === 'string' ? entry : (pkg.main ?? 'index.js'));
}

/** What `import()` gets for a spec: a file URL for paths and packages under `base`, else the bare name. */
function importTarget(spec: string, base: string): string {
  if (isPath(spec)) {
    const path = resolve(base, spec);
    return pathToFileURL(existsSync(path) && statSync(path).isDirectory() ? entryOfDirectory(path) : path).href;
  }
  // A package installed beside the project (node_modules of the working directory or above).
  for (let dir = resolve(base); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', spec);
    // Its real path, as Node's own resolution gives: a linked package is the same module however it is reached.
    if (existsSync(candidate)) return pathToFileURL(realpathSync(entryOfDirectory(candidate))).href;
    if (dirname(dir) === dir) return spec;
  }
}

let typeScriptLoader: Promise<void> | undefined;

/**
 * Imports a connector's module. One written in TypeScript, as `tributary connectors new` writes it,
 * needs no build step: when Node cannot load a `.ts` file itself (the compiled CLI), tsx's loader is
 * registered, once, and the import is tried again. The source CLI already runs under tsx.
 */
async function importConnectorModule(target: string): Promise<{ default?: unknown }> {
  try {
    return (await import(target)) as { default?: unknown };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    typeScriptLoader ??= import('tsx/esm/api').then(({ register }) => void register());
    await typeScriptLoader;
    // Node remembers the failed import of this URL; the same file under another URL is loaded anew.
    return (await import(`${target}${target.includes('?') ? '&' : '?'}typescript`)) as { default?: unknown };
  }
}

async function loadOne(spec: string, base: string): Promise<ConnectorDefinition | DestinationDefinition> {
  let module: { default?: unknown };
  try {
    module = await importConnectorModule(importTarget(spec, base));
  } catch (error) {
    if (isTributaryError(error)) {
      throw new ConfigError('CONNECTOR_INVALID', `The connector "${spec}" refused to load: ${error.message}`, { cause: error, hint: 'Its author must fix it; remove it from TRIBUTARY_CONNECTORS or the config file meanwhile.' });
    }
    throw new ConfigError('CONNECTOR_NOT_LOADED', `Cannot load the connector "${spec}": ${(error as Error).message ?? String(error)}`, {
      cause: error,
      hint: 'Check the name or path in TRIBUTARY_CONNECTORS or the "connectors" list of the config file, and that the package is installed.',
    });
  }
  if (isDestination(module.default)) return module.default;
  if (!isConnector(module.default)) {
    throw new ConfigError('CONNECTOR_INVALID', `The module "${spec}" is not a connector: its default export must be the result of defineConnector() (or, for a destination, defineDestination()).`, {
      hint: 'Export it as `export default defineConnector({ … })`, or remove it from TRIBUTARY_CONNECTORS or the config file.',
    });
  }
  return module.default;
}

/**
 * Sets the known connectors to the built-in ones plus those the environment and the config file
 * name, loaded with `import()`. A module that cannot be loaded, or whose default export is not a
 * connector, is a ConfigError naming it.
 */
export async function loadConnectors(sources: ConnectorSources): Promise<void> {
  known.clear();
  connectors.clear();
  resetDestinations();
  for (const k of BUILT_IN) {
    known.set(k.connector.id, k);
    connectors.set(k.connector.id, k.connector);
  }
  const wanted: { spec: string; base: string }[] = (sources.list ?? '')
    .split(',')
    .map((spec) => spec.trim())
    .filter(Boolean)
    .map((spec) => ({ spec, base: sources.cwd }));
  const file = sources.configFile === undefined ? readConfigFile(join(sources.cwd, 'tributary.config.json'), false) : readConfigFile(resolve(sources.cwd, sources.configFile), true);
  wanted.push(...file.specs.map((spec) => ({ spec, base: file.base })));
  for (const { spec, base } of wanted) {
    const loaded = await loadOne(spec, base);
    if (isDestination(loaded)) {
      const same = destinations.get(loaded.id);
      if (same && same.package === spec) continue;
      if (same) throw new ConfigError('CONNECTOR_DUPLICATE', `Two destinations have the id "${loaded.id}": ${same.package} and ${spec}.`, { hint: 'Name only one of them.' });
      destinations.set(loaded.id, { destination: loaded, package: spec, builtIn: false });
      continue;
    }
    const connector = loaded;
    const already = known.get(connector.id);
    if (already) {
      if (already.package === spec) continue;
      throw new ConfigError('CONNECTOR_DUPLICATE', `Two connectors have the id "${connector.id}": ${already.package} and ${spec}.`, { hint: 'Name only one of them.' });
    }
    known.set(connector.id, { connector, package: spec, builtIn: false });
    connectors.set(connector.id, connector);
  }
}

/** Every secret field of every known connector, for log redaction. */
export function knownSecretFields(): string[] {
  return [...new Set([...[...CONNECTORS.values()].flatMap((c) => [...c.secrets]), ...[...destinations.values()].flatMap((d) => [...d.destination.secrets])])];
}

export { settingsWithoutSecrets } from '@tributary/runner/definitions';
