import { z } from 'zod';

const OFFSET_SUFFIX = /(Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** zod schema of an IANA time zone name such as `UTC` or `Europe/Amsterdam`. */
export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as UTC or Europe/Amsterdam' });

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `zone` from UTC at the instant `epochMs`, in milliseconds. */
function zoneOffsetMs(zone: string, epochMs: number): number {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * Parses an ISO-8601 timestamp into epoch milliseconds. A timestamp without a UTC offset (CloseAlert
 * sends those) is wall-clock time in `timeZone`. Returns undefined when the text is not a timestamp.
 */
export function parseTimestamp(text: string, timeZone = 'UTC'): number | undefined {
  const trimmed = text.trim();
  if (OFFSET_SUFFIX.test(trimmed)) {
    if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(trimmed)) return undefined;
    const ms = Date.parse(trimmed.replace(' ', 'T'));
    return Number.isNaN(ms) ? undefined : ms;
  }
  const m = LOCAL_DATE_TIME.exec(trimmed);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as [
    number, number, number, number, number, number,
  ];
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (new Date(wall).getUTCDate() !== day) return undefined;
  if (timeZone === 'UTC') return wall;
  // The zone's offset depends on the instant itself; a second pass settles DST transitions.
  const first = wall - zoneOffsetMs(timeZone, wall);
  return wall - zoneOffsetMs(timeZone, first);
}

/** Adds calendar months in UTC, clamping to the end of a shorter month (31 Jan + 1 month = 28/29 Feb). */
export function addMonthsUtc(epochMs: number, months: number): number {
  const d = new Date(epochMs);
  const targetMonth = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), targetMonth + 1, 0)).getUTCDate();
  return Date.UTC(
    d.getUTCFullYear(),
    targetMonth,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}
