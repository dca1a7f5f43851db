import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPILED_DIR = join(ROOT, 'bench', '.compiled');
let compiling: Promise<void> | undefined;

/**
 * Compiles benchmark scripts (`names`, files of bench/) to JavaScript in bench/.compiled, importing
 * the workspace packages' compiled builds, after `npm run build` (turbo: a no-op when current). A
 * measured worker runs that, as a user runs the compiled CLI: under tsx it would start at ~150 MB,
 * TypeScript compiled in memory, and its RSS would say more about tsx than about the backfill.
 * Returns the compiled path of each name.
 */
export async function compiledBenchScripts(names: readonly string[]): Promise<string[]> {
  compiling ??= (async () => {
    await promisify(execFile)('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: ROOT, maxBuffer: 16 << 20 });
  })();
  await compiling;
  // Loaded here only: the workers import this file too, and must not carry the compiler.
  const { default: ts } = await import('typescript');
  mkdirSync(COMPILED_DIR, { recursive: true });
  // support.ts is imported by the workers; compiling it with them keeps their relative imports working.
  for (const name of new Set([...names, 'support.ts'])) {
    const source = readFileSync(join(ROOT, 'bench', name), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: name,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: true },
    });
    writeFileSync(join(COMPILED_DIR, basename(name).replace(/\.ts$/, '.js')), outputText);
  }
  // Points `@tributary/x` imports at `@tributary/x/compiled`, as the packages' builds do.
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'compiled-imports.mjs'), COMPILED_DIR], { cwd: ROOT });
  return names.map((name) => join(COMPILED_DIR, basename(name).replace(/\.ts$/, '.js')));
}

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
