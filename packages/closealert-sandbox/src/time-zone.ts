const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/Universal', 'Etc/Zulu']);

// Modern zone transitions fall on quarter-hour boundaries, so one offset per quarter hour is exact
// and keeps rendering 100,000 timestamps cheap.
const OFFSET_BUCKET_MS = 15 * 60 * 1000;
const MAX_CACHED_OFFSETS = 200_000;

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Wall-clock arithmetic in one IANA zone: CloseAlert renders `created_at` without an offset, and a
 * `since`/`until` without an offset means the same zone.
 */
export class TimeZone {
  readonly name: string;
  private readonly isUtc: boolean;
  private readonly formatter: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(name: string) {
    // Throws a RangeError for an unknown zone, which is what a caller passing a bad option should see.
    this.formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    this.name = this.formatter.resolvedOptions().timeZone;
    this.isUtc = UTC_NAMES.has(this.name);
  }

  /** Milliseconds to add to a UTC instant to get the zone's wall clock at that instant. */
  offsetMs(epochMs: number): number {
    if (this.isUtc) return 0;
    const bucket = Math.floor(epochMs / OFFSET_BUCKET_MS);
    const cached = this.offsets.get(bucket);
    if (cached !== undefined) return cached;
    const offset = this.computeOffset(bucket * OFFSET_BUCKET_MS);
    if (this.offsets.size >= MAX_CACHED_OFFSETS) this.offsets.clear();
    this.offsets.set(bucket, offset);
    return offset;
  }

  /** `YYYY-MM-DDTHH:mm:ss` in this zone, without offset (sub-second part dropped). */
  format(epochMs: number): string {
    return new Date(epochMs + this.offsetMs(epochMs)).toISOString().slice(0, 19);
  }

  /** The instant at which this zone's wall clock shows `wallMs` (a wall time encoded as if UTC). */
  wallToEpoch(wallMs: number): number {
    const firstGuess = wallMs - this.offsetMs(wallMs);
    return wallMs - this.offsetMs(firstGuess);
  }

  /** `epochMs` plus one calendar month on this zone's wall clock, the day clamped to the month's end. */
  addOneMonth(epochMs: number): number {
    const wall = new Date(epochMs + this.offsetMs(epochMs));
    const year = wall.getUTCFullYear();
    const month = wall.getUTCMonth() + 1;
    const day = Math.min(wall.getUTCDate(), daysInMonth(year, month + 1));
    const shifted = Date.UTC(
      year,
      month,
      day,
      wall.getUTCHours(),
      wall.getUTCMinutes(),
      wall.getUTCSeconds(),
      wall.getUTCMilliseconds(),
    );
    return this.wallToEpoch(shifted);
  }

  /**
   * Parses an ISO-8601 date or date-time. With an offset it is absolute; without one it is a wall
   * time in this zone; a date alone is midnight. Returns undefined for anything else.
   */
  parse(text: string): number | undefined {
    const match = ISO_DATE_TIME.exec(text);
    if (!match) return undefined;
    const [, y, mo, d, h, mi, s, fraction, offset] = match;
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    const hour = Number(h ?? 0);
    const minute = Number(mi ?? 0);
    const second = Number(s ?? 0);
    const millisecond = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
    if (hour > 23 || minute > 59 || second > 59) return undefined;
    const wallMs = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
    if (offset === undefined) return this.wallToEpoch(wallMs);
    const offsetMs = parseOffset(offset);
    return offsetMs === undefined ? undefined : wallMs - offsetMs;
  }

  private computeOffset(epochMs: number): number {
    const parts: Record<string, number> = {};
    for (const part of this.formatter.formatToParts(new Date(epochMs))) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    const wallMs = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return wallMs - Math.floor(epochMs / 1000) * 1000;
  }
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; month may be 13 (January next year).
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function parseOffset(offset: string): number | undefined {
  if (offset === 'Z' || offset === 'z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes) * 60_000;
}
