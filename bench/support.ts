import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A sandbox running in a child process. */
export interface SandboxProcess {
  url: string;
  token: string;
  projectKey: string;
  /** The instant the sandbox treats as now; a backfill reads up to it. */
  now: Date;
  stop(): Promise<void>;
}

/** Starts a sandbox with `responses` responses spread over `spanDays` days in a child process. */
export async function startSandboxProcess(responses: number, spanDays: number): Promise<SandboxProcess> {
  const now = new Date('2026-06-01T00:00:00Z');
  const script = fileURLToPath(new URL('./sandbox-process.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, String(responses), String(spanDays), now.toISOString()], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sandbox process exited with ${code}`)));
  });
  const info = JSON.parse(line) as { url: string; token: string; projectKey: string };
  return {
    ...info,
    now,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      await exited;
    },
  };
}

/** Samples this process's RSS every few milliseconds and reports the peak. */
export function trackPeakRss(intervalMs = 20): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** Megabytes with one decimal. */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
