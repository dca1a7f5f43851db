// The chaos test's CloseAlert sandbox, in a process of its own so that it does not compete with the
// orchestrator's timers. Prints one JSON line: where it listens, and what a complete sync stores.
import { startSandbox } from '@tributary/closealert-sandbox';

const responses = Number(process.argv[2] ?? '15000');
const spanDays = Number(process.argv[3] ?? '20');
const now = new Date(process.argv[4] ?? new Date().toISOString());
const sandbox = await startSandbox({
  responses,
  spanDays,
  seed: 18,
  now: () => now,
  rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
});
// Latency of a distant API: syncs last long enough for kills to land in the middle of them,
// without costing this small machine CPU.
const latencyMs = Number(process.argv[5] ?? '0');
if (latencyMs > 0) sandbox.injectFault({ kind: 'slow', delayMs: latencyMs }, { times: Number.MAX_SAFE_INTEGER });
const all = sandbox.responses();
const answerKeys = (r: (typeof all)[number]) => new Set(r.answers.map((a) => a.question_index)).size;
process.stdout.write(
  `${JSON.stringify({
    url: sandbox.url,
    token: sandbox.token,
    projectKey: sandbox.projectKey,
    responseIds: all.map((r) => r.id),
    answers: all.reduce((n, r) => n + answerKeys(r), 0),
  })}\n`,
);
process.stdin.resume();
process.stdin.on('end', () => void sandbox.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void sandbox.close().then(() => process.exit(0)));
