// Runs a Typeform sandbox in its own process, so that the benchmark measures Tributary's process
// alone (its CPU and its RSS) and not the server generating and serving the data.
import { startSandbox } from '@tributary/typeform-sandbox';

const responses = Number(process.argv[2] ?? '200000');
const now = new Date(process.argv[3] ?? '2026-06-01T00:00:00Z');
// Typeform's own limit is on the client here (2 requests/s); the bucket only has to let the
// unthrottled measurement through.
const sandbox = await startSandbox({ responses, forms: 4, spanDays: 365, seed: 7, now: () => now, rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 } });
process.stdout.write(`${JSON.stringify({ url: sandbox.url, token: sandbox.token })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void sandbox.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void sandbox.close().then(() => process.exit(0)));
