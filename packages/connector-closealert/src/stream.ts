import {
  DAY_MS,
  Incremental,
  MINUTE_MS,
  SourceApiError,
  defineStream,
  groupByKind,
  incrementalStateSchema,
  paginate,
  parseTimestamp,
  planReconciliation,
  planWindows as planSdkWindows,
  type IncrementalState,
  type ReadContext,
  type ReadWindow,
  type StreamDefinition,
  type StreamPage,
} from '@tributary/sdk';
import { CloseAlertClient, type CloseAlertClientTuning, type FormResponsesPage } from './client.js';
import type { CloseAlertConfig } from './config.js';
import { formResponseSchema, type FormResponse } from './record.js';
import { summarizeFormResponse } from './summary.js';
import { assertTokenUsable } from './token.js';

/** CloseAlert serves at most one calendar month per request; 28 days always fits. */
export const WINDOW_MS = 28 * DAY_MS;

/** Where the form_responses stream stands between runs: cursor, backfill end, last reconciliation pass. */
export const formResponsesCheckpointSchema = incrementalStateSchema;
/** Checkpoint of the form_responses stream. */
export type FormResponsesCheckpoint = IncrementalState;

export { groupByKind, planReconciliation, type ReadWindow };

/** CloseAlert's windows: at most {@link WINDOW_MS}, cut at the end of the backfill. */
export function planWindows(sinceMs: number, untilMs: number, backfillUntilMs: number): ReadWindow[] {
  return planSdkWindows(sinceMs, untilMs, WINDOW_MS, backfillUntilMs);
}

/** Options of the stream beyond the installation's config: how its HTTP client waits and retries. */
export interface FormResponsesStreamOptions {
  client?: CloseAlertClientTuning;
}

interface PageJob {
  windowIndex: number;
  page: number;
}

async function* readFormResponses(
  ctx: ReadContext<CloseAlertConfig, FormResponsesCheckpoint>,
  options: FormResponsesStreamOptions,
): AsyncGenerator<StreamPage<FormResponse, FormResponsesCheckpoint>> {
  const { config, logger } = ctx;
  // Throws for an expired token; an expiring one is the connector's preflight warning, said once per run.
  assertTokenUsable(config.apiToken, ctx.now);

  const incremental = new Incremental<FormResponse>({
    checkpoint: ctx.checkpoint,
    now: ctx.now,
    installedAt: ctx.installedAt,
    reconcile: ctx.reconcile,
    schema: formResponseSchema,
    keyOf: (record) => record.id,
    cursorField: 'created_at',
    cursorOf: (record) => parseTimestamp(record.created_at, config.timeZone),
    backfillMs: config.backfillDays * DAY_MS,
    lookbackMs: config.lookbackMinutes * MINUTE_MS,
    maxWindowMs: WINDOW_MS,
    reconcileMs: config.reconcileDays * DAY_MS,
  });
  const { windows, reconciliation } = incremental;
  if (reconciliation) logger.info(reconciliation, 'reconciliation pass: reading an older range again for late responses');

  const controller = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, controller.signal]) : controller.signal;
  const client = new CloseAlertClient({
    ...options.client,
    baseUrl: config.baseUrl,
    projectKey: config.projectKey,
    apiToken: config.apiToken,
    logger,
    onWait: ctx.onWait,
    onRequest: ctx.onRequest,
  });

  const nextJob = (result: FormResponsesPage, job: PageJob): PageJob | undefined => {
    if (job.page + 1 < result.meta.total_pages) {
      if (result.records.length === 0) {
        // Skipping the rest of the window would lose its records; stopping keeps the cursor where
        // it is, so that the next run reads the window again.
        throw new SourceApiError(
          'SOURCE_BAD_RESPONSE',
          `CloseAlert answered page ${job.page} of ${result.meta.total_pages} with no responses; the run stops here and the next one reads this window again.`,
          { retryable: true },
        );
      }
      return { windowIndex: job.windowIndex, page: job.page + 1 };
    }
    return job.windowIndex + 1 < windows.length ? { windowIndex: job.windowIndex + 1, page: 0 } : undefined;
  };

  try {
    // Windows one after the other, pages within each; the next page travels while this one is stored.
    const pages = paginate<PageJob, FormResponsesPage>({
      first: { windowIndex: 0, page: 0 },
      fetch: (job) => {
        const window = windows[job.windowIndex]!;
        return client.getFormResponses({
          since: new Date(window.sinceMs),
          until: new Date(window.untilMs),
          page: job.page,
          perPage: config.pageSize,
          formId: config.formId,
          signal,
        });
      },
      next: nextJob,
    });
    for await (const { request: job, page } of pages) {
      const lastOfWindow = job.page + 1 >= page.meta.total_pages;
      const settled = incremental.settle({
        windowIndex: job.windowIndex,
        records: page.records,
        lastOfWindow,
        lastOfRun: lastOfWindow && job.windowIndex + 1 >= windows.length,
      });
      signal.throwIfAborted();
      yield* settled;
    }
  } finally {
    controller.abort();
    await client.close();
  }
}

/** Builds the form_responses stream; `options.client` tunes retries and waits (tests use tiny values). */
export function createFormResponsesStream(
  options: FormResponsesStreamOptions = {},
): StreamDefinition<CloseAlertConfig, FormResponse, FormResponsesCheckpoint> {
  return defineStream<CloseAlertConfig, FormResponse, FormResponsesCheckpoint>({
    name: 'form_responses',
    recordSchema: formResponseSchema,
    checkpointSchema: formResponsesCheckpointSchema,
    read: (ctx) => readFormResponses(ctx, options),
    summarize: summarizeFormResponse,
  });
}

/** The form_responses stream with production retry settings. */
export const formResponsesStream = createFormResponsesStream();
