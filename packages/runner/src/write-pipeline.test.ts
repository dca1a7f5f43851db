import { describe, expect, it } from 'vitest';
import type { PageWriteResult, StreamPage } from '@tributary/core';
import { WritePipeline, type PageBatch } from './write-pipeline.js';

const result = (n: number): PageWriteResult => ({ inserted: n, unchanged: 0, insertedKeys: [], tables: {}, newContacts: 0, rejected: 0 });
const page = (ids: number[], checkpoint: number, backfill = true): StreamPage<number, unknown> => ({
  records: ids,
  rejected: [],
  checkpoint,
  backfill,
});

function recorder() {
  const events: string[] = [];
  const committed: PageBatch<number>[] = [];
  let release: (() => void) | undefined;
  return {
    events,
    committed,
    hold() {
      return new Promise<void>((resolve) => (release = resolve));
    },
    release: () => release?.(),
    steps: (write?: (batch: PageBatch<number>) => Promise<PageWriteResult>) => ({
      map: (batch: PageBatch<number>) => {
        events.push(`map ${batch.records.join(',')}`);
        return {};
      },
      write: async (batch: PageBatch<number>) => {
        events.push(`write ${batch.records.join(',')} @${String(batch.checkpoint)}`);
        return write ? write(batch) : result(batch.records.length);
      },
      committed: (batch: PageBatch<number>) => {
        events.push(`commit ${batch.records.join(',')}`);
        committed.push(batch);
      },
    }),
  };
}

describe('WritePipeline', () => {
  it('merges pages into batches and commits them in order with the last checkpoint', async () => {
    const r = recorder();
    const pipeline = new WritePipeline(r.steps(), 4);
    await pipeline.push(page([1, 2], 'a' as unknown as number));
    await pipeline.push(page([3, 4], 'b' as unknown as number));
    await pipeline.push(page([5], 'c' as unknown as number));
    await pipeline.finish();
    expect(r.committed.map((b) => [b.records, b.checkpoint])).toEqual([
      [[1, 2, 3, 4], 'b'],
      [[5], 'c'],
    ]);
  });

  it('maps the next batch while the previous one is being written, with one write in flight', async () => {
    const r = recorder();
    let writes = 0;
    const pipeline = new WritePipeline(
      r.steps(async (batch) => {
        writes += 1;
        if (writes === 1) await r.hold();
        return result(batch.records.length);
      }),
      1,
    );
    await pipeline.push(page([1], 1));
    const second = pipeline.push(page([2], 2));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.events).toEqual(['map 1', 'write 1 @1', 'map 2']);
    r.release();
    await second;
    await pipeline.finish();
    expect(r.events).toEqual(['map 1', 'write 1 @1', 'map 2', 'commit 1', 'write 2 @2', 'commit 2']);
  });

  it('never merges backfill pages with new ones', async () => {
    const r = recorder();
    const pipeline = new WritePipeline(r.steps(), 100);
    await pipeline.push(page([1], 1, true));
    await pipeline.push(page([2], 2, false));
    await pipeline.finish();
    expect(r.committed.map((b) => [b.records, b.backfill])).toEqual([
      [[1], true],
      [[2], false],
    ]);
  });

  it('keeps reading while a write runs: the next batch is handed over at once, the one after it waits', async () => {
    const r = recorder();
    let writes = 0;
    const pipeline = new WritePipeline(
      r.steps(async (batch) => {
        writes += 1;
        if (writes === 1) await r.hold();
        return result(batch.records.length);
      }),
      1,
    );
    await pipeline.push(page([1], 1));
    // The reader is not held by the write in flight: the database gets the next batch as soon as it is done.
    await pipeline.push(page([2], 2));
    let thirdDone = false;
    const third = pipeline.push(page([3], 3)).then(() => (thirdDone = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(thirdDone).toBe(false);
    expect(r.events).toEqual(['map 1', 'write 1 @1', 'map 2', 'map 3']);
    r.release();
    await third;
    await pipeline.finish();
    expect(r.events).toEqual(['map 1', 'write 1 @1', 'map 2', 'map 3', 'commit 1', 'write 2 @2', 'commit 2', 'write 3 @3', 'commit 3']);
  });

  it('surfaces a failed write and writes nothing after it', async () => {
    const r = recorder();
    const pipeline = new WritePipeline(
      r.steps(async () => {
        throw new Error('disk full');
      }),
      1,
    );
    await pipeline.push(page([1], 1));
    const pushed = [pipeline.push(page([2], 2)), pipeline.push(page([3], 3)), pipeline.push(page([4], 4))];
    await Promise.allSettled(pushed);
    await expect(pipeline.finish()).rejects.toThrow('disk full');
    expect(r.events.filter((e) => e.startsWith('write'))).toEqual(['write 1 @1']);
    expect(r.committed).toEqual([]);
  });
});
