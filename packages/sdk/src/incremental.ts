import { z } from 'zod';
import { ConfigError, describeIssues, type RejectedRecord, type StreamPage } from '@tributary/core';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Where an incremental stream stands between runs. */
export const incrementalStateSchema = z.object({
  /** Every record whose cursor field is at or before this instant (UTC) has been read. */
  cursor: z.iso.datetime(),
  /** The run end of the very first run: where the backfill ended. */
  backfillUntil: z.iso.datetime(),
  /** The run end of the run that last finished a reconciliation pass (or the first run). */
  reconciledAt: z.iso.datetime().optional(),
});
/** Checkpoint of an incremental stream. */
export type IncrementalState = z.infer<typeof incrementalStateSchema>;

/** A time range read with one filter, both ends inclusive. */
export interface ReadWindow {
  sinceMs: number;
  untilMs: number;
}

/**
 * Splits [since, until] into windows of at most `maxWindowMs` (a source that serves one month per
 * request), cutting at `cutAtMs` so that every window is wholly backfill or wholly new.
 * Consecutive windows share their boundary instant.
 */
export function planWindows(sinceMs: number, untilMs: number, maxWindowMs: number, cutAtMs?: number): ReadWindow[] {
  if (!(maxWindowMs > 0)) throw new ConfigError('CONNECTOR_INVALID', `A window must span a positive time, not ${maxWindowMs} ms.`);
  const windows: ReadWindow[] = [];
  let start = Math.min(sinceMs, untilMs);
  do {
    let end = Math.min(start + maxWindowMs, untilMs);
    if (cutAtMs !== undefined && start < cutAtMs && end > cutAtMs) end = cutAtMs;
    windows.push({ sinceMs: start, untilMs: end });
    start = end;
  } while (start < untilMs);
  return windows;
}

/** Whether a record is backfill (older than the installation) and late (behind the previous cursor). */
export interface RecordKind {
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
 * Whether this run re-reads the reconciliation range: on request, or when the last pass finished
 * `everyMs` ago or more (a checkpoint from before passes existed has never had one). The first run
 * backfills, which reads everything anyway.
 */
export function planReconciliation(
  hasCheckpoint: boolean,
  requested: boolean,
  reconciledMs: number | undefined,
  untilMs: number,
  everyMs: number = DAY_MS,
): boolean {
  if (!hasCheckpoint) return false;
  if (requested || reconciledMs === undefined) return true;
  return untilMs - reconciledMs >= everyMs - Math.min(RECONCILE_SLACK_MS, everyMs / 2);
}

/** A source id as text, when the raw record has a usable `id`. */
export function readRawId(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'number' || (typeof id === 'string' && id.length > 0 && id.length <= 64) ? String(id) : undefined;
}

/** How an incremental stream reads its records and its run. */
export interface IncrementalOptions<T> {
  /** The stored checkpoint, or null on the first run. */
  checkpoint: IncrementalState | null;
  /** The run's clock; the run end is pinned from it once, so that a window's pages stay stable. */
  now: Date;
  /** When the installation was made: records created before it are `backfill`. */
  installedAt?: Date | undefined;
  /** Read the reconciliation range now, whenever the last pass was. */
  reconcile?: boolean | undefined;
  /** Schema of one record; a record failing it is set aside as rejected, never costing its page. */
  schema: z.ZodType<T>;
  /** The record's key, unique at the source. */
  keyOf: (record: T) => string | number;
  /** Name of the cursor field, for messages ("created_at"). */
  cursorField: string;
  /** The cursor field as epoch ms, or undefined when it is not a valid instant. */
  cursorOf: (record: T) => number | undefined;
  /** The id of a raw record before validation, to drop boundary duplicates early. Default: its `id`. */
  rawIdOf?: (raw: unknown) => string | undefined;
  /** How far back the first run reads, unless `backfillFrom` says where. */
  backfillMs: number;
  /** Where the first run starts; overrides `backfillMs`. */
  backfillFrom?: Date | undefined;
  /** How far before the checkpoint each later run starts again, for records that arrive late. */
  lookbackMs: number;
  /** Largest range one request may span. */
  maxWindowMs: number;
  /** The range a reconciliation pass reads again; undefined: the stream never reconciles. */
  reconcileMs?: number | undefined;
  /** How often the pass is due. Default one day. */
  reconcileEveryMs?: number;
  /** The run end is floored to this precision (the source's own). Default 1 s. */
  precisionMs?: number;
}

/** One page of raw records read from one window. */
export interface RawPage {
  windowIndex: number;
  records: readonly unknown[];
  /** Whether this is the window's last page: its end is then fully read. */
  lastOfWindow: boolean;
  /** Whether nothing follows in this run: a reconciliation pass is then done. */
  lastOfRun: boolean;
}

/**
 * A windowed cursor in the spirit of dlt's `incremental`: plans the run's windows from the
 * checkpoint (backfill on the first run, look-back later, a daily reconciliation pass), then turns
 * each page of raw records into stream pages: validated, boundary duplicates dropped, bad records
 * set aside, flagged backfill and late, each carrying the checkpoint it reaches.
 */
export class Incremental<T> {
  /** The run end, pinned at the start. */
  readonly untilMs: number;
  readonly backfillUntilMs: number;
  /** Records created before this instant are backfill. */
  readonly installedMs: number;
  readonly previousCursorMs: number | undefined;
  readonly sinceMs: number;
  readonly windows: readonly ReadWindow[];
  readonly reconciling: boolean;
  /** The range of the reconciliation pass, set on every page of a run that makes one. */
  readonly reconciliation: { since: string; until: string } | undefined;
  private cursorMs: number;
  private reconciledAtMs: number | undefined;
  // Windows share their boundary instant, so records created exactly then come back at the start
  // of the next window; the ids seen at the latest instant of a window are skipped in the next one.
  private boundaryIds = new Set<string>();
  private latestMs = Number.NEGATIVE_INFINITY;
  private latestIds = new Set<string>();

