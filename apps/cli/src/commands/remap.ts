import type { Command } from 'commander';
import { z } from 'zod';
import { parseUserInput } from '@tributary/core';
import { jsonFlag, outputFor } from '../cli-options.js';
import { connectorById } from '../connectors.js';
import { withContext } from '../context.js';
import { createProgress } from '../progress.js';
import { underRunLock } from '../run-lock.js';
import type { Io } from '../io.js';
import { requireInstallation } from '../workspace.js';

const batchSchema = z.coerce.number().int().min(1).max(10_000);

/** Registers `tributary remap`. */
export function registerRemap(program: Command, io: Io): void {
  program
    .command('remap')
    .description('apply the current data mappings again to the responses already stored (from their raw copy), without calling the API')
    .argument('<app>', 'the installed app (see `tributary apps`)')
    .requiredOption('--workspace <ws>', 'workspace of the installation')
    .option('--batch-size <n>', 'responses per batch (one transaction each)', '1000')
    .addOption(jsonFlag())
    .action(async (app: string, options: { workspace: string; batchSize: string; json?: boolean }) => {
      // Loaded with the command, not at start-up: `tributary --help` needs none of the runner's drivers.
      const { remapStoredRecords } = await import('@tributary/runner');
      const batchSize = parseUserInput(batchSchema, options.batchSize, '--batch-size');
      const out = outputFor(io, options);
      await withContext(io, async (ctx) => {
        const connector = connectorById(app);
        const store = await ctx.store();
        const installation = await requireInstallation(store, options.workspace, app);
        const controller = new AbortController();
        io.onShutdown?.(() => controller.abort());
        // countRows names the physical tables (prefixed per dialect): `…closealert_form_responses`.
        const primary = `${app}_${installation.dataModel.primaryTable}`;
        const total = Object.entries(await store.countRows(installation.id)).find(([table]) => table.endsWith(primary))?.[1];
        const progress = createProgress(io, `remap ${installation.workspace}/${app}`);
        const result = await underRunLock(store, installation, () =>
          remapStoredRecords({
            store,
            installation,
            connector,
            batchSize,
            logger: ctx.logger,
            signal: controller.signal,
            onProgress: (records) => progress.update({ count: records, unit: 'responses', done: records, total, of: 'responses' }),
          }),
        ).finally(() => progress.done());
        out.say(`Remapped ${result.records} stored response(s) of ${connector.displayName} in workspace "${installation.workspace}"${result.interrupted ? ' (interrupted; run it again to finish)' : ''}.`);
        if (result.skipped > 0) out.say(`  ${result.skipped} stored row(s) have no raw copy and were left as they were.`);
        for (const [table, counts] of Object.entries(result.tables)) {
          out.say(`  ${table.padEnd(16)} ${counts.updated} changed, ${counts.inserted} new, ${counts.unchanged} unchanged`);
        }
        if (result.newContacts > 0) out.say(`  ${result.newContacts} new customer contact(s)`);
        out.result({ workspace: installation.workspace, app, ...result });
      });
    });
}
