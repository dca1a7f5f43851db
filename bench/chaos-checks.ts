// What the chaos test checks, read from the database the runners wrote (never from what they report).
import type pg from 'pg';
import type { CliProcess } from './chaos-processes.js';
import { sleep } from './chaos-processes.js';

/** A run cut short by a signal to its runner. */
export interface Cut {
  runId: string;
  installationId: string;
  /** When its run lock was released: the SIGKILL, or the end of the run a SIGTERM stopped. */
  at: number;
  signal: 'SIGKILL' | 'SIGTERM';
}

// The run lock is a session advisory lock on hashtextextended('tributary:<schema>:run:<id>', 0);
// pg_locks shows a bigint key as its high (classid) and low (objid) 32 bits.
const RUN_LOCK_HELD = `EXISTS (
  SELECT 1 FROM pg_locks l
   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid::bigint = ((hashtextextended('tributary:tributary:run:' || r.installation_id, 0) >> 32) & 4294967295)
     AND l.objid::bigint = (hashtextextended('tributary:tributary:run:' || r.installation_id, 0) & 4294967295))`;

/**
 * The runs a runner that just exited left cut short: runs without an end whose run lock nobody
 * holds (a live runner holds the lock of each run it makes), and the runs its own output reports
 * INTERRUPTED (a SIGTERM stops a run between pages and closes it).
 */
export async function findCutRuns(client: pg.Pool, runner: CliProcess, exitAt: number, known: Set<string>): Promise<Cut[]> {
  const signal = runner.signalled?.signal ?? 'SIGTERM';
  const cuts: Cut[] = [];
  const { rows: orphans } = await client.query<{ id: string; installation_id: string }>(
    `SELECT r.id, r.installation_id FROM tributary.runs r WHERE r.finished_at IS NULL AND NOT ${RUN_LOCK_HELD}`,
  );
  for (const run of orphans) {
    if (known.has(run.id)) continue;
    known.add(run.id);
    cuts.push({ runId: run.id, installationId: run.installation_id, at: signal === 'SIGKILL' ? runner.signalled!.at : exitAt, signal });
  }
  for (const match of runner.output().matchAll(/^(\S+) {2}(\S+)\/closealert {2}INTERRUPTED/gm)) {
    const printedAt = new Date(match[1]!);
    const { rows } = await client.query<{ id: string; installation_id: string; finished_at: Date }>(
      `SELECT r.id, r.installation_id, r.finished_at FROM tributary.runs r
         JOIN tributary.installations i ON i.id = r.installation_id JOIN tributary.workspaces w ON w.id = i.workspace_id
        WHERE w.name = $1 AND r.finished_at IS NOT NULL AND r.finished_at <= $2
        ORDER BY r.finished_at DESC LIMIT 1`,
      [match[2], printedAt],
    );
    const run = rows[0];
    if (!run || known.has(run.id)) continue;
    known.add(run.id);
    cuts.push({ runId: run.id, installationId: run.installation_id, at: run.finished_at.getTime(), signal: 'SIGTERM' });
  }
  return cuts;
}

interface RunRow {
  id: string;
  installation_id: string;
  started_at: Date;
  finished_at: Date | null;
}

