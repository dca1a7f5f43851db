// `npm run chaos`: runners under churn, as an operator runs production (never part of `npm test`).
//
// 1. Start rounds: R `tributary runner --distributed` processes start at the same instant on a fresh
//    PostgreSQL database, each must start and stop on SIGTERM; repeated on a fresh database each round.
// 2. Churn: K installations against a sandbox (its own process), R distributed runners, one of them
//    killed at random (SIGKILL or SIGTERM) every 5-20 s and replaced, for N minutes, with installs
//    and uninstalls (`tributary install|uninstall`) in between. Then every runner gets SIGTERM once
//    the active installations are synced.
// It asserts: every sandbox response of each active installation stored exactly once and no orphan
// answer; no two runs of one installation at once; every run cut short resumed by another runner
// within the limit (2 minutes); every SIGTERMed runner gone within 15 s; every command exits 0 and
// no process prints "internal error". Prints a summary; exits 1 on any violation.
//
// Flags (or CHAOS_* environment variables): --installations 30 --runners 4 --minutes 3
// --installs 10 --uninstalls 3 --start-rounds 10 --responses 15000 --resume-limit 120 --settle 300
// --sigterm-limit 15 --latency-ms 300 (the sandbox's answer time) --page-size 100
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { createPostgresTestDatabase } from '@tributary/testing';
import { keyIdOf } from '../apps/cli/src/secret-key.js';
import { runCli, sleep, spawnCli, startChaosSandbox, waitForOutput, type CliProcess } from './chaos-processes.js';
import { checkData, findCutRuns, waitForResumes, type Cut } from './chaos-checks.js';

const { values: flags } = parseArgs({
  options: Object.fromEntries(
    ['installations', 'runners', 'minutes', 'installs', 'uninstalls', 'start-rounds', 'responses', 'resume-limit', 'settle', 'sigterm-limit', 'latency-ms', 'page-size'].map(
      (name) => [name, { type: 'string' as const }],
    ),
  ),
});
const setting = (name: string, fallback: number) => flags[name] ?? process.env[`CHAOS_${name.toUpperCase().replace('-', '_')}`] ?? fallback;
const params = z
  .object({
    installations: z.coerce.number().int().min(1).max(500),
    runners: z.coerce.number().int().min(1).max(16),
    minutes: z.coerce.number().positive().max(120),
    installs: z.coerce.number().int().min(0),
    uninstalls: z.coerce.number().int().min(0),
    startRounds: z.coerce.number().int().min(0),
    responses: z.coerce.number().int().min(1),
    resumeLimit: z.coerce.number().positive(),
    settle: z.coerce.number().positive(),
    sigtermLimit: z.coerce.number().positive(),
    latencyMs: z.coerce.number().int().min(0).max(30_000),
    pageSize: z.coerce.number().int().min(1).max(250),
  })
  .parse({
    installations: setting('installations', 30),
    runners: setting('runners', 4),
    minutes: setting('minutes', 3),
    installs: setting('installs', 10),
    uninstalls: setting('uninstalls', 3),
    startRounds: setting('start-rounds', 10),
    responses: setting('responses', 15_000),
    resumeLimit: setting('resume-limit', 120),
    settle: setting('settle', 300),
    sigtermLimit: setting('sigterm-limit', 15),
    latencyMs: setting('latency-ms', 300),
    pageSize: setting('page-size', 100),
  });

const violations: string[] = [];
const violation = (text: string) => {
  violations.push(text);
  console.log(`VIOLATION ${text}`);
};
const log = (text: string) => console.log(`${new Date().toISOString()}  ${text}`);
const secretKey = randomBytes(32);
const baseEnv = (url: string) => ({ TRIBUTARY_DATABASE_URL: url, TRIBUTARY_SECRET_KEY: secretKey.toString('base64'), TRIBUTARY_USER: 'chaos', LOG_LEVEL: 'warn' });
const everyProcess: CliProcess[] = [];
const sigtermSeconds: number[] = [];
let stoppedWhileStarting = 0;

function startRunner(url: string, name: string): CliProcess {
  const runner = spawnCli(name, ['runner', '--distributed'], baseEnv(url));
  everyProcess.push(runner);
  void runner.exited.then((exit) => {
    if (!runner.signalled) violation(`${name} exited by itself (${exit.code ?? exit.signal}): ${runner.output().slice(-500)}`);
  });
  return runner;
}

