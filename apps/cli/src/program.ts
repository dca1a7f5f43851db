import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { describeFailure, exitCodeFor, EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import { registerCommands } from './commands/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as { version: string };

/** Builds the `tributary` command tree. */
export function buildProgram(io: Io): Command {
  const program = new Command('tributary')
    .description('Tributary pulls feedback from CloseAlert into your database every hour and builds profiles on it.')
    .version(packageJson.version, '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  registerCommands(program, io);
  return program;
}

/**
 * Runs the CLI and returns its exit code. Every failure is caught here, once, and turned into a
 * message and an exit code; nothing below this function decides how the process ends.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) return EXIT.ok;
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`${describeFailure(error)}\n`);
    return exitCodeFor(error);
  }
}
