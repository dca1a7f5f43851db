import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { DestinationStore } from '@tributary/core';
import { destinationFor } from '../connectors.js';
import { withContext } from '../context.js';
import { CommandFailed } from '../exit-codes.js';
import { formatRun } from '../format.js';
import { println, type Io } from '../io.js';
import { installApp } from './install.js';
import { serve } from './serve.js';
import { createProfile, runProfile } from './profiles.js';
import { syncNow } from './sync.js';

const DEMO_WORKSPACE = 'demo';

/**
 * The whole journey in one command: a local CloseAlert with seeded feedback, the app installed into
 * an embedded SQLite store, a 90-day backfill, an hourly run that picks up new feedback (and sets a
 * malformed record aside), a local Typeform whose respondents are partly the same customers, its app
 * installed and synced in the same workspace, what landed, and the manual's two example profiles.
 */
export async function runDemo(io: Io, options: { database: string; responses: number; serve?: string }): Promise<void> {
  // Loaded with the command, not at start-up: `tributary --help` needs neither sandbox nor the runner.
  const { startSandbox } = await import('@tributary/closealert-sandbox');
  const { startSandbox: startTypeformSandbox } = await import('@tributary/typeform-sandbox');
  const { deliverDue, fileDestination } = await import('@tributary/runner');
  const dbPath = resolve(options.database);
  for (const suffix of ['', '-wal', '-shm', '-journal']) if (existsSync(dbPath + suffix)) rmSync(dbPath + suffix);
  const sandbox = await startSandbox({ responses: options.responses, spanDays: 120, seed: 42 });
  // The same customers answer in both sources, so that one profile can span both apps.
  const customerEmails = [...new Set(sandbox.responses().flatMap((r) => (r.email ? [r.email.trim().toLowerCase()] : [])))];
  const typeform = await startTypeformSandbox({ responses: Math.ceil(options.responses / 2), forms: 2, spanDays: 120, seed: 42, customerEmails, rateLimit: { capacity: 2, refillPerSecond: 2 } });
  const env = { ...io.env, TRIBUTARY_DATABASE_URL: `sqlite:${dbPath}` };
  const signIns: string[] = [];
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

      println(io.stdout, `\n5. A second source: a local Typeform sandbox at ${typeform.url} (${typeform.responseCount()} responses, 2 requests/s), installed in the same workspace and synced`);
      await installApp(ctx, 'typeform', { workspace: DEMO_WORKSPACE, token: typeform.token, apiUrl: typeform.url, backfillDays: '90' });
      const typeformRun = await syncNow(ctx, DEMO_WORKSPACE, 'typeform');
      println(io.stdout, formatRun(typeformRun, { maxCustomers: 5 }));

      const store = await ctx.store();
      println(io.stdout, '\n   What landed in the data model:');
      for (const app of ['closealert', 'typeform']) {
        const installation = await store.findInstallation(DEMO_WORKSPACE, app);
        if (!installation) throw new CommandFailed('The demo installation disappeared.');
        for (const [table, count] of Object.entries(await store.countRows(installation.id))) println(io.stdout, `   ${table.padEnd(32)} ${count} rows`);
      }
      if (backfill.status !== 'succeeded' || hourly.status !== 'succeeded' || typeformRun.status !== 'succeeded') throw new CommandFailed('A demo sync failed.');

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
      println(io.stdout, '\n7. Across both apps: everyone who gave 6 or less anywhere in the past 30 days, once per customer (the app column says where)');
      await createProfile(ctx, 'Six or less anywhere', { workspace: DEMO_WORKSPACE, score: ['<=6'], within: '30d', description: 'Detractors in CloseAlert or Typeform' });
      await runProfile(ctx, 'Six or less anywhere', { workspace: DEMO_WORKSPACE, format: 'table', record: true, maxRows: 5 });

      // ---- Destinations (step 8) ----
      const drop = join(dirname(dbPath), 'tributary-demo-drop');
      rmSync(drop, { recursive: true, force: true });
      println(io.stdout, `\n8. Activation: "Unhappy last 10 days" sends who enters and who leaves to a file drop in ${drop}`);
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
      if (options.serve !== undefined) {
        // One administrator and one marketer with one-time passwords, printed once, to sign in to the console.
        const { createAuthService } = await import('@tributary/auth');
        const auth = createAuthService({ store, logger: ctx.logger });
        for (const role of ['admin', 'marketer'] as const) {
          const { oneTimePassword } = await auth.createUser({ email: `${role}@demo.example`, workspace: DEMO_WORKSPACE, role, actor: 'demo' });
          signIns.push(`${role}@demo.example / ${oneTimePassword ?? ''}  (${role})`);
        }
      }
    });
    println(io.stdout, `\nRead the log again with: TRIBUTARY_DATABASE_URL=sqlite:${dbPath} npx tributary logs --workspace ${DEMO_WORKSPACE}`);
    println(io.stdout, `Export a profile with:   TRIBUTARY_DATABASE_URL=sqlite:${dbPath} npx tributary profiles run "Six or less anywhere" --workspace ${DEMO_WORKSPACE} --format csv`);
    if (options.serve !== undefined) {
      println(io.stdout, `\n9. The console on the demo data (the sandboxes keep running, so "Sync now" works). Sign in with:`);
      for (const line of signIns) println(io.stdout, `   ${line}`);
      await serve({ ...io, env }, { host: '127.0.0.1', port: options.serve, bodyLimit: '1048576', withRunner: true });
    }
  } finally {
    await sandbox.close();
    await typeform.close();
  }
}

/** Registers `tributary demo`. */
export function registerDemo(program: Command, io: Io): void {
  program
    .command('demo')
    .description('run the whole journey locally: sandbox CloseAlert and Typeform, install both, backfill, hourly sync, run log, profiles')
    .option('--database <path>', 'SQLite file for the demo (recreated)', './.tributary/demo.db')
    .option('--responses <n>', 'responses in the sandbox', '3000')
    .option('--serve [port]', 'then leave the console and the API running on the demo data (port 3000 unless given) until Ctrl-C')
    .action(async (options: { database: string; responses: string; serve?: string | boolean }) => {
      const port = options.serve === undefined || options.serve === false ? undefined : options.serve === true ? '3000' : options.serve;
      await runDemo(io, { database: options.database, responses: Number(options.responses), ...(port === undefined ? {} : { serve: port }) });
    });
}
