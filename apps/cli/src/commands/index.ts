import type { Command } from 'commander';
import type { Io } from '../io.js';
import { registerDemo } from './demo.js';
import { registerInstall } from './install.js';
import { registerConnectors } from './connectors.js';
import { registerLogs } from './logs.js';
import { registerSandbox } from './sandbox.js';
import { registerSync } from './sync.js';
// ---- App lifecycle ----
import { registerApps } from './apps.js';
import { registerApp } from './app.js';
import { registerDoctor } from './doctor.js';
import { registerSecrets } from './secrets.js';
import { registerMappings } from './mappings.js';
import { registerRemap } from './remap.js';
import { registerInvoices } from './invoices.js';
import { registerUninstall } from './uninstall.js';
import { registerWorkspace } from './workspace.js';
// ---- Scheduling ----
import { registerRunner } from './runner.js';
// ---- Profiles ----
import { registerProfiles } from './profiles.js';
import { registerActivation, registerDestinations } from './destinations.js';
// ---- Database ----
import { registerMigrate } from './migrate.js';
// ---- Identity: users, API keys, audit log ----
import { registerUsers } from './users.js';
import { registerApiKeys } from './api-keys.js';
import { registerAudit } from './audit.js';
// ---- Personal data ----
import { registerCustomers } from './customers.js';
// ---- HTTP API ----
import { registerServe } from './serve.js';

/** Adds every sub-command to the program. */
export function registerCommands(program: Command, io: Io, argv: readonly string[] = []): void {
  registerDemo(program, io);
  registerInstall(program, io, argv);
  registerConnectors(program, io);
  registerSync(program, io);
  registerLogs(program, io);
  registerSandbox(program, io);
  // ---- App lifecycle ----
  registerApps(program, io);
  registerApp(program, io);
  registerMappings(program, io);
  registerRemap(program, io);
  registerInvoices(program, io);
  registerUninstall(program, io);
  registerWorkspace(program, io);
  registerSecrets(program, io);
  registerDoctor(program, io);
  // ---- Scheduling ----
  registerRunner(program, io);
  // ---- Profiles ----
  registerProfiles(program, io);
  registerActivation(program, io);
  registerDestinations(program, io);
  // ---- Database ----
  registerMigrate(program, io);
  // ---- Identity: users, API keys, audit log ----
  registerUsers(program, io);
  registerApiKeys(program, io);
  registerAudit(program, io);
  // ---- Personal data ----
  registerCustomers(program, io);
  // ---- HTTP API ----
  registerServe(program, io);
}
