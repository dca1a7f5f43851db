// Starts runner-process.ts in a child process and talks to it (tests and benchmarks only).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunnerEvent } from '../runner.js';

const SCRIPT = fileURLToPath(new URL('./runner-process.ts', import.meta.url));

/** A simulated clock shared by processes on one machine: `simBase` at wall-clock time `wallBase`, then running. */
export interface SharedClock {
  simBase: number;
  wallBase: number;
}

/** Settings of a runner child process (see runner-process.ts). */
export interface RunnerProcessSettings {
  /** Where the process writes a CPU profile when it exits (the benchmark's BENCH_RUNNER_CPU_PROF). */
  cpuProfileDir?: string;
  url: string;
  secretKey: string;
  clock?: SharedClock;
  concurrency: number;
  tickMs: number;
  pollIntervalMs: number;
  expireInSeconds: number;
  heartbeatSeconds?: number;
  dedupeWindowSeconds: number;
  maintenanceIntervalSeconds: number;
  retryDelaySeconds?: number;
  poolSize?: number;
  slotsOnTheHour?: boolean;
  noopSync?: boolean;
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug';
}

export interface RunnerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every event the runner reported, in order. */
  readonly events: RunnerEvent[];
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stopped: boolean; stderr: string }>;
  setClock(clock: SharedClock): void;
}

/** Starts a runner process and resolves once its runner has started (and ticked once). */
export async function spawnRunnerProcess(settings: RunnerProcessSettings): Promise<RunnerProcess> {
  // A flag of the process itself: NODE_OPTIONS refuses --cpu-prof.
  const { cpuProfileDir, ...forChild } = settings;
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', SCRIPT], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const events: RunnerEvent[] = [];
  let stderr = '';
  let stopped = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (settings.logLevel && settings.logLevel !== 'silent') process.stderr.write(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stopped: boolean; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stopped, stderr })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: { type: string; event?: RunnerEvent }) => {
      if (message.type === 'ready') resolve();
      if (message.type === 'stopped') stopped = true;
      if (message.type === 'event' && message.event) events.push(message.event);
    });
    void exited.then(({ code, signal }) => reject(new Error(`runner process exited (${code ?? signal}) before it was ready: ${stderr}`)));
  });
  child.send({ type: 'init', ...forChild });
  await ready;
  return {
    pid: child.pid!,
    child,
    events,
    exited,
    setClock(clock) {
      if (child.connected) child.send({ type: 'clock', clock });
    },
  };
}
