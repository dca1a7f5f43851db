import { ConfigError, type Installation } from '@tributary/core';
import { CONNECTORS } from './connectors.js';

const MAX_LOOKBACK_MINUTES = 1440;

/**
 * Minutes of a `--lookback` value: `90` and `90m` are minutes, `2h` hours, `1h30m` both. The
 * connector's schema checks the range again; this only turns the words into a number.
 */
export function parseLookback(text: string): number {
  const match = /^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*(?:m|min)?)?\s*$/i.exec(text);
  const hours = match?.[1];
  const minutes = match?.[2];
  if (!match || (hours === undefined && minutes === undefined)) {
    throw new ConfigError('USAGE', `--lookback must be a duration such as 90 (minutes), 90m, 2h or 1h30m, got "${text}".`);
  }
  const total = Number(hours ?? 0) * 60 + Number(minutes ?? 0);
  if (total > MAX_LOOKBACK_MINUTES) {
    throw new ConfigError('USAGE', `--lookback must be at most 24h; responses later than that are caught by the daily reconciliation pass (--reconcile-days).`);
  }
  return total;
}

/** How an installation catches late feedback, when its settings say (CloseAlert's do). */
export interface LateFeedbackSettings {
  lookbackMinutes: number;
  reconcileDays: number;
}

/**
 * The late-feedback settings of an installation, or undefined for an app without them. Read through
 * the connector's own fields, so that an installation made before a setting existed shows its default.
 */
export function lateFeedbackOf(installation: Installation): LateFeedbackSettings | undefined {
  const shape = CONNECTORS.get(installation.app)?.configSchema.shape;
  const read = (field: keyof LateFeedbackSettings): number | undefined => {
    const parsed = shape?.[field]?.safeParse(installation.config[field]);
    return parsed?.success && typeof parsed.data === 'number' ? parsed.data : undefined;
  };
  const lookbackMinutes = read('lookbackMinutes');
  const reconcileDays = read('reconcileDays');
  return lookbackMinutes === undefined || reconcileDays === undefined ? undefined : { lookbackMinutes, reconcileDays };
}

/** `look-back 2h, daily reconciliation of the past 7 days`, for `tributary apps`. */
export function describeLateFeedback(settings: LateFeedbackSettings): string {
  const { lookbackMinutes: m, reconcileDays: d } = settings;
  const lookback = m % 60 === 0 ? `${m / 60}h` : m > 60 ? `${Math.floor(m / 60)}h${m % 60}m` : `${m} min`;
  return `look-back ${lookback}, daily reconciliation of the past ${d} day${d === 1 ? '' : 's'}`;
}
