// Processes of the chaos test: `tributary` commands as operators run them, and the sandbox.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../apps/cli/src/bin.ts', import.meta.url));
const SANDBOX = fileURLToPath(new URL('./chaos-sandbox.ts', import.meta.url));

/** A `tributary` process: everything it printed, and how it ended. */
export interface CliProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** stdout and stderr, interleaved as they came. */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Set when the chaos signalled it. */
  signalled?: { signal: 'SIGKILL' | 'SIGTERM'; at: number };
}

export function spawnCli(name: string, args: readonly string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { name, child, startedAt: Date.now(), output: () => text, exited };
}

/** Runs a command to its end. */
export async function runCli(name: string, args: readonly string[], env: Record<string, string>) {
  const process = spawnCli(name, args, env);
  const exit = await process.exited;
  return { ...exit, output: process.output() };
}

/** Resolves true once `process` printed `pattern`, false if it exited or the time ran out first. */
export function waitForOutput(process: CliProcess, pattern: RegExp, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (pattern.test(process.output())) done(true);
    }, 50);
    const timer = setTimeout(() => done(false), timeoutMs);
    void process.exited.then(() => done(pattern.test(process.output())));
    function done(result: boolean) {
      clearInterval(check);
      clearTimeout(timer);
      resolve(result);
    }
  });
}

/** The sandbox in its own process, and what a complete sync of it stores. */
export interface ChaosSandbox {
  url: string;
  token: string;
  projectKey: string;
  responseIds: number[];
  answers: number;
  stop(): Promise<void>;
}

export async function startChaosSandbox(responses: number, spanDays: number, latencyMs: number): Promise<ChaosSandbox> {
  const args = [SANDBOX, String(responses), String(spanDays), new Date().toISOString(), String(latencyMs)];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the sandbox process exited with ${code}`)));
  });
  const info = JSON.parse(line) as Omit<ChaosSandbox, 'stop'>;
  return {
    ...info,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      await exited;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
