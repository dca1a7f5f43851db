// Runs a CloseAlert sandbox in its own process, so that benchmarks measure Tributary's process alone
// (its CPU and its RSS) and not the server generating and serving the data.
import { startSandbox } from '@tributary/closealert-sandbox';

const responses = Number(process.argv[2] ?? '100000');
const spanDays = Number(process.argv[3] ?? '365');
const now = new Date(process.argv[4] ?? '2026-06-01T00:00:00Z');
const sandbox = await startSandbox({
  responses,
  spanDays,
  seed: 7,
  now: () => now,
  rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
});
process.stdout.write(`${JSON.stringify({ url: sandbox.url, token: sandbox.token, projectKey: sandbox.projectKey })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void sandbox.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void sandbox.close().then(() => process.exit(0)));