/** SIGTERM, then the process must be gone within the limit (else SIGKILL); resolves with its exit. */
async function terminate(runner: CliProcess) {
  runner.signalled = { signal: 'SIGTERM', at: Date.now() };
  runner.child.kill('SIGTERM');
  const limit = sleep(params.sigtermLimit * 1000).then(() => undefined);
  const exit = await Promise.race([runner.exited, limit]);
  if (!exit) {
    violation(`${runner.name} still ran ${params.sigtermLimit} s after SIGTERM`);
    runner.child.kill('SIGKILL');
    return runner.exited;
  }
  sigtermSeconds.push((exit.at - runner.signalled.at) / 1000);
  // Before it started (loading, migrating) a runner has nothing to stop: the signal ends it at once.
  const starting = exit.signal === 'SIGTERM' && !/Runner started/.test(runner.output());
  if (starting) stoppedWhileStarting += 1;
  if (exit.code !== 0 && !starting) violation(`${runner.name} exited ${exit.code ?? exit.signal} after SIGTERM: ${runner.output().slice(-500)}`);
  return exit;
}

async function startRounds(): Promise<void> {
  for (let round = 1; round <= params.startRounds; round++) {
    const db = await createPostgresTestDatabase(`chaos-start-${round}`);
    if (!db) throw new Error('PostgreSQL is unreachable: the chaos test needs it (TEST_POSTGRES_URL).');
    try {
      const runners = Array.from({ length: params.runners }, (_, i) => startRunner(db.url, `start-round-${round}-runner-${i + 1}`));
      const started = await Promise.all(runners.map((r) => waitForOutput(r, /Runner started/, 90_000)));
      started.forEach((ok, i) => ok || violation(`start round ${round}: runner ${i + 1} did not start: ${runners[i]!.output().slice(-500)}`));
      await Promise.all(runners.map((r) => terminate(r)));
      log(`start round ${round}: ${started.filter(Boolean).length}/${params.runners} runners started at the same instant and stopped`);
    } finally {
      await db.drop();
    }
  }
}

