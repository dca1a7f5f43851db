import { z } from 'zod';
import { summarizeFormResponse } from './summary.js';
import {
  defineStream,
  describeIssues,
  parseTimestamp,
  SourceApiError,
  type ReadContext,
  type RejectedRecord,
  type StreamDefinition,
  type StreamPage,
} from '@tributary/core';
import { CloseAlertClient, type CloseAlertClientTuning, type FormResponsesPage } from './client.js';
import type { CloseAlertConfig } from './config.js';
import { formResponseSchema, type FormResponse } from './record.js';
import { assertTokenUsable } from './token.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** CloseAlert serves at most one calendar month per request; 28 days always fits. */
export const WINDOW_MS = 28 * DAY_MS;

/** Where the form_responses stream stands between runs. */
export const formResponsesCheckpointSchema = z.object({
  /** Every response created at or before this instant (UTC) has been read. */
  cursor: z.iso.datetime(),
  /** The `until` of the very first run: pages up to it are backfill, never news. */
  backfillUntil: z.iso.datetime(),
});
/** Checkpoint of the form_responses stream. */
export type FormResponsesCheckpoint = z.infer<typeof formResponsesCheckpointSchema>;

/** A time range read with one filter, both ends inclusive as CloseAlert applies them. */
export interface ReadWindow {
  sinceMs: number;
  untilMs: number;
}

/**
 * Splits [since, until] into windows of at most {@link WINDOW_MS}, cutting at `backfillUntil` so that
 * every window is wholly backfill or wholly new. Consecutive windows share their boundary instant.
 */
export function planWindows(sinceMs: number, untilMs: number, backfillUntilMs: number): ReadWindow[] {
  const windows: ReadWindow[] = [];
  let start = Math.min(sinceMs, untilMs);
  do {
    let end = Math.min(start + WINDOW_MS, untilMs);
    if (start < backfillUntilMs && end > backfillUntilMs) end = backfillUntilMs;
    windows.push({ sinceMs: start, untilMs: end });
    start = end;
  } while (start < untilMs);
  return windows;
}

/** Options of the stream beyond the installation's config: how its HTTP client waits and retries. */
export interface FormResponsesStreamOptions {
  client?: CloseAlertClientTuning;
}

function readSourceId(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'number' || (typeof id === 'string' && id.length > 0 && id.length <= 64)
    ? String(id)
    : undefined;
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

  // Fixed once: a window's pages only stay stable while its end does not move.
  const untilMs = Math.floor(ctx.now.getTime() / 1000) * 1000;
  const checkpoint = ctx.checkpoint;
  const backfillUntilMs = checkpoint ? Date.parse(checkpoint.backfillUntil) : untilMs;
  let cursorMs = checkpoint ? Date.parse(checkpoint.cursor) : untilMs - config.backfillDays * DAY_MS;
  const sinceMs = checkpoint ? cursorMs - config.lookbackMinutes * MINUTE_MS : cursorMs;
  const windows = planWindows(sinceMs, untilMs, backfillUntilMs);
  const toCheckpoint = (): FormResponsesCheckpoint => ({
    cursor: new Date(cursorMs).toISOString(),
    backfillUntil: new Date(backfillUntilMs).toISOString(),
  });

  const controller = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, controller.signal]) : controller.signal;
  const client = new CloseAlertClient({
    ...options.client,
    baseUrl: config.baseUrl,
    projectKey: config.projectKey,
    apiToken: config.apiToken,
    logger,
    onWait: ctx.onWait,
  });
  const fetchPage = (job: PageJob): Promise<FormResponsesPage> => {
    const window = windows[job.windowIndex]!;
    const pending = client.getFormResponses({
      since: new Date(window.sinceMs),
      until: new Date(window.untilMs),
      page: job.page,
      perPage: config.pageSize,
      formId: config.formId,
      signal,
    });
    // Awaited later; until then a failure must not count as unhandled.
    pending.catch(() => undefined);
    return pending;
  };

  // Windows share their boundary instant, so responses created exactly then come back at the start
  // of the next window; the ids seen at the latest instant of a window are skipped in the next one.
  let boundaryIds = new Set<number>();
  let latestMs = Number.NEGATIVE_INFINITY;
  let latestIds = new Set<number>();

  try {
    let job: PageJob | undefined = { windowIndex: 0, page: 0 };
    let pending = fetchPage(job);
    while (job) {
      const result: FormResponsesPage = await pending;
      const window = windows[job.windowIndex]!;
      const lastOfWindow: boolean = job.page + 1 >= result.meta.total_pages;
      if (result.records.length === 0 && !lastOfWindow) {
        // Skipping the rest of the window would lose its records; stopping keeps the cursor where it
        // is, so that the next run reads the window again.
        throw new SourceApiError(
          'SOURCE_BAD_RESPONSE',
          `CloseAlert answered page ${job.page} of ${result.meta.total_pages} with no responses; the run stops here and the next one reads this window again.`,
          { retryable: true },
        );
      }
      const next: PageJob | undefined = !lastOfWindow
        ? { windowIndex: job.windowIndex, page: job.page + 1 }
        : job.windowIndex + 1 < windows.length
          ? { windowIndex: job.windowIndex + 1, page: 0 }
          : undefined;
      // Prefetch: the next page travels while the consumer stores this one.
      if (next) pending = fetchPage(next);

      const records: FormResponse[] = [];
      const rejected: RejectedRecord[] = [];
      let lastValidMs: number | undefined;
      for (const raw of result.records) {
        const sourceId = readSourceId(raw);
        if (sourceId !== undefined && boundaryIds.has(Number(sourceId))) continue;
        const parsed = formResponseSchema.safeParse(raw);
        if (!parsed.success) {
          rejected.push({
            ...(sourceId === undefined ? {} : { sourceId }),
            reason: describeIssues(parsed.error),
            raw,
          });
          continue;
        }
        const createdMs = parseTimestamp(parsed.data.created_at, config.timeZone);
        if (createdMs === undefined) {
          rejected.push({
            sourceId: String(parsed.data.id),
            reason: 'created_at: is not a valid date-time',
            raw,
          });
          continue;
        }
        records.push(parsed.data);
        lastValidMs = Math.max(lastValidMs ?? createdMs, createdMs);
        if (createdMs > latestMs) {
          latestMs = createdMs;
          latestIds = new Set([parsed.data.id]);
        } else if (createdMs === latestMs) {
          latestIds.add(parsed.data.id);
        }
      }

      if (lastOfWindow) {
        cursorMs = Math.max(cursorMs, window.untilMs);
        boundaryIds = latestIds;
        latestIds = new Set();
        latestMs = Number.NEGATIVE_INFINITY;
      } else if (lastValidMs !== undefined) {
        // Clamped to the window: a misconfigured time zone must never push the cursor past what was read.
        cursorMs = Math.max(cursorMs, Math.min(lastValidMs, window.untilMs));
      }

      signal.throwIfAborted();
      yield {
        records,
        rejected,
        checkpoint: toCheckpoint(),
        backfill: window.untilMs <= backfillUntilMs,
        progress: { done: job.windowIndex + (lastOfWindow ? 1 : 0), total: windows.length },
      };
      job = next;
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
