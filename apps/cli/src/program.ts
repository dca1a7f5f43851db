import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { loadConnectors } from './connectors.js';
import { readConnectorSources } from './env.js';
import { describeFailure, exitCodeFor, EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import { registerCommands } from './commands/index.js';
import { withWorkspace } from './workspace.js';

const packageJson = createRequire(import.meta.url)('../package.json') as { version: string };

/** Builds the `tributary` command tree. */
export function buildProgram(io: Io, argv: readonly string[] = []): Command {
  const program = new Command('tributary')
    .description('Tributary pulls feedback from the apps you install into your database every hour and builds profiles on it.')
    .version(packageJson.version, '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  registerCommands(program, io, argv);
  return program;
}

/**
 * Runs the CLI and returns its exit code. Every failure is caught here, once, and turned into a
 * message and an exit code; nothing below this function decides how the process ends.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    // Before the command line is parsed: an app's install flags and help come from its connector.
    const sources = readConnectorSources(io.env);
    await loadConnectors({ list: sources.TRIBUTARY_CONNECTORS, configFile: sources.TRIBUTARY_CONFIG, cwd: process.cwd() });
  } catch (error) {
    io.stderr.write(`${describeFailure(error)}\n`);
    return exitCodeFor(error);
  }
  const program = buildProgram(io, argv);
  // Bare `tributary` asked for nothing wrong: the help goes to stdout, where `| less` finds it.
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.ok;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) return EXIT.ok;
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`${withWorkspace(describeFailure(error), workspaceIn(argv))}\n`);
    return exitCodeFor(error);
  }
}

/** The `--workspace` a command was given, so that a hint can name it instead of `<ws>`. */
function workspaceIn(argv: readonly string[]): string | undefined {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--workspace') return argv[i + 1];
    if (arg.startsWith('--workspace=')) return arg.slice('--workspace='.length);
  }
  return undefined;
}
