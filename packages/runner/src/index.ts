export { runSync, type RunSyncOptions, type SyncResult, type SyncProgress } from './run-sync.js';
// ---- App lifecycle: billing and remapping ----
export {
  produceInvoices,
  invoicesDue,
  duePeriods,
  monthsSince,
  type ProduceInvoicesOptions,
  type BilledApp,
  type BillingPeriod,
  type DuePeriodsInput,
} from './billing.js';
export { remapStoredRecords, rawRecordColumn, type RemapOptions, type RemapResult } from './remap.js';
// ---- Scheduling: hourly syncs, embedded or distributed ----
export {
  createRunner,
  type Runner,
  type RunnerOptions,
  type RunnerEvent,
  type RunnerTimers,
  type PeriodicTask,
} from './runner.js';
export type { JobQueue, JobHandler, JobOutcome, SyncJob, LocalQueueCounts } from './queue.js';
export { createEmbeddedQueue, type EmbeddedQueue, type EmbeddedQueueOptions } from './embedded-queue.js';
export {
  createPgBossQueue,
  readQueueStatus,
  DEFAULT_BOSS_SCHEMA,
  SYNC_QUEUE,
  type PgBossQueue,
  type PgBossQueueOptions,
  type QueueStatus,
  type QueueJob,
} from './pgboss-queue.js';
export {
  DEFAULT_SCHEDULE_POLICY,
  HOUR_MS,
  jitterOffsetMs,
  nextSlotAfter,
  isDue,
  nextRunOf,
  backoffDelayMs,
  scheduleAfterRun,
  type SchedulePolicy,
  type RunReport,
} from './schedule.js';
export { readScheduleStatus, type InstallationScheduleStatus } from './status.js';
// ---- App lifecycle: installing ----
export {
  installConnector,
  settingsWithoutSecrets,
  sourceIdentityOf,
  type InstallConnectorOptions,
  type InstallConnectorResult,
} from './install.js';
