import type { Command } from 'commander';
import { jsonFlag, outputFor } from '../cli-options.js';
import { withContext } from '../context.js';
import type { Io } from '../io.js';

/**
 * Registers `tributary migrate`: creates the database (SQLite) and applies pending migrations. The
 * commands that only read never do; install, sync, demo and the runner do it themselves.
 */
export function registerMigrate(program: Command, io: Io): void {
  program
    .command('migrate')
    .description("create the database or bring its schema up to date (commands that only read never change it)")
    .addOption(jsonFlag())
    .action(async (options: { json?: boolean }) => {
      await withContext(io, async (ctx) => {
        const out = outputFor(io, options);
        await ctx.store();
        const applied = ctx.appliedMigrations;
        out.say(applied.length === 0 ? 'The database is up to date: no migration to apply.' : `Applied ${applied.length} migration(s): ${applied.join(', ')}.`);
        out.result({ applied, upToDate: true });
      });
    });
}
