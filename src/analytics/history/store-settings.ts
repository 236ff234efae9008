import { type Clock, systemClock } from '../../core/clock.js';
import { type Duration, parseDuration } from '../../core/duration.js';
import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import type { HistoryRetentionOptions } from './types.js';

// The options every history store shares, validated once.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The most points a query may answer unless a store is told otherwise. */
export const DEFAULT_MAX_POINTS = 10_000;

/**
 * Options every history store takes.
 *
 * @example
 * ```ts
 * const options: HistoryStoreOptions = { retention: { minutes: '24h', hours: '30d' }, maxPoints: 5_000 };
 * ```
 */
export interface HistoryStoreOptions {
  /**
   * How long minutes and hours are kept. @defaultValue `{ minutes: '48h', hours: '90d' }` (the
   * memory store: `{ minutes: '24h', hours: '7d' }`)
   */
  retention?: HistoryRetentionOptions;
  /** The most points one query may answer. @defaultValue 10000 */
  maxPoints?: number;
  /** Where "now" comes from (`epochNow()`), for the retention. @defaultValue the system clock */
  clock?: Clock;
}

/** @internal {@link HistoryStoreOptions}, checked. */
export interface StoreSettings {
  minutesMs: number;
  hoursMs: number;
  maxPoints: number;
  clock: Clock;
}

/**
 * @internal Validates the shared options: durations of at least a minute (minutes) and an hour
 * (hours), hours kept at least as long as minutes, a positive whole number of points.
 *
 * @example
 * ```ts
 * const settings = storeSettings({ retention: { minutes: '6h' } });
 * ```
 */
export function storeSettings(
  options: HistoryStoreOptions = {},
  defaults: { minutes: Duration; hours: Duration } = { minutes: '48h', hours: '90d' },
): StoreSettings {
  const retention = options.retention ?? {};
  const minutesMs = parseDuration(retention.minutes ?? defaults.minutes, 'retention.minutes');
  const hoursMs = parseDuration(retention.hours ?? defaults.hours, 'retention.hours');
  if (minutesMs < MINUTE_MS) {
    throw new InvalidArgumentError(
      `retention.minutes=${describeValue(retention.minutes)} is too short: keep minutes for at least one minute`,
      { argument: 'retention.minutes', value: retention.minutes, expected: 'at least 1 minute' },
    );
  }
  if (hoursMs < Math.max(HOUR_MS, minutesMs)) {
    throw new InvalidArgumentError(
      `retention.hours=${describeValue(retention.hours)} is too short: keep hours for at least an hour and as long as minutes`,
      {
        argument: 'retention.hours',
        value: retention.hours,
        expected: 'at least 1 hour and at least retention.minutes',
      },
    );
  }
  const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
  if (typeof maxPoints !== 'number' || !Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new InvalidArgumentError(
      `maxPoints=${describeValue(maxPoints)} is invalid: expected a positive whole number`,
      { argument: 'maxPoints', value: maxPoints, expected: 'a positive whole number' },
    );
  }
  return { minutesMs, hoursMs, maxPoints, clock: options.clock ?? systemClock };
}
