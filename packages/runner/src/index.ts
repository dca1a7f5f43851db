export { runSync, type RunSyncOptions, type SyncResult, type SyncProgress } from './run-sync.js';
export { applyRetentionAfterRun } from './retention.js';
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
export { createPgBossQueue, DEFAULT_BOSS_SCHEMA, SYNC_QUEUE, type PgBossQueue, type PgBossQueueOptions } from './pgboss-queue.js';
export { readQueueStatus, type QueueStatus, type QueueJob } from './queue-status.js';
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
// ---- Profiles that act: scheduled evaluation and destinations ----
export type { ActivationOptions } from './runner.js';
export { evaluateWorkspaceProfiles, evaluationTaskName, type WorkspaceEvaluation } from './profile-evaluation.js';
export { deliverDue, deliveryBackoffMs, DEFAULT_DELIVERY_POLICY, type DeliveryPolicy, type DeliveryEvent, type DeliverDueOptions } from './deliveries.js';
export { webhookDestination } from './destinations/webhook.js';
export { fileDestination, fileNamesOf } from './destinations/file.js';
export { viewDestination } from './destinations/view.js';
export { checkFileDirectory, checkWebhookUrl, isWebhookAllowEntry, nonPublicKindOf, pinnedDispatcher, type CheckedWebhookTarget } from './destinations/limits.js';
export { writeFileAtomically, removeStaleTempFiles, isTempFile } from './destinations/atomic-file.js';
export { signatureHeader, verifySignature, SIGNATURE_HEADER, IDEMPOTENCY_HEADER } from './destinations/signature.js';
// ---- App lifecycle: installing ----
export {
  installConnector,
  settingsWithoutSecrets,
  sourceIdentityOf,
  type InstallConnectorOptions,
  type InstallConnectorResult,
} from './install.js';
