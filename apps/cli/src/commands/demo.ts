import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { startSandbox } from '@tributary/closealert-sandbox';
import type { DestinationStore } from '@tributary/core';
import { deliverDue, fileDestination } from '@tributary/runner';
import { destinationFor } from '../connectors.js';
import { withContext } from '../context.js';
import { CommandFailed } from '../exit-codes.js';
import { formatRun } from '../format.js';
import { println, type Io } from '../io.js';
import { installApp } from './install.js';
import { createProfile, runProfile } from './profiles.js';
import { syncNow } from './sync.js';

const DEMO_WORKSPACE = 'demo';

/**
 * The whole journey in one command: a local CloseAlert with seeded feedback, the app installed into
 * an embedded SQLite store, a 90-day backfill, an hourly run that picks up new feedback (and sets a
 * malformed record aside), the run log with what landed, and the manual's two example profiles.
 */
export async function runDemo(io: Io, options: { database: string; responses: number }): Promise<void> {
  const dbPath = resolve(options.database);
  for (const suffix of ['', '-wal', '-shm', '-journal']) if (existsSync(dbPath + suffix)) rmSync(dbPath + suffix);
  const sandbox = await startSandbox({ responses: options.responses, spanDays: 120, seed: 42 });
  const env = { ...io.env, TRIBUTARY_DATABASE_URL: `sqlite:${dbPath}` };
  try {
    println(io.stdout, `1. A local CloseAlert sandbox is serving ${options.responses} responses at ${sandbox.url}`);
    await withContext({ ...io, env }, async (ctx) => {
      println(io.stdout, `2. Installing the CloseAlert app into workspace "${DEMO_WORKSPACE}" (SQLite: ${dbPath})`);
      await installApp(ctx, 'closealert', {
        workspace: DEMO_WORKSPACE,
        project: sandbox.projectKey,
        token: sandbox.token,
        apiUrl: sandbox.url,
        backfillDays: '90',
      });
      println(io.stdout, '\n3. First sync: backfilling 90 days of feedback');
      const backfill = await syncNow(ctx, DEMO_WORKSPACE, 'closealert');
      println(io.stdout, formatRun(backfill, { maxCustomers: 5 }));

      println(io.stdout, '\n4. An hour later: new feedback arrives (one record is malformed) and the next sync picks it up');
      sandbox.addResponses(12);
      sandbox.injectFault({ kind: 'bad-record', index: 0 });
      const hourly = await syncNow(ctx, DEMO_WORKSPACE, 'closealert');
      println(io.stdout, formatRun(hourly, { maxCustomers: 12 }));

      const store = await ctx.store();
      const installation = await store.findInstallation(DEMO_WORKSPACE, 'closealert');
      if (!installation) throw new CommandFailed('The demo installation disappeared.');
      const counts = await store.countRows(installation.id);
      println(io.stdout, '\n5. What landed in the data model:');
      for (const [table, count] of Object.entries(counts)) println(io.stdout, `   ${table.padEnd(32)} ${count} rows`);
      if (backfill.status !== 'succeeded' || hourly.status !== 'succeeded') throw new CommandFailed('A demo sync failed.');

      // ---- Profiles (step 6) ----
      const [firstForm] = await store.listFeedbackForms(DEMO_WORKSPACE);
      if (!firstForm) throw new CommandFailed('The demo synced no forms.');
      println(io.stdout, `\n6. Profiles: everyone of the past ten days who scored question 1 of form ${firstForm.id} (${firstForm.name ?? 'unnamed'}) with 1, or below 3`);
      await createProfile(ctx, 'Unhappy last 10 days', {
        workspace: DEMO_WORKSPACE,
        form: String(firstForm.id),
        question: '1',
        score: ['=1', '<3'],
        within: '10d',
        description: 'Keep out of the newsletter for a while',
      });
      await runProfile(ctx, 'Unhappy last 10 days', { workspace: DEMO_WORKSPACE, format: 'table', record: true, maxRows: 5 });
      println(io.stdout, '\n   ...and everyone who gave a 5');
      await createProfile(ctx, 'Gave a 5', { workspace: DEMO_WORKSPACE, score: ['=5'], description: 'Surprise campaign' });
      await runProfile(ctx, 'Gave a 5', { workspace: DEMO_WORKSPACE, format: 'table', record: true, maxRows: 5 });

      // ---- Destinations (step 7) ----
      const drop = join(dirname(dbPath), 'tributary-demo-drop');
      rmSync(drop, { recursive: true, force: true });
      println(io.stdout, `\n7. Activation: "Unhappy last 10 days" sends who enters and who leaves to a file drop in ${drop}`);
      const destinations = store as typeof store & DestinationStore;
      await destinations.addDestination(
        { workspace: DEMO_WORKSPACE, name: 'newsletter-suppression', type: 'file', kind: 'push', snapshot: true, config: fileDestination.configSchema.parse({ directory: drop, format: 'csv' }), secretFields: [] },
        new Date(),
      );
      await destinations.activateProfile(DEMO_WORKSPACE, 'Unhappy last 10 days', 'newsletter-suppression', new Date());
      // The runner does this after every sync and every hour; the demo delivers once, now.
      const delivered = await deliverDue({ store: destinations, destinationFor, logger: ctx.logger });
      for (const file of readdirSync(drop).filter((name) => !name.startsWith('.')).sort()) println(io.stdout, `   ${join(drop, file)}`);
      println(io.stdout, `   ${delivered.delivered} batch(es) delivered: a changes file per batch, and the members file that each batch replaces.`);
    });
    println(io.stdout, `\nRead the log again with: TRIBUTARY_DATABASE_URL=sqlite:${dbPath} npx tributary logs --workspace ${DEMO_WORKSPACE}`);
    println(io.stdout, `Export a profile with:   TRIBUTARY_DATABASE_URL=sqlite:${dbPath} npx tributary profiles run "Gave a 5" --workspace ${DEMO_WORKSPACE} --format csv`);
  } finally {
    await sandbox.close();
  }
}

/** Registers `tributary demo`. */
export function registerDemo(program: Command, io: Io): void {
  program
    .command('demo')
    .description('run the whole journey locally: sandbox CloseAlert, install, backfill, hourly sync, run log')
    .option('--database <path>', 'SQLite file for the demo (recreated)', './.tributary/demo.db')
    .option('--responses <n>', 'responses in the sandbox', '3000')
    .action(async (options: { database: string; responses: string }) => {
      await runDemo(io, { database: options.database, responses: Number(options.responses) });
    });
}
