import {
  applyMappings,
  compileMappings,
  countRecordsWithRow,
  describeIssues,
  isUsableEmail,
  silentLogger,
  StorageError,
  toTributaryError,
  validateMappings,
  type ConnectorDefinition,
  type Installation,
  type Logger,
  type MappedRows,
  type RunOutcome,
  type SavedFeedback,
  type SyncStore,
  type SourceWait,
  type StreamDefinition,
  type TributaryError,
} from '@tributary/core';
import { WritePipeline, type PageBatch } from './write-pipeline.js';

/** How far a run has come, for a progress bar. */
export interface SyncProgress {
  stream: string;
  fetched: number;
  inserted: number;
  rejected: number;
  /** Windows or pages done and in total, when the stream knows. */
  done?: number;
  total?: number;
}

/** What `runSync` needs. */
export interface RunSyncOptions {
  store: SyncStore;
  connector: ConnectorDefinition;
  installation: Installation;
  /** The run's clock; the stream fixes its end from it. Defaults to the real clock. */
  now?: () => Date;
  logger?: Logger;
  /** Stops the run between pages: the page in flight commits, nothing new is read. */
  signal?: AbortSignal;
  onProgress?: (progress: SyncProgress) => void;
  /** Told when reading pauses for the source (rate limit, retry); the source's client then logs the pause at debug only. */
  onWait?: (wait: SourceWait) => void;
  /** Told after each request to the source with its status, or `error` (for request metrics). */
  onRequest?: (status: number | 'error') => void;
  /**
   * Records per transaction: pages are merged up to this size (default 1000), so that a backfill
   * commits a few large batches instead of many small ones.
   */
  batchRecords?: number;
  /**
   * At most this many saved customers are kept in memory for the result (default 20); the run log
   * stores every one of them with its page (see `RunLogStore.listSavedCustomers`).
   */
  maxListedCustomers?: number;
  /** Run the streams' reconciliation pass now, however recently the last one ran. */
  reconcile?: boolean;
}

