import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigError, configFieldsOf, type ConfigFieldInfo, type ConnectorDefinition, type InstallFlag } from '@tributary/core';
import { CONNECTORS } from './connectors.js';
import { readSetVariable, setVariableName, type Env } from './env.js';
import type { Io } from './io.js';
import { parseLookback } from './late-feedback.js';
import { readSecretInput, type SecretInputSpec } from './token-option.js';

// `tributary install` for any connector: its settings come from a JSON file, TRIBUTARY_SET_* variables,
// the connector's short flags and `--set key=value`, later ones overriding earlier ones; the connector's
// zod schema then validates them all at once.

type Options = Record<string, string | string[] | boolean | undefined>;

/** Commander's accumulator for a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const longOf = (flags: string) => flags.split(' ')[0]!;
const attributeOf = (flags: string) => new Option(flags).attributeName();

/** Adds every known connector's short flags to `install`; a flag two connectors share is added once. */
export function addConnectorFlags(command: Command): void {
  const seen = new Set(command.options.map((o) => o.long));
  const add = (flags: string, description: string) => {
    if (seen.has(longOf(flags))) return;
    seen.add(longOf(flags));
    command.addOption(new Option(flags, description));
  };
  for (const connector of CONNECTORS.values()) {
    for (const flag of connector.installFlags ?? []) {
      add(flag.flags, flag.description);
      if (flag.fileFlags) add(flag.fileFlags, `read ${flag.label ?? flag.field} from a file instead (keeps it out of shell history and the process list)`);
    }
  }
}

/** The config field each short flag sets, so that a validation error names what the operator typed. */
export function fieldFlags(connector: ConnectorDefinition): Record<string, string> {
  return Object.fromEntries((connector.installFlags ?? []).map((f) => [f.field, longOf(f.flags)]));
}

function textToValue(field: ConfigFieldInfo, text: string, source: string, kind?: InstallFlag['kind']): unknown {
  if (kind === 'minutes') return parseLookback(text);
  const type = kind ?? field.type;
  if (type === 'number') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new ConfigError('USAGE', `${source} must be a number, got "${text}".`);
    return n;
  }
  if (type === 'boolean') {
    if (/^(true|yes|1)$/i.test(text)) return true;
    if (/^(false|no|0)$/i.test(text)) return false;
    throw new ConfigError('USAGE', `${source} must be true or false, got "${text}".`);
  }
  if (type === 'other') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

async function readStdin(io: Pick<Io, 'stdin'>, what: string): Promise<string> {
  if (!io.stdin) throw new ConfigError('USAGE', `${what} reads standard input, which this command does not have.`);
  let text = '';
  for await (const chunk of io.stdin) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return text.trim();
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('CONFIG_FILE_UNREADABLE', `Cannot read the settings file ${path} given with --config: ${(error as Error).message}.`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('CONFIG_FILE_UNREADABLE', `The settings file ${path} given with --config must hold one JSON object, such as {"projectKey": "acme.com"}.`);
  }
  return parsed as Record<string, unknown>;
}

function fieldNamed(fields: ConfigFieldInfo[], key: string, connector: ConnectorDefinition): ConfigFieldInfo {
  const field = fields.find((f) => f.name === key);
  if (!field) {
    throw new ConfigError('USAGE', `${connector.displayName} has no setting "${key}"; its settings are ${fields.map((f) => f.name).join(', ')}.`, {
      hint: `tributary install ${connector.id} --help describes each.`,
    });
  }
  return field;
}

/** A secret given with a connector's short flag: `--token <v>`, `--token -`, `--token-file <path>` or its variable. */
async function secretFromFlag(flag: InstallFlag, options: Options, io: Pick<Io, 'stdin'>, env: Env): Promise<string | undefined> {
  const envName = flag.envName ?? setVariableName(flag.field);
  const spec: SecretInputSpec = {
    what: flag.label ?? `the ${flag.field}`,
    flag: longOf(flag.flags),
    fileFlag: longOf(flag.fileFlags!),
    envName,
    envValue: typeof (env as Record<string, unknown>)[envName] === 'string' ? ((env as Record<string, unknown>)[envName] as string) : undefined,
    stdin: io.stdin,
  };
  const value = await readSecretInput({ value: options[attributeOf(flag.flags)] as string | undefined, file: options[attributeOf(flag.fileFlags!)] as string | undefined }, spec);
  if (value === undefined) {
    throw new ConfigError('USAGE', `Give ${spec.what} with ${flag.fileFlags}, ${spec.flag} - (read from standard input) or ${envName}, or ${flag.flags}.`, {
      hint: `${flag.flags} shows ${spec.what} to every user of this machine in the process list; prefer the others.`,
    });
  }
  return value;
}

