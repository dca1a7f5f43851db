import type { Command } from 'commander';
import type { Io } from '../io.js';
import { registerDemo } from './demo.js';
import { registerInstall } from './install.js';
import { registerLogs } from './logs.js';
import { registerSandbox } from './sandbox.js';
import { registerSync } from './sync.js';

/** Adds every sub-command to the program. */
export function registerCommands(program: Command, io: Io): void {
  registerDemo(program, io);
  registerInstall(program, io);
  registerSync(program, io);
  registerLogs(program, io);
  registerSandbox(program, io);
}
