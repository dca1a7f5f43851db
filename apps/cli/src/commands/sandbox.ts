import type { Command } from 'commander';
import { z } from 'zod';
import { parseUserInput } from '@tributary/core';
import { startSandbox } from '@tributary/closealert-sandbox';
import { println, type Io } from '../io.js';

const sandboxOptionsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  responses: z.coerce.number().int().min(0).max(5_000_000),
  seed: z.coerce.number().int(),
  spanDays: z.coerce.number().int().min(1).max(3650),
});

/** Registers `tributary sandbox`: a local CloseAlert for trying Tributary out. */
export function registerSandbox(program: Command, io: Io): void {
  program
    .command('sandbox')
    .description('start a local CloseAlert API with seeded feedback, for trying Tributary without an account')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '4010')
    .option('--responses <n>', 'how many responses to generate', '5000')
    .option('--seed <n>', 'seed of the generated data', '42')
    .option('--span-days <n>', 'the responses spread over this many past days', '365')
    .action(async (raw: Record<string, string>) => {
      const options = parseUserInput(sandboxOptionsSchema, raw, 'sandbox options', { port: '--port', responses: '--responses', seed: '--seed', spanDays: '--span-days' });
      const sandbox = await startSandbox(options);
      println(io.stdout, `CloseAlert sandbox listening with ${options.responses} responses.`);
      println(io.stdout, `  base URL:    ${sandbox.url}`);
      println(io.stdout, `  project key: ${sandbox.projectKey}`);
      println(io.stdout, `  token:       ${sandbox.token}`);
      println(io.stdout, '');
      println(
        io.stdout,
        `Try: tributary install closealert --workspace acme --project ${sandbox.projectKey} --api-url ${sandbox.url} --token <token above>`,
      );
      println(io.stdout, 'Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => io.onShutdown?.(() => resolve()));
      await sandbox.close();
    });
}
