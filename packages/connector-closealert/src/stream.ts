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
  /** The `until` of the very first run: where the backfill ended. */
  backfillUntil: z.iso.datetime(),
  /** The `until` of the run that last finished a reconciliation pass (or the first run). */
  reconciledAt: z.iso.datetime().optional(),
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

/** Whether a record is backfill (older than the installation) and late (behind the previous cursor). */
interface RecordKind {
  backfill: boolean;
  late: boolean;
}

/**
 * Splits a page into groups of one kind, backfill first and late first, so that each group can be
 * stored with its own flags; always at least one group, possibly empty, to carry the checkpoint.
 */
export function groupByKind<T>(
  records: readonly T[],
  kinds: readonly RecordKind[],
  emptyKind: RecordKind,
): { kind: RecordKind; records: T[] }[] {
  const order: RecordKind[] = [
    { backfill: true, late: true },
    { backfill: true, late: false },
    { backfill: false, late: true },
    { backfill: false, late: false },
  ];
  const groups = order.map((kind) => ({ kind, records: [] as T[] }));
  records.forEach((record, index) => {
    const kind = kinds[index]!;
    groups[(kind.backfill ? 0 : 2) + (kind.late ? 0 : 1)]!.records.push(record);
  });
  const filled = groups.filter((group) => group.records.length > 0);
  return filled.length > 0 ? filled : [{ kind: emptyKind, records: [] }];
}

/** Hourly runs start a little early or late; a pass due "once a day" must not slip to every 25 hours. */
const RECONCILE_SLACK_MS = 30 * MINUTE_MS;

/**
 * Whether this run re-reads the reconciliation range: on request, or when the last pass finished a
 * day ago or more (a checkpoint from before passes existed has never had one). The first run
 * backfills, which reads everything anyway.
 */
export function planReconciliation(hasCheckpoint: boolean, requested: boolean, reconciledMs: number | undefined, untilMs: number): boolean {
  if (!hasCheckpoint) return false;
  if (requested || reconciledMs === undefined) return true;
  return untilMs - reconciledMs >= DAY_MS - RECONCILE_SLACK_MS;
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
  // A response older than the installation is backfill; one created after it is news, however late
  // it arrives. A clock that puts the first run before the install moment falls back to the first
  // run's end, which in real use never lies after the installation.
  const installedMs = ctx.installedAt ? Math.min(ctx.installedAt.getTime(), backfillUntilMs) : backfillUntilMs;
  const previousCursorMs = checkpoint ? Date.parse(checkpoint.cursor) : undefined;
  let cursorMs = previousCursorMs ?? untilMs - config.backfillDays * DAY_MS;
  const lookbackSinceMs = checkpoint ? cursorMs - config.lookbackMinutes * MINUTE_MS : cursorMs;
  const reconciledMs = checkpoint?.reconciledAt === undefined ? undefined : Date.parse(checkpoint.reconciledAt);
  const reconciling = planReconciliation(checkpoint !== null, ctx.reconcile === true, reconciledMs, untilMs);
  // The pass re-reads the past days, never further back than the first run's backfill did.
  const reconcileSinceMs = Math.max(untilMs - config.reconcileDays * DAY_MS, backfillUntilMs - config.backfillDays * DAY_MS);
  const sinceMs = reconciling ? Math.min(lookbackSinceMs, reconcileSinceMs) : lookbackSinceMs;
  const windows = planWindows(sinceMs, untilMs, backfillUntilMs);
  const reconciliation = reconciling
    ? { since: new Date(sinceMs).toISOString(), until: new Date(untilMs).toISOString() }
    : undefined;
  if (reconciliation) logger.info(reconciliation, 'reconciliation pass: reading an older range again for late responses');
  // The first run reads everything there is; a pass counts as done only once its last page commits.
  let reconciledAtMs = checkpoint ? reconciledMs : untilMs;
  const toCheckpoint = (): FormResponsesCheckpoint => ({
    cursor: new Date(cursorMs).toISOString(),
    backfillUntil: new Date(backfillUntilMs).toISOString(),
    ...(reconciledAtMs === undefined ? {} : { reconciledAt: new Date(reconciledAtMs).toISOString() }),
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
      const kinds: RecordKind[] = [];
      const rejected: RejectedRecord[] = [];
      let duplicates = 0;
      let lastValidMs: number | undefined;
      for (const raw of result.records) {
        const sourceId = readSourceId(raw);
        if (sourceId !== undefined && boundaryIds.has(Number(sourceId))) {
          duplicates += 1;
          continue;
        }
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
        kinds.push({
          backfill: createdMs < installedMs,
          late: previousCursorMs !== undefined && createdMs < previousCursorMs,
        });
        lastValidMs = Math.max(lastValidMs ?? createdMs, createdMs);
        if (createdMs > latestMs) {
          latestMs = createdMs;
          latestIds = new Set([parsed.data.id]);
        } else if (createdMs === latestMs) {
          latestIds.add(parsed.data.id);
        }
      }

      const before = toCheckpoint();
      if (lastOfWindow) {
        cursorMs = Math.max(cursorMs, window.untilMs);
        boundaryIds = latestIds;
        latestIds = new Set();
        latestMs = Number.NEGATIVE_INFINITY;
      } else if (lastValidMs !== undefined) {
        // Clamped to the window: a misconfigured time zone must never push the cursor past what was read.
        cursorMs = Math.max(cursorMs, Math.min(lastValidMs, window.untilMs));
      }

      if (reconciling && !next) reconciledAtMs = untilMs;

      signal.throwIfAborted();
      const progress = { done: job.windowIndex + (lastOfWindow ? 1 : 0), total: windows.length };
      const groups = groupByKind(records, kinds, {
        backfill: window.untilMs <= installedMs,
        late: previousCursorMs !== undefined && window.untilMs < previousCursorMs,
      });
      // Every group but the last commits with the checkpoint from before this page: re-reading a
      // page is harmless, moving the cursor past records not yet stored is not.
      for (let index = 0; index < groups.length; index++) {
        const group = groups[index]!;
        const last = index === groups.length - 1;
        yield {
          records: group.records,
          rejected: last ? rejected : [],
          checkpoint: last ? toCheckpoint() : before,
          backfill: group.kind.backfill,
          late: group.kind.late,
          progress,
          ...(last && duplicates > 0 ? { duplicates } : {}),
          ...(reconciliation ? { reconciliation } : {}),
        };
      }
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
