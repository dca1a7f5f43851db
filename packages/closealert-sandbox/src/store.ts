import type { SandboxFormResponse } from './types.js';

export interface NewResponse {
  record: SandboxFormResponse;
  epochMs: number;
}

export interface PageSlice {
  /** Each record's JSON text, ready to be joined into a body. */
  texts: string[];
  totalResults: number;
}

/**
 * Responses sorted by (created_at, id), held as parallel arrays: epochs for binary search and each
 * record's JSON text serialised once, so that serving a page is a slice and a join.
 */
export class ResponseStore {
  private records: SandboxFormResponse[] = [];
  private epochs: number[] = [];
  private texts: string[] = [];
  private formIds: number[] = [];
  private readonly ids = new Set<number>();
  private highestId = 0;

  get maxId(): number {
    return this.highestId;
  }

  get size(): number {
    return this.records.length;
  }

  /** A snapshot: later additions build new arrays and leave a returned one untouched. */
  all(): readonly SandboxFormResponse[] {
    return this.records;
  }

  add(entries: readonly NewResponse[]): void {
    const batchIds = new Set<number>();
    for (const { record } of entries) {
      if (!Number.isSafeInteger(record.id) || record.id <= 0)
        throw new Error(`response id ${record.id} is not a positive integer`);
      if (this.ids.has(record.id) || batchIds.has(record.id))
        throw new Error(`response id ${record.id} already exists`);
      batchIds.add(record.id);
    }
    const sorted = [...entries].sort(compareNew);
    const first = sorted[0];
    if (first === undefined) return;

    const lastIndex = this.records.length - 1;
    const appendsAtEnd =
      lastIndex < 0 ||
      compareKeys(
        this.epochs[lastIndex] ?? 0,
        this.records[lastIndex]?.id ?? 0,
        first.epochMs,
        first.record.id,
      ) < 0;
    if (appendsAtEnd) {
      this.records = [...this.records];
      this.epochs = [...this.epochs];
      this.texts = [...this.texts];
      this.formIds = [...this.formIds];
      for (const entry of sorted) this.push(entry.record, entry.epochMs, JSON.stringify(entry.record));
    } else {
      this.merge(sorted);
    }
    for (const id of batchIds) {
      this.ids.add(id);
      if (id > this.highestId) this.highestId = id;
    }
  }

  /** The page of responses with sinceMs <= created_at <= untilMs, optionally on one form only. */
  page(sinceMs: number, untilMs: number, formId: number | null, page: number, perPage: number): PageSlice {
    const start = lowerBound(this.epochs, sinceMs);
    const end = lowerBound(this.epochs, untilMs + 1);
    if (formId === null) {
      const from = Math.min(end, start + page * perPage);
      const to = Math.min(end, from + perPage);
      return { texts: this.texts.slice(from, to), totalResults: Math.max(0, end - start) };
    }
    const wanted: string[] = [];
    const skip = page * perPage;
    let matches = 0;
    for (let index = start; index < end; index++) {
      if (this.formIds[index] !== formId) continue;
      if (matches >= skip && matches < skip + perPage) wanted.push(this.texts[index] as string);
      matches++;
    }
    return { texts: wanted, totalResults: matches };
  }

  private push(record: SandboxFormResponse, epochMs: number, text: string): void {
    this.records.push(record);
    this.epochs.push(epochMs);
    this.texts.push(text);
    this.formIds.push(record.form.id);
  }

  private merge(sorted: readonly NewResponse[]): void {
    const oldRecords = this.records;
    const oldEpochs = this.epochs;
    const oldTexts = this.texts;
    this.records = [];
    this.epochs = [];
    this.texts = [];
    this.formIds = [];
    let oldIndex = 0;
    for (const entry of sorted) {
      while (oldIndex < oldRecords.length) {
        const oldRecord = oldRecords[oldIndex] as SandboxFormResponse;
        const oldEpoch = oldEpochs[oldIndex] as number;
        if (compareKeys(oldEpoch, oldRecord.id, entry.epochMs, entry.record.id) > 0) break;
        this.push(oldRecord, oldEpoch, oldTexts[oldIndex] as string);
        oldIndex++;
      }
      this.push(entry.record, entry.epochMs, JSON.stringify(entry.record));
    }
    for (; oldIndex < oldRecords.length; oldIndex++) {
      this.push(
        oldRecords[oldIndex] as SandboxFormResponse,
        oldEpochs[oldIndex] as number,
        oldTexts[oldIndex] as string,
      );
    }
  }
}

function compareKeys(epochA: number, idA: number, epochB: number, idB: number): number {
  return epochA - epochB || idA - idB;
}

function compareNew(a: NewResponse, b: NewResponse): number {
  return compareKeys(a.epochMs, a.record.id, b.epochMs, b.record.id);
}

/** First index whose value is >= target. */
function lowerBound(values: readonly number[], target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((values[middle] as number) < target) low = middle + 1;
    else high = middle;
  }
  return low;
}
