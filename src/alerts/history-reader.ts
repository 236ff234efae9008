// The alerts module's view of a metrics history: past readings of a value source's series. The
// module declares it and never imports the analytics module; the composition root adapts the
// instance's history store to it.
import type { AlertLabels } from './types.js';

/**
 * What the engine asks a history for when it seeds one rule: the source's series over a range,
 * at the spacing the rule's detector learns at.
 *
 * @example
 * ```ts
 * const request: AlertHistoryRequest = {
 *   source: 'system.cpu', from: now - 3_600_000, to: now, stepMs: 60_000, maxSeries: 100,
 *   signal: AbortSignal.timeout(10_000),
 * };
 * ```
 */
export interface AlertHistoryRequest {
  /** The value source's name, as rules `watch` it (`operation.p95`, `system.cpu`...). */
  readonly source: string;
  /** The rule's `where`: only the series whose labels include every one of these. */
  readonly where?: AlertLabels;
  /** Start of the range, epoch milliseconds, inclusive. */
  readonly from: number;
  /** End of the range, epoch milliseconds, exclusive: the end of the last whole minute. */
  readonly to: number;
  /**
   * The spacing of the points, a whole number of minutes. Where the history keeps only coarser
   * rollups (hours, past its minutes' retention), it may answer those instead.
   */
  readonly stepMs: number;
  /** The most series to answer. */
  readonly maxSeries: number;
  /** Aborted when the engine stops waiting (its `historyTimeout` passed, or it was closed). */
  readonly signal: AbortSignal;
}

/**
 * One past reading: when a live reading would have shown `value` (epoch milliseconds), and the
 * value.
 *
 * @example
 * ```ts
 * const point: AlertHistoryPoint = { at: 1_735_689_660_000, value: 182.5 };
 * ```
 */
export interface AlertHistoryPoint {
  at: number;
  value: number;
}

/**
 * The past readings of one series of a source, labelled as the source labels it live, oldest
 * first.
 *
 * @example
 * ```ts
 * const past: AlertHistorySeries = { labels: { operation: 'GET /users' }, points: [{ at, value: 120 }] };
 * ```
 */
export interface AlertHistorySeries {
  labels: AlertLabels;
  points: readonly AlertHistoryPoint[];
}

/**
 * Answers past readings of a value source, so that anomaly, trend and forecast rules start from
 * what the history holds instead of learning again after every restart. An instance with the
 * metrics history wires one reading it; give your own in `new Alerts({ history })`.
 *
 * `read` answers `undefined` for a source it holds no history of (its rules learn live, as
 * without a history). It may reject or be slow: the engine waits at most `historyTimeout`, then
 * carries on without it and logs one warning.
 *
 * @example
 * ```ts
 * const history: AlertHistoryReader = {
 *   async read({ source, from, to, stepMs }) {
 *     if (source !== 'kafka.lag') return undefined;
 *     const rows = await db.lagBetween(from, to, stepMs);
 *     return [{ labels: { topic: 'orders' }, points: rows.map((r) => ({ at: r.at, value: r.lag })) }];
 *   },
 * };
 * ```
 */
export interface AlertHistoryReader {
  read(request: AlertHistoryRequest): Promise<readonly AlertHistorySeries[] | undefined>;
}