  constructor(private readonly options: IncrementalOptions<T>) {
    const { checkpoint } = options;
    const precision = options.precisionMs ?? 1000;
    this.untilMs = Math.floor(options.now.getTime() / precision) * precision;
    this.backfillUntilMs = checkpoint ? Date.parse(checkpoint.backfillUntil) : this.untilMs;
    // A record older than the installation is backfill; one created after it is news, however late
    // it arrives. The install moment is the latest one: a reinstall that reattached kept data (and its
    // checkpoint) makes what was created while the app was uninstalled old news too. A clock that puts
    // the run before the install moment (a test's) falls back to the first run's end.
    const installedAtMs = options.installedAt?.getTime();
    this.installedMs = installedAtMs !== undefined && installedAtMs <= this.untilMs ? installedAtMs : this.backfillUntilMs;
    const backfillStart = (endMs: number) => options.backfillFrom?.getTime() ?? endMs - options.backfillMs;
    this.previousCursorMs = checkpoint ? Date.parse(checkpoint.cursor) : undefined;
    this.cursorMs = this.previousCursorMs ?? backfillStart(this.untilMs);
    const lookbackSinceMs = checkpoint ? this.cursorMs - options.lookbackMs : this.cursorMs;
    const reconciledMs = checkpoint?.reconciledAt === undefined ? undefined : Date.parse(checkpoint.reconciledAt);
    this.reconciling =
      options.reconcileMs !== undefined &&
      planReconciliation(checkpoint !== null, options.reconcile === true, reconciledMs, this.untilMs, options.reconcileEveryMs);
    // The pass re-reads the past days, never further back than the first run's backfill did.
    const reconcileSinceMs = Math.max(this.untilMs - (options.reconcileMs ?? 0), backfillStart(this.backfillUntilMs));
    this.sinceMs = this.reconciling ? Math.min(lookbackSinceMs, reconcileSinceMs) : lookbackSinceMs;
    this.windows = planWindows(this.sinceMs, this.untilMs, options.maxWindowMs, this.backfillUntilMs);
    this.reconciliation = this.reconciling
      ? { since: new Date(this.sinceMs).toISOString(), until: new Date(this.untilMs).toISOString() }
      : undefined;
    // The first run reads everything there is; a pass counts as done only once its last page commits.
    this.reconciledAtMs = checkpoint ? reconciledMs : this.untilMs;
  }

