import { describeValue } from '../../core/errors.js';
import { AnalyticsQueryError } from './errors.js';

/**
 * A point in time a query accepts: epoch milliseconds, a `Date`, or a string (an ISO 8601 date or
 * date-time, or epoch milliseconds as digits, as a query string carries them).
 *
 * @example
 * ```ts
 * await analytics.events({ from: '2024-05-01', to: new Date() });
 * ```
 */
export type Instant = number | string | Date;

/**
 * A time range of a query; both ends optional.
 *
 * @example
 * ```ts
 * const lastMonth: RangeQuery = { from: Date.now() - 30 * 86_400_000 };
 * ```
 */
export interface RangeQuery {
  /** The start. Default: depends on the query (7 days before `to` for events and funnels). */
  from?: Instant;
  /** The end. @defaultValue now */
  to?: Instant;
}

/** @internal An {@link AnalyticsQueryError} naming `parameter`. */
export function badParameter(
  parameter: string,
  value: unknown,
  expected: string,
): AnalyticsQueryError {
  return new AnalyticsQueryError(
    `analytics query: ${parameter}=${describeValue(value)} is invalid: expected ${expected}`,
    { parameter, value, expected },
  );
}

/** @internal Epoch milliseconds of `value`. */
export function parseInstant(value: unknown, parameter: string): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string' && value.length > 0 && value.length <= 64) {
    ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw badParameter(
      parameter,
      value,
      'a time: epoch milliseconds, a Date or an ISO 8601 string',
    );
  }
  return ms;
}

/**
 * @internal The range of `query` in epoch milliseconds: `to` defaults to `now`, `from` to
 * `defaultSpanMs` before `to`; a start before the retention is moved to it. A start after the end
 * is an error naming `from`.
 */
export function parseRange(
  query: RangeQuery | undefined,
  now: number,
  defaultSpanMs: number,
  retentionMs: number,
): { from: number; to: number } {
  if (query !== undefined && (typeof query !== 'object' || query === null)) {
    throw badParameter('query', query, 'an object with from and to');
  }
  const to = query?.to === undefined ? now : parseInstant(query.to, 'to');
  let from = query?.from === undefined ? to - defaultSpanMs : parseInstant(query.from, 'from');
  if (from > to) throw badParameter('from', query?.from, 'a time before `to`');
  from = Math.max(from, now - retentionMs);
  return { from, to: Math.max(from, to) };
}
