import type { Command } from 'commander';
import { configFieldsOf } from '@tributary/core';
import { jsonFlag, outputFor } from '../cli-options.js';
import { knownConnectors } from '../connectors.js';
import type { Io } from '../io.js';
import { scaffoldConnector } from '../scaffold.js';

/** Registers `tributary connectors`: the apps this installation of Tributary can install. */
export function registerConnectors(program: Command, io: Io): void {
  const connectors = program
    .command('connectors')
    .description('list the connectors (apps) that can be installed: built-in ones and those TRIBUTARY_CONNECTORS or tributary.config.json name')
    .addOption(jsonFlag())
    .action((options: { json?: boolean }) => {
      const out = outputFor(io, options);
      const list = knownConnectors().map(({ connector, package: pkg, builtIn }) => ({
        id: connector.id,
        version: connector.version,
        displayName: connector.displayName,
        package: pkg,
        builtIn,
        streams: connector.streams.map((s) => s.name),
        config: configFieldsOf(connector),
      }));
      for (const c of list) {
        out.say(`${c.id} ${c.version}  ${c.displayName}  (${c.builtIn ? 'built in, ' : ''}${c.package})`);
        out.say(`  streams: ${c.streams.join(', ')}`);
        out.say(`  settings: ${c.config.map((f) => `${f.name}${f.required ? '' : '?'}${f.secret ? ' (secret)' : ''}`).join(', ')}`);
      }
      out.say(`Settings in detail: tributary install <app> --help`);
      out.result(list);
    });
  connectors
    .command('new <id>')
    .description('write a new connector package (config, one HTTP stream on @tributary/sdk, tables, mappings, README, a passing test)')
    .option('--dir <path>', 'where to write it (default ./tributary-connector-<id>); must be new or empty')
    .action((id: string, options: { dir?: string }, command: Command) => {
      // `--json` belongs to `connectors` itself, which commander hands the flag to wherever it stands.
      const out = outputFor(io, command.optsWithGlobals<{ json?: boolean }>());
      const written = scaffoldConnector(id, options.dir);
      out.say(`Wrote connector "${id}" to ${written.dir}: ${written.files.join(', ')}`);
      out.say(`Next: cd ${written.dir} && npm install && npm test, then TRIBUTARY_CONNECTORS=${written.dir} tributary connectors`);
      out.result(written);
    });
}