/** The outcome of one run, as stored in the log. */
export interface SyncResult extends RunOutcome {
  runId: string;
  /** The failure, when the run failed, for callers that schedule retries. */
  failure?: TributaryError;
  /** Whether the run stopped early because it was asked to. */
  interrupted: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- streams differ in record and checkpoint types
type AnyStream = StreamDefinition<Record<string, unknown>, any, any>;

/** A record's run-log line, as its connector summarizes it. */
function summaryOf(stream: AnyStream, record: unknown): SavedFeedback & { key: string } {
  return stream.summarize!(record as Record<string, unknown>);
}

/**
 * One sync of one installation: for every stream, read the checkpoint, stream pages, map them,
 * and store each page together with its checkpoint. A run that fails keeps every page it
 * committed, and the next run resumes from the last stored checkpoint.
 */
export async function runSync(options: RunSyncOptions): Promise<SyncResult> {
  const { store, connector, installation } = options;
  const clock = options.now ?? (() => new Date());
  const logger = (options.logger ?? silentLogger()).child({ workspace: installation.workspace, app: installation.app });
  const maxListed = options.maxListedCustomers ?? 20;
  const batchRecords = options.batchRecords ?? 1000;
  const startedAt = clock();
  const runId = await store.startRun(installation.id, startedAt);
  const outcome: RunOutcome = { status: 'succeeded', fetched: 0, inserted: 0, unchanged: 0, rejected: 0, saved: [], warnings: [] };
  const tallies = { duplicates: 0, late: 0, withoutEmail: 0, suppressed: 0, expired: 0 };
  let failure: TributaryError | undefined;

  try {
    const parsed = connector.configSchema.safeParse(installation.config);
    if (!parsed.success) {
      throw new StorageError('INSTALLATION_CONFIG_INVALID', `The stored settings of ${installation.app} in ${installation.workspace} are invalid: ${describeIssues(parsed.error)}`, {
        hint: `Reinstall the app: tributary uninstall ${installation.app} --workspace ${installation.workspace}, then tributary install ${installation.app} --workspace ${installation.workspace} …`,
      });
    }
    const config = parsed.data as Record<string, unknown>;
    if (connector.preflight) outcome.warnings.push(...connector.preflight(config, startedAt).warnings);
    const compiled = compileMappings(validateMappings(installation.mappings, installation.dataModel), installation.dataModel);
    const timeZone = connector.timeZoneOf?.(config) ?? 'UTC';

    for (const stream of connector.streams as readonly AnyStream[]) {
      if (options.signal?.aborted) break;
      const stored = await store.readCheckpoint(installation.id, stream.name);
      let checkpoint: unknown = null;
      if (stored !== null && stored !== undefined) {
        const valid = stream.checkpointSchema.safeParse(stored);
        if (!valid.success) {
          throw new StorageError('CHECKPOINT_INVALID', `The stored checkpoint of stream "${stream.name}" is unreadable: ${describeIssues(valid.error)}`, {
            hint: 'Restore the database, or remove the checkpoint row to backfill again (duplicates are ignored).',
          });
        }
        checkpoint = valid.data;
      }
      const withoutEmail = new WeakMap<PageBatch<unknown>, Set<string>>();
      // Records that make a row of the primary table: a form read for its fields is not a response.
      const primaryRecords = new WeakMap<PageBatch<unknown>, number>();
      // Each record's run-log line, made when the batch is mapped (see the pipeline's `map`).
      const savedLines = new WeakMap<PageBatch<unknown>, (SavedFeedback & { key: string })[]>();
      const pipeline = new WritePipeline<unknown>(
        {
          map: (batch) => {
            const meta = { backfill: batch.backfill, timeZone };
            const rows = applyMappings(batch.records, compiled, meta);
            withoutEmail.set(batch, keysWithoutEmail(installation, rows));
            primaryRecords.set(batch, countRecordsWithRow(batch.records, compiled, installation.dataModel.primaryTable, meta));
            if (stream.summarize) savedLines.set(batch, batch.records.map((record) => summaryOf(stream, record)));
            // Everything the write and the commit need is taken from the records now; let go of them,
            // the larger part of a batch, so that a batch waiting for the write in flight holds its rows alone.
            batch.records = [];
            return rows;
          },
          write: (batch, rows) =>
            store.writePage({
              installationId: installation.id,
              runId,
              stream: stream.name,
              rows,
              rejected: batch.rejected,
              checkpoint: batch.checkpoint,
              ...(stream.summarize ? { saved: savedLines.get(batch) ?? [] } : {}),
            }),
          committed: (batch, written) => {
            const records = primaryRecords.get(batch) ?? 0;
            outcome.fetched += records + batch.rejected.length + batch.duplicates;
            outcome.inserted += written.inserted;
            // Records of forgotten people and records past the retention period were read, and not stored.
            const skipped = (written.suppressed ?? 0) + (written.expired ?? 0);
            tallies.suppressed += (written.suppressed ?? 0) + (written.suppressedRejected ?? 0);
            tallies.expired += written.expired ?? 0;
            // Records of one key collapse to one row: the rest were read twice within the batch.
            tallies.duplicates += batch.duplicates + Math.max(0, records - written.inserted - written.unchanged - skipped);
            if (batch.late) tallies.late += written.inserted;
            const noEmail = withoutEmail.get(batch);
            if (noEmail && noEmail.size > 0) for (const key of written.insertedKeys) if (noEmail.has(key)) tallies.withoutEmail += 1;
            if (batch.reconciliation && !outcome.reconciled) outcome.reconciled = batch.reconciliation;
            // A record rejected again (the look-back reads it again) was handled by an earlier run.
            outcome.unchanged += written.unchanged + (batch.rejected.length - written.rejected - (written.suppressedRejected ?? 0));
            outcome.rejected += written.rejected;
            if (stream.summarize && written.insertedKeys.length > 0) {
              const inserted = new Set(written.insertedKeys);
              for (const summary of savedLines.get(batch) ?? []) {
                if (outcome.saved.length >= maxListed) break;
                if (inserted.has(summary.key)) outcome.saved.push(summary);
              }
            }
            for (const rejected of batch.rejected) logger.info({ sourceId: rejected.sourceId, reason: rejected.reason }, 'record set aside');
            options.onProgress?.({
              stream: stream.name,
              fetched: outcome.fetched,
              inserted: outcome.inserted,
              rejected: outcome.rejected,
              done: batch.progress?.done,
              total: batch.progress?.total,
            });
          },
        },
        batchRecords,
      );
      try {
        for await (const page of stream.read({
          config,
          checkpoint,
          now: startedAt,
          logger,
          signal: options.signal,
          onWait: options.onWait,
          onRequest: options.onRequest,
          installedAt: installation.createdAt,
          reconcile: options.reconcile,
        })) {
          await pipeline.push(page);
          if (options.signal?.aborted) break;
        }
        await pipeline.finish();
      } finally {
        // A page already handed to the database commits (or fails) before the run is closed.
        await pipeline.settle();
      }
    }
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof StorageError)) {
      // A shutdown aborts the request in flight; what was committed stays, and nothing failed.
      logger.info('run stopped by shutdown');
    } else {
      failure = toTributaryError(error);
    }
  }
  if (failure) {
    outcome.status = 'failed';
    outcome.error = failure.hint ? `${failure.message} (${failure.hint})` : failure.message;
    outcome.errorCode = failure.code;
    // The run log and the caller say it to the operator; here it is detail for debugging.
    logger.debug({ code: failure.code }, failure.message);
  } else if (options.signal?.aborted) {
    outcome.status = 'stopped';
    outcome.warnings.push('Stopped early by a shutdown; the next run resumes after the last committed page.');
  }
  Object.assign(outcome, tallies);
  await store.finishRun(runId, outcome, clock());
  logger.info({ runId, status: outcome.status, fetched: outcome.fetched, inserted: outcome.inserted }, 'run finished');
  return { ...outcome, runId, failure, interrupted: options.signal?.aborted ?? false };
}

/**
 * Keys (as text, like `PageWriteResult.insertedKeys`) of the primary rows whose customer e-mail is
 * missing or not an address: they are stored, but no contact is made for them.
 */
function keysWithoutEmail(installation: Installation, rows: MappedRows): Set<string> {
  const model = installation.dataModel;
  const emailColumn = model.customerEmailColumn;
  const keyColumn = model.tables.find((t) => t.name === model.primaryTable)?.key[0];
  const keys = new Set<string>();
  if (emailColumn === undefined || keyColumn === undefined) return keys;
  for (const row of rows[model.primaryTable] ?? []) {
    const email = row[emailColumn];
    if (typeof email !== 'string' || !isUsableEmail(email.trim().toLowerCase())) keys.add(String(row[keyColumn]));
  }
  return keys;
}