async function churn() {
  const db = await createPostgresTestDatabase('chaos');
  if (!db) throw new Error('PostgreSQL is unreachable: the chaos test needs it (TEST_POSTGRES_URL).');
  const sandbox = await startChaosSandbox(params.responses, 20, params.latencyMs);
  const client = new pg.Pool({ connectionString: db.url, max: 4 });
  const runners = new Set<CliProcess>();
  const cuts: Cut[] = [];
  const counts = { sigkill: 0, sigterm: 0, installs: 0, uninstalls: 0 };
  let serial = 0;
  try {
    const keyId = keyIdOf(secretKey);
    const store = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { [keyId]: secretKey }, currentKeyId: keyId }) });
    await store.migrate();
    const config = closeAlertConnector.configSchema.parse({ projectKey: sandbox.projectKey, apiToken: sandbox.token, baseUrl: sandbox.url, backfillDays: 30, pageSize: params.pageSize });
    for (let i = 0; i < params.installations; i++) {
      await store.install({
        workspace: `chaos-${String(i).padStart(3, '0')}`,
        app: 'closealert',
        config: config as Record<string, unknown>,
        secretFields: closeAlertConnector.secrets,
        mappings: [...closeAlertConnector.defaultMappings],
        dataModel: closeAlertConnector.dataModel,
        actor: 'chaos',
      });
    }
    await store.close();
    log(`${params.installations} installations, ${sandbox.responseIds.length} responses each; ${params.runners} runners start at once`);

    const spawnRunner = () => {
      const runner = startRunner(db.url, `runner-${++serial}`);
      runners.add(runner);
      void runner.exited.then(() => runners.delete(runner));
    };
    for (let i = 0; i < params.runners; i++) spawnRunner();

    const began = Date.now();
    const end = began + params.minutes * 60_000;
    const known = new Set<string>();
    const afterExit = async (runner: CliProcess, signal: 'SIGKILL' | 'SIGTERM') => {
      const exit = signal === 'SIGTERM' ? await terminate(runner) : await runner.exited;
      cuts.push(...(await findCutRuns(client, runner, exit.at, known)));
    };
    const pendingExits: Promise<void>[] = [];
    const killer = (async () => {
      while (Date.now() < end) {
        await sleep(5_000 + Math.random() * 15_000);
        if (Date.now() >= end) break;
        const candidates = [...runners].filter((r) => !r.signalled);
        const victim = candidates[Math.floor(Math.random() * candidates.length)];
        if (!victim) continue;
        const signal = Math.random() < 0.5 ? 'SIGKILL' : 'SIGTERM';
        if (signal === 'SIGKILL') {
          counts.sigkill += 1;
          victim.signalled = { signal, at: Date.now() };
          victim.child.kill(signal);
        } else {
          counts.sigterm += 1;
        }
        log(`${signal} ${victim.name}`);
        pendingExits.push(afterExit(victim, signal));
        spawnRunner();
      }
    })();

    const operator = (async () => {
      const steps = params.installs + params.uninstalls;
      const env = baseEnv(db.url);
      let purge = false;
      for (let step = 0; step < steps; step++) {
        await sleep(Math.max(0, began + ((step + 0.5) * params.minutes * 60_000) / steps - Date.now()));
        // Uninstalls spread among the installs: every (installs / uninstalls)-th step.
        const uninstall = params.uninstalls > 0 && step % Math.max(2, Math.round(steps / params.uninstalls)) === 1 && counts.uninstalls < params.uninstalls;
        if (uninstall || counts.installs >= params.installs) {
          const { rows } = await client.query<{ name: string }>(
            `SELECT w.name FROM tributary.installations i JOIN tributary.workspaces w ON w.id = i.workspace_id WHERE i.status = 'active' ORDER BY random() LIMIT 1`,
          );
          const workspace = rows[0]?.name;
          if (!workspace) continue;
          purge = !purge;
          const result = await runCli(`uninstall ${workspace}`, ['uninstall', 'closealert', '--workspace', workspace, ...(purge ? ['--purge'] : [])], env);
          counts.uninstalls += 1;
          log(`uninstall ${workspace}${purge ? ' --purge' : ''}: exit ${result.code}`);
          if (result.code !== 0) violation(`uninstall ${workspace} exited ${result.code}: ${result.output.slice(-500)}`);
          if (/internal error/i.test(result.output)) violation(`uninstall ${workspace} printed "internal error"`);
        } else {
          const workspace = `chaos-new-${String(counts.installs).padStart(3, '0')}`;
          const args = ['install', 'closealert', '--workspace', workspace, '--project', sandbox.projectKey, '--token', sandbox.token];
          const result = await runCli(`install ${workspace}`, [...args, '--api-url', sandbox.url, '--backfill-days', '30', '--page-size', String(params.pageSize)], env);
          counts.installs += 1;
          log(`install ${workspace}: exit ${result.code}`);
          if (result.code !== 0) violation(`install ${workspace} exited ${result.code}: ${result.output.slice(-500)}`);
          if (/internal error/i.test(result.output)) violation(`install ${workspace} printed "internal error"`);
        }
      }
    })();
    await Promise.all([killer, operator]);
    await Promise.all(pendingExits);
    log(`churn over after ${Math.round((Date.now() - began) / 1000)} s; waiting for every active installation to be synced`);

    const settled = await settle(client, sandbox.responseIds.length);
    if (!settled) violation(`not every active installation was synced within ${params.settle} s after the churn`);
    const resumed = await waitForResumes(client, cuts, params.resumeLimit);
    log(`${resumed.resumed} of ${cuts.length} runs cut short were resumed; stopping every runner`);
    // Runs the final stop cuts short are not resumed any more: they are left out of the checks.
    const finalStop = Date.now();
    await Promise.all([...runners].map((runner) => afterExit(runner, 'SIGTERM')));

    const data = await checkData(client, {
      expectedIds: sandbox.responseIds,
      expectedAnswers: sandbox.answers,
      cuts,
      finalStopAt: finalStop,
      resumeLimitSeconds: params.resumeLimit,
    });
    data.violations.forEach(violation);
    for (const process of everyProcess) if (/internal error/i.test(process.output())) violation(`${process.name} printed "internal error"`);
    return { counts, cuts: cuts.length, ...data.summary };
  } finally {
    for (const runner of runners) runner.child.kill('SIGKILL');
    await client.end().catch(() => undefined);
    await sandbox.stop();
    await db.drop();
  }
}

/** Waits until every active installation stored every response and no run is left to resume. */
async function settle(client: pg.Pool, expected: number): Promise<boolean> {
  const until = Date.now() + params.settle * 1000;
  while (Date.now() < until) {
    const { rows } = await client.query<{ behind: number }>(
      `SELECT count(*)::int AS behind FROM tributary.installations i
        WHERE i.status = 'active'
          AND (SELECT count(*) FROM tributary.closealert_form_responses r WHERE r.installation_id = i.id) < $1`,
      [expected],
    );
    if (rows[0]!.behind === 0) return true;
    await sleep(2_000);
  }
  return false;
}

const started = Date.now();
log(`chaos: ${JSON.stringify(params)}`);
await startRounds();
const summary = await churn();
const terms = sigtermSeconds.length > 0 ? Math.max(...sigtermSeconds) : 0;
console.log(
  JSON.stringify({
    chaos: violations.length === 0 ? 'passed' : 'FAILED',
    seconds: Math.round((Date.now() - started) / 1000),
    startRounds: params.startRounds,
    runnersPerStart: params.runners,
    ...summary,
    sigtermsMeasured: sigtermSeconds.length,
    sigtermedWhileStarting: stoppedWhileStarting,
    slowestSigtermExitSeconds: Number(terms.toFixed(1)),
    violations: violations.length,
  }),
);
for (const text of violations) console.log(`  - ${text}`);
process.exitCode = violations.length === 0 ? 0 : 1;
