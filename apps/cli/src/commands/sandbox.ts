import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, parseUserInput } from '@tributary/core';
import { println, type Io } from '../io.js';

const sandboxOptionsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  responses: z.coerce.number().int().min(0).max(5_000_000),
  seed: z.coerce.number().int(),
  spanDays: z.coerce.number().int().min(1).max(3650),
});
type SandboxCommandOptions = z.infer<typeof sandboxOptionsSchema>;

/** The sources a local sandbox exists for; each starts, prints how to install against it, and stops on shutdown. */
const SOURCES: Record<string, (io: Io, options: SandboxCommandOptions) => Promise<() => Promise<void>>> = {
  async closealert(io, options) {
    // Loaded with the command, not at start-up: `tributary --help` needs no sandbox.
    const { startSandbox } = await import('@tributary/closealert-sandbox');
    const sandbox = await startSandbox(options);
    println(io.stdout, `CloseAlert sandbox listening with ${options.responses} responses.`);
    println(io.stdout, `  base URL:    ${sandbox.url}`);
    println(io.stdout, `  project key: ${sandbox.projectKey}`);
    println(io.stdout, `  token:       ${sandbox.token}`);
    println(io.stdout, '');
    println(io.stdout, `Try: tributary install closealert --workspace acme --project ${sandbox.projectKey} --api-url ${sandbox.url} --token <token above>`);
    return () => sandbox.close();
  },
  async typeform(io, options) {
    const { startSandbox: startTypeformSandbox } = await import('@tributary/typeform-sandbox');
    const sandbox = await startTypeformSandbox(options);
    println(io.stdout, `Typeform sandbox listening with ${options.responses} responses on ${sandbox.forms().length} forms.`);
    println(io.stdout, `  base URL:    ${sandbox.url}`);
    println(io.stdout, `  token:       ${sandbox.token}`);
    println(io.stdout, `  forms:       ${sandbox.forms().map((form) => form.id).join(', ')}`);
    println(io.stdout, '');
    println(io.stdout, `Try: tributary install typeform --workspace acme --api-url ${sandbox.url} --token <token above>`);
    return () => sandbox.close();
  },
};

/** Registers `tributary sandbox [source]`: a local source API for trying Tributary out. */
export function registerSandbox(program: Command, io: Io): void {
  program
    .command('sandbox')
    .description(`start a local source API with seeded feedback, for trying Tributary without an account (sources: ${Object.keys(SOURCES).join(', ')})`)
    .argument('[source]', `which source: ${Object.keys(SOURCES).join(' or ')}`, 'closealert')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '4010')
    .option('--responses <n>', 'how many responses to generate', '5000')
    .option('--seed <n>', 'seed of the generated data', '42')
    .option('--span-days <n>', 'the responses spread over this many past days', '365')
    .action(async (source: string, raw: Record<string, string>) => {
      const start = SOURCES[source];
      if (!start) throw new ConfigError('USAGE', `There is no sandbox for "${source}"; sandboxes exist for: ${Object.keys(SOURCES).join(', ')}.`);
      const options = parseUserInput(sandboxOptionsSchema, raw, 'sandbox options', { port: '--port', responses: '--responses', seed: '--seed', spanDays: '--span-days' });
      const close = await start(io, options);
      println(io.stdout, 'Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => io.onShutdown?.(() => resolve()));
      await close();
    });
}
