/** Milliseconds in an hour. */
export const HOUR_MS = 3_600_000;
/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;
/** Milliseconds in a week. */
export const WEEK_MS = 7 * DAY_MS;
// 1970-01-01 was a Thursday: shifting by three days puts week boundaries on Mondays (ISO weeks).
const MONDAY_SHIFT_MS = 3 * DAY_MS;

/**
 * The UTC hour of `ms` (epoch milliseconds), as a number of hours since the epoch: the bucket
 * of event counts.
 *
 * @example
 * ```ts
 * hourOf(Date.UTC(2024, 0, 1, 13, 30)); // 473_357
 * ```
 */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

/**
 * The UTC day of `ms`, as a number of days since the epoch: the bucket of active users.
 *
 * @example
 * ```ts
 * dayOf(Date.UTC(2024, 0, 1)); // 19_723
 * ```
 */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/**
 * The ISO week (starting on Monday, UTC) of `ms`, as a number of weeks since the Monday before
 * the epoch: the bucket of retention cohorts.
 *
 * @example
 * ```ts
 * weekStart(weekOf(Date.UTC(2024, 0, 3))); // Date.UTC(2024, 0, 1), a Monday
 * ```
 */
export function weekOf(ms: number): number {
  return Math.floor((ms + MONDAY_SHIFT_MS) / WEEK_MS);
}

/**
 * The first millisecond of week `week` (a Monday, 00:00 UTC).
 *
 * @example
 * ```ts
 * new Date(weekStart(2_817)).toISOString(); // '2023-12-25T00:00:00.000Z'
 * ```
 */
export function weekStart(week: number): number {
  return week * WEEK_MS - MONDAY_SHIFT_MS;
}

/**
 * `YYYY-MM-DD` of day `day` (days since the epoch).
 *
 * @example
 * ```ts
 * dayLabel(19_723); // '2024-01-01'
 * ```
 */
export function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
