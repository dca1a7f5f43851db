import { parseUserInput, silentLogger } from '@tributary/core';
import { Invoices } from './billing.js';
import { AuditLog } from './audit.js';
import { openDatabase } from './database.js';
import { Destinations } from './destinations/destinations.js';
import { queueBatches } from './destinations/outbox.js';
import { dialectFor } from './dialect.js';
import { Identities } from './identity.js';
import { InstallationReads } from './installation-reads.js';
import { Installations } from './installations.js';
import { Jobs } from './jobs.js';
import { PersonalData } from './personal-data.js';
import { Profiles } from './profiles/repository.js';
import { StoredRows } from './remap.js';
import { RunLog } from './run-log.js';
import { RunRecovery } from './run-recovery.js';
import { Runs } from './runs.js';
import { Scheduling } from './scheduling.js';
import { SecretRotation } from './secret-rotation.js';
import { TypeOrmStoreImpl } from './store.js';
import { optionsSchema, type StoreOptions } from './store-options.js';
import { SyncWrites } from './sync-writes.js';
import type { TypeOrmStore } from './typeorm-store.js';
import { parseDatabaseUrl } from './url.js';
import { WorkspaceAdmins } from './workspace-admins.js';

// The store's factory: the options checked, the database opened, and the store's parts built and
// wired together before the façade (store.ts) is handed them.

/**
 * Connects to the database named by `options.url` and returns the store. Tables are not touched
 * until {@link Store.migrate}. A bad URL is a ConfigError naming the accepted forms; an unreachable
 * database is a StorageError naming the database (never its password).
 */
export async function createStore(options: StoreOptions): Promise<TypeOrmStore> {
  const target = parseDatabaseUrl(options.url);
  const parsed = parseUserInput(optionsSchema, { ...options, url: undefined }, 'store options');
  const logger = (parsed.logger ?? silentLogger()).child({ component: 'store' });
  const dialect = dialectFor({ dialect: target.dialect, schema: parsed.schema, tablePrefix: parsed.tablePrefix });
  const db = await openDatabase({
    target,
    dialect,
    logger,
    ...(parsed.poolSize ? { poolSize: parsed.poolSize } : {}),
    ...(parsed.create === false ? { create: false } : {}),
  });
  const cipher = parsed.cipher;
  const workspaceAdmins = new WorkspaceAdmins(db, logger);
  const installations = new Installations(db, cipher, logger, workspaceAdmins);
  const installationReads = new InstallationReads(db, cipher);
  const runs = new Runs(db);
  const runLog = new RunLog(db);
  // ---- Profiles ----
  // A recorded evaluation queues its batches for the profile's destinations in its own transaction.
  const profiles = new Profiles(db, logger, async (tx, recorded) => {
    await queueBatches(
      tx,
      db.dialect,
      {
        profileId: recorded.profileId,
        workspace: recorded.workspace,
        profile: recorded.name,
        reason: 'evaluation',
        evaluationId: recorded.evaluationId,
        evaluatedAt: recorded.evaluatedAt,
        entered: recorded.entered,
        left: recorded.left,
        members: recorded.members,
      },
      recorded.evaluatedAt,
    );
  });
  // ---- App lifecycle ----
  const storedRows = new StoredRows(db, installations);
  const invoices = new Invoices(db);
  const destinations = new Destinations(db, cipher, logger);
  const secretRotation = new SecretRotation(db, cipher, destinations);
  // ---- Scheduling (runner) ----
  const scheduling = new Scheduling(db);
  // ---- Identity ----
  const identities = new Identities(db);
  const auditLog = new AuditLog(db);
  // ---- Personal data ----
  const personalData = new PersonalData(db, destinations);
  // ---- Jobs ----
  const jobs = new Jobs(db);
  const syncWrites = new SyncWrites(db, logger, installations);
  const runRecovery = new RunRecovery(db, logger, runs, runLog, installationReads, scheduling, jobs);
  return new TypeOrmStoreImpl(
    db,
    workspaceAdmins,
    installations,
    installationReads,
    runs,
    runLog,
    syncWrites,
    runRecovery,
    profiles,
    storedRows,
    invoices,
    secretRotation,
    scheduling,
    identities,
    auditLog,
    destinations,
    personalData,
    jobs,
  );
}