/** The run that resumed each cut: the installation's first run that started after the cut run. */
async function resumptions(client: pg.Pool, cuts: readonly Cut[]) {
  const { rows } = await client.query<RunRow & { active: boolean }>(
    `SELECT r.id, r.installation_id, r.started_at, r.finished_at, i.status = 'active' AS active
       FROM tributary.runs r JOIN tributary.installations i ON i.id = r.installation_id ORDER BY r.started_at`,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return cuts.map((cut) => {
    const cutRun = byId.get(cut.runId);
    const next = rows.find((r) => r.installation_id === cut.installationId && cutRun && r.started_at > cutRun.started_at && r.id !== cut.runId);
    const active = rows.find((r) => r.installation_id === cut.installationId)?.active ?? false;
    return { cut, next, active, delaySeconds: next ? Math.max(0, next.started_at.getTime() - cut.at) / 1000 : undefined };
  });
}

/** Waits until every cut is resumed, or its time to be resumed has passed. */
export async function waitForResumes(client: pg.Pool, cuts: readonly Cut[], limitSeconds: number): Promise<{ resumed: number }> {
  for (;;) {
    const list = await resumptions(client, cuts);
    const waiting = list.filter((r) => !r.next && r.active && Date.now() < r.cut.at + limitSeconds * 1000);
    if (waiting.length === 0) return { resumed: list.filter((r) => r.next).length };
    await sleep(1_000);
  }
}

/** Exactly-once, no orphan answers, no overlapping runs, every cut resumed in time. */
export async function checkData(
  client: pg.Pool,
  input: { expectedIds: number[]; expectedAnswers: number; cuts: readonly Cut[]; finalStopAt: number; resumeLimitSeconds: number },
) {
  const violations: string[] = [];
  const { rows: stored } = await client.query<{ workspace: string; n: number; distinct: number; known: number; answers: number }>(
    `SELECT w.name AS workspace,
            (SELECT count(*)::int FROM tributary.closealert_form_responses r WHERE r.installation_id = i.id) AS n,
            (SELECT count(DISTINCT r.response_id)::int FROM tributary.closealert_form_responses r WHERE r.installation_id = i.id) AS distinct,
            (SELECT count(*)::int FROM tributary.closealert_form_responses r WHERE r.installation_id = i.id AND r.response_id = ANY($1::bigint[])) AS known,
            (SELECT count(*)::int FROM tributary.closealert_answers a WHERE a.installation_id = i.id) AS answers
       FROM tributary.installations i JOIN tributary.workspaces w ON w.id = i.workspace_id
      WHERE i.status = 'active' ORDER BY w.name`,
    [input.expectedIds],
  );
  const expected = input.expectedIds.length;
  for (const row of stored) {
    if (row.n !== expected || row.distinct !== expected || row.known !== expected) {
      violations.push(`${row.workspace}: ${row.n} rows, ${row.distinct} distinct, ${row.known} of the sandbox's ${expected} responses`);
    }
    if (row.answers !== input.expectedAnswers) violations.push(`${row.workspace}: ${row.answers} answers, the sandbox has ${input.expectedAnswers}`);
  }
  const { rows: orphans } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM tributary.closealert_answers a
      WHERE NOT EXISTS (SELECT 1 FROM tributary.closealert_form_responses r WHERE r.installation_id = a.installation_id AND r.response_id = a.response_id)`,
  );
  if (orphans[0]!.n > 0) violations.push(`${orphans[0]!.n} answers without their response`);

  const { rows: runs } = await client.query<RunRow>('SELECT id, installation_id, started_at, finished_at FROM tributary.runs ORDER BY started_at');
  const cutAt = new Map(input.cuts.map((c) => [c.runId, c.at]));
  const last = new Map<string, RunRow>();
  let overlaps = 0;
  for (const run of runs) {
    const end = (r: RunRow) => r.finished_at?.getTime() ?? cutAt.get(r.id);
    if (end(run) === undefined) violations.push(`run ${run.id} never ended and no signal explains it`);
    const previous = last.get(run.installation_id);
    const previousEnd = previous ? end(previous) : undefined;
    if (previous && previousEnd !== undefined && run.started_at.getTime() < previousEnd) {
      overlaps += 1;
      violations.push(`runs ${previous.id} and ${run.id} of installation ${run.installation_id} overlap`);
    }
    last.set(run.installation_id, run);
  }

  const checked = (await resumptions(client, input.cuts)).filter((r) => r.cut.at < input.finalStopAt);
  const delays: number[] = [];
  for (const r of checked) {
    if (r.delaySeconds !== undefined) delays.push(r.delaySeconds);
    if (r.delaySeconds === undefined && r.active) violations.push(`run ${r.cut.runId} (${r.cut.signal}) was never resumed`);
    else if (r.delaySeconds !== undefined && r.delaySeconds > input.resumeLimitSeconds) {
      violations.push(`run ${r.cut.runId} (${r.cut.signal}) resumed after ${r.delaySeconds.toFixed(1)} s`);
    }
  }
  const answers = stored.reduce((n, row) => n + row.answers, 0);
  return {
    violations,
    summary: {
      activeInstallations: stored.length,
      responsesStored: stored.reduce((n, row) => n + row.n, 0),
      responsesExpected: stored.length * expected,
      answersStored: answers,
      orphanAnswers: orphans[0]!.n,
      runs: runs.length,
      overlappingRuns: overlaps,
      runsCutShort: checked.length,
      resumed: delays.length,
      /** Cut short, then uninstalled before another runner took it: nothing to resume. */
      uninstalledBeforeResume: checked.filter((r) => r.delaySeconds === undefined && !r.active).length,
      slowestResumeSeconds: delays.length > 0 ? Number(Math.max(...delays).toFixed(1)) : 0,
    },
  };
}