/** A short flag of another app (`--project` for an app that has none) would be ignored silently: refused instead. */
function refuseOtherAppsFlags(connector: ConnectorDefinition, options: Options): void {
  const own = new Set((connector.installFlags ?? []).flatMap((f) => [f.flags, f.fileFlags].filter((x): x is string => x !== undefined).map(longOf)));
  for (const other of CONNECTORS.values()) {
    for (const flag of (other.installFlags ?? []).flatMap((f) => [f.flags, f.fileFlags].filter((x): x is string => x !== undefined))) {
      if (own.has(longOf(flag)) || options[attributeOf(flag)] === undefined) continue;
      throw new ConfigError('USAGE', `${longOf(flag)} is a setting of ${other.id}, not of ${connector.id}.`, {
        hint: `tributary install ${connector.id} --help lists the settings of ${connector.displayName}; give them with --set <name>=<value>.`,
      });
    }
  }
}

/** The settings of an installation as given on the command line, before the connector's schema checks them. */
export async function installSettings(connector: ConnectorDefinition, options: Options, io: Pick<Io, 'stdin' | 'env'>, env: Env): Promise<Record<string, unknown>> {
  refuseOtherAppsFlags(connector, options);
  const fields = configFieldsOf(connector);
  const input: Record<string, unknown> = typeof options.config === 'string' ? readConfigFile(options.config) : {};
  for (const field of fields) {
    const text = readSetVariable(io.env, field.name);
    if (text !== undefined) input[field.name] = textToValue(field, text, setVariableName(field.name));
  }
  const sets = ((options.set as string[] | undefined) ?? []).map((entry) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ConfigError('USAGE', `--set takes key=value, key=@file or key=-, got "${entry.includes('=') ? entry : entry.slice(0, 40)}".`);
    return { field: fieldNamed(fields, entry.slice(0, eq).trim(), connector), value: entry.slice(eq + 1) };
  });
  for (const flag of connector.installFlags ?? []) {
    const field = fieldNamed(fields, flag.field, connector);
    if (field.secret && flag.fileFlags) {
      const given = options[attributeOf(flag.flags)] !== undefined || options[attributeOf(flag.fileFlags)] !== undefined;
      // Given another way (--set, the file, TRIBUTARY_SET_*): the short flag's own fallbacks are not needed.
      if (!given && (input[flag.field] !== undefined || sets.some((s) => s.field.name === flag.field))) continue;
      input[flag.field] = await secretFromFlag(flag, options, io, env);
      continue;
    }
    const raw = options[attributeOf(flag.flags)];
    if (raw === undefined) continue;
    input[flag.field] = flag.kind === 'boolean' ? raw === true : textToValue(field, String(raw), longOf(flag.flags), flag.kind);
  }
  for (const { field, value } of sets) {
    const source = `--set ${field.name}`;
    let text = value;
    if (value === '-') text = await readStdin(io, source);
    else if (value.startsWith('@')) {
      try {
        text = readFileSync(value.slice(1), 'utf8').trim();
      } catch (error) {
        throw new ConfigError('SECRET_FILE_UNREADABLE', `Cannot read the file ${value.slice(1)} given with ${source}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
      }
    }
    input[field.name] = textToValue(field, text, source);
  }
  return input;
}

/** The app a `tributary install … --help` names, when it names a known one. */
export function helpAppIn(argv: readonly string[]): string | undefined {
  if (argv[0] !== 'install') return undefined;
  return argv.slice(1).find((arg) => !arg.startsWith('-') && CONNECTORS.has(arg));
}

/** The settings of an app for `tributary install <app> --help`, or how to see them. */
export function appFieldsHelp(app: string | undefined): string {
  if (app === undefined) return `\nEach app has its own settings: \`tributary install <app> --help\` lists them (apps: ${[...CONNECTORS.keys()].join(', ')}).`;
  const connector = CONNECTORS.get(app)!;
  const lines = [``, `Settings of ${connector.displayName} (${connector.id} ${connector.version}), each also --set <name>=<value>:`];
  for (const field of configFieldsOf(connector)) {
    const notes = [
      field.required ? 'required' : 'optional',
      ...(field.default !== undefined ? [`default ${JSON.stringify(field.default)}`] : []),
      ...(field.flag ? [`flag ${field.flag}`] : []),
      ...(field.secret ? [`secret: give it with --set ${field.name}=@file, --set ${field.name}=- (standard input) or ${setVariableName(field.name)}`] : []),
    ];
    lines.push(`  ${field.name} (${field.type === 'other' ? 'JSON' : field.type})${field.description ? `: ${field.description}` : ''}`, `      ${notes.join('; ')}`);
  }
  return lines.join('\n');
}
