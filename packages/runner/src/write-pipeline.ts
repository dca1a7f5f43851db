import type { MappedRows, PageWriteResult, RejectedRecord, StreamPage } from '@tributary/core';

/** Pages merged into one write: their records, rejections, and the last page's checkpoint. */
export interface PageBatch<TRecord> {
  records: TRecord[];
  rejected: RejectedRecord[];
  checkpoint: unknown;
  backfill: boolean;
  progress?: { done: number; total: number };
  /** Whether the records lie behind the previous checkpoint (the pages' `late`). */
  late: boolean;
  /** Records the stream dropped as read twice, summed over the pages. */
  duplicates: number;
  reconciliation?: { since: string; until: string };
}

/** What the pipeline calls: mapping (CPU) and writing (database I/O). */
export interface WritePipelineSteps<TRecord> {
  map(batch: PageBatch<TRecord>): MappedRows;
  write(batch: PageBatch<TRecord>, rows: MappedRows): Promise<PageWriteResult>;
  /** Called in order after each batch has committed. */
  committed(batch: PageBatch<TRecord>, result: PageWriteResult): void;
}

/**
 * Batches handed to the database and not committed yet, the one being written included. Two let
 * the reader fetch and map the next batch while a write runs and keep one ready behind it, so the
 * database never waits for HTTP; more would only hold more records in memory.
 */
const HANDED_OVER = 2;

/**
 * Turns a stream's pages into few, large transactions, and keeps the CPU busy while the database
 * works: pages are merged until a batch holds `batchRecords` records, the next batches are read
 * and mapped while the previous one is being written, and at most one write is in flight, so that
 * batches commit in order and a checkpoint never runs ahead of its rows.
 */
export class WritePipeline<TRecord> {
  private pending: PageBatch<TRecord> | undefined;
  /** Writes handed over, oldest first; each removes itself once it has committed or failed. */
  private readonly writes: Promise<void>[] = [];
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly steps: WritePipelineSteps<TRecord>,
    private readonly batchRecords: number,
  ) {}

  /** Adds a page; writes a batch when it is full or when the backfill or late flag changes. */
  async push(page: StreamPage<TRecord, unknown>): Promise<void> {
    this.throwIfFailed();
    const late = page.late ?? false;
    if (this.pending && (this.pending.backfill !== page.backfill || this.pending.late !== late)) await this.flush();
    if (!this.pending) {
      this.pending = { records: [], rejected: [], checkpoint: page.checkpoint, backfill: page.backfill, late, duplicates: 0 };
    }
    const batch = this.pending;
    for (const record of page.records) batch.records.push(record);
    for (const rejected of page.rejected) batch.rejected.push(rejected);
    batch.checkpoint = page.checkpoint;
    batch.progress = page.progress;
    batch.duplicates += page.duplicates ?? 0;
    if (page.reconciliation) batch.reconciliation = page.reconciliation;
    if (batch.records.length + batch.rejected.length >= this.batchRecords) await this.flush();
  }

  /** Maps the pending batch now, then queues its write behind the ones handed over already. */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = undefined;
    if (!batch) return;
    const rows = this.steps.map(batch);
    while (this.writes.length >= HANDED_OVER) await this.writes[0];
    this.throwIfFailed();
    const previous = this.writes[this.writes.length - 1] ?? Promise.resolve();
    const done = previous
      .then(async () => {
        // A batch behind a failed one is never written: its checkpoint would skip the failed rows.
        if (this.failure) return;
        try {
          this.steps.committed(batch, await this.steps.write(batch, rows));
        } catch (error) {
          this.failure ??= { error };
        }
      })
      .then(() => {
        this.writes.shift();
      });
    this.writes.push(done);
  }

  /** Writes what is left and waits until everything has committed (or throws the first failure). */
  async finish(): Promise<void> {
    await this.flush();
    await this.settled();
    this.throwIfFailed();
  }

  /** Waits for the writes handed over without writing more, for a run that stops on an error. */
  async settle(): Promise<void> {
    this.pending = undefined;
    await this.settled();
  }

  private async settled(): Promise<void> {
    while (this.writes.length > 0) await this.writes[this.writes.length - 1];
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
