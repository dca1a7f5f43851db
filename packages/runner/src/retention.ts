import type { Installation, Logger, RetentionResult, RetentionStore } from '@tributary/core';

/**
 * After a run of an installation with a retention period: deletes its records, rejected records
 * and run-log lines older than that period (the store works in small batches) and logs how many.
 * A failure is logged and left for the next run: the sync itself succeeded, and the rows only
 * stay an hour longer.
 */
export async function applyRetentionAfterRun(
  store: Partial<RetentionStore>,
  installation: Installation,
  now: Date,
  logger: Logger,
): Promise<RetentionResult | undefined> {
  if (installation.retentionDays === undefined || store.applyRetention === undefined) return undefined;
  const where = { workspace: installation.workspace, app: installation.app, retentionDays: installation.retentionDays };
  try {
    const result = await store.applyRetention(installation.id, now);
    const deleted = { records: result.records, linked: result.linked, rejected: result.rejected, runLogLines: result.runLogLines, batches: result.batches };
    const total = result.records + result.rejected + result.runLogLines;
    const message = `retention: deleted ${result.records} record(s) with ${result.linked} linked row(s), ${result.rejected} rejected record(s) and ${result.runLogLines} run-log line(s) older than ${result.cutoff?.toISOString()}`;
    if (total > 0) logger.info({ ...where, ...deleted }, message);
    else logger.debug({ ...where, ...deleted }, message);
    return result;
  } catch (error) {
    logger.warn({ ...where, error: (error as Error).message }, 'retention: could not delete the data past the retention period; the next run tries again');
    return undefined;
  }
}