  /** The checkpoint reached so far. */
  checkpoint(): IncrementalState {
    return {
      cursor: new Date(this.cursorMs).toISOString(),
      backfillUntil: new Date(this.backfillUntilMs).toISOString(),
      ...(this.reconciledAtMs === undefined ? {} : { reconciledAt: new Date(this.reconciledAtMs).toISOString() }),
    };
  }

  /** Whether a record created at `createdMs` is backfill and late. */
  kindOf(createdMs: number): RecordKind {
    return {
      backfill: createdMs < this.installedMs,
      late: this.previousCursorMs !== undefined && createdMs < this.previousCursorMs,
    };
  }

  /**
   * Turns one page of raw records into the stream pages to yield: usually one; a page mixing
   * backfill and new, or late and current, records yields one per kind. Every group but the last
   * commits with the checkpoint from before this page: re-reading a page is harmless, moving the
   * cursor past records not yet stored is not.
   */
  settle(page: RawPage): StreamPage<T, IncrementalState>[] {
    const { options } = this;
    const window = this.windows[page.windowIndex]!;
    const rawIdOf = options.rawIdOf ?? readRawId;
    const records: T[] = [];
    const kinds: RecordKind[] = [];
    const rejected: RejectedRecord[] = [];
    let duplicates = 0;
    let lastValidMs: number | undefined;
    for (const raw of page.records) {
      const sourceId = rawIdOf(raw);
      if (sourceId !== undefined && this.boundaryIds.has(sourceId)) {
        duplicates += 1;
        continue;
      }
      const parsed = options.schema.safeParse(raw);
      if (!parsed.success) {
        rejected.push({ ...(sourceId === undefined ? {} : { sourceId }), reason: describeIssues(parsed.error), raw });
        continue;
      }
      const key = String(options.keyOf(parsed.data));
      const createdMs = options.cursorOf(parsed.data);
      if (createdMs === undefined) {
        rejected.push({ sourceId: key, reason: `${options.cursorField}: is not a valid date-time`, raw });
        continue;
      }
      records.push(parsed.data);
      kinds.push(this.kindOf(createdMs));
      lastValidMs = Math.max(lastValidMs ?? createdMs, createdMs);
      if (createdMs > this.latestMs) {
        this.latestMs = createdMs;
        this.latestIds = new Set([key]);
      } else if (createdMs === this.latestMs) {
        this.latestIds.add(key);
      }
    }

    const before = this.checkpoint();
    if (page.lastOfWindow) {
      this.cursorMs = Math.max(this.cursorMs, window.untilMs);
      this.boundaryIds = this.latestIds;
      this.latestIds = new Set();
      this.latestMs = Number.NEGATIVE_INFINITY;
    } else if (lastValidMs !== undefined) {
      // Clamped to the window: a misread time zone must never push the cursor past what was read.
      this.cursorMs = Math.max(this.cursorMs, Math.min(lastValidMs, window.untilMs));
    }
    if (this.reconciling && page.lastOfRun) this.reconciledAtMs = this.untilMs;

    const progress = { done: page.windowIndex + (page.lastOfWindow ? 1 : 0), total: this.windows.length };
    const groups = groupByKind(records, kinds, {
      backfill: window.untilMs <= this.installedMs,
      late: this.previousCursorMs !== undefined && window.untilMs < this.previousCursorMs,
    });
    const after = this.checkpoint();
    return groups.map((group, index) => {
      const last = index === groups.length - 1;
      return {
        records: group.records,
        rejected: last ? rejected : [],
        checkpoint: last ? after : before,
        backfill: group.kind.backfill,
        late: group.kind.late,
        progress,
        ...(last && duplicates > 0 ? { duplicates } : {}),
        ...(this.reconciliation ? { reconciliation: this.reconciliation } : {}),
      };
    });
  }
}

export { DAY_MS, MINUTE_MS };
