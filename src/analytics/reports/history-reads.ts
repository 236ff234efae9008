// How sections read the metrics history: one point over a whole range, or a chart's series, with
// whole hours when the range is older than the minutes kept, and nothing (not an error) for a
// name the store does not hold.
import { EnterpriseError } from '../../core/errors.js';
import type {
  HistoryPoint,
  HistoryQuery,
  HistorySeries,
  MetricPoint,
  MetricQuery,
  MetricSeries,
  SeriesInfo,
} from '../history/types.js';

/** What the built-in sections read: an instance's `history`, or any history store. */
export interface ReportHistory {
  query(query: HistoryQuery): Promise<HistorySeries>;
  queryMetric(query: MetricQuery): Promise<MetricSeries>;
  series(): Promise<SeriesInfo[]>;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

async function withHours<T>(
  stepMs: number,
  run: (stepMs: number) => Promise<T>,
): Promise<T | null> {
  try {
    return await run(stepMs);
  } catch (error) {
    if (!(error instanceof EnterpriseError) || error.code !== 'E_HISTORY_QUERY') throw error;
    const parameter = error.context.parameter;
    if (parameter === 'step' && stepMs % HOUR_MS !== 0) {
      return withHours(Math.ceil(stepMs / HOUR_MS) * HOUR_MS, run);
    }
    if (parameter === 'operation' || parameter === 'metric' || parameter === 'labels') return null;
    throw error;
  }
}

const stepOf = (ms: number) => `${Math.round(ms / MINUTE_MS)}m` as const;

/**
 * One step covering `from`..`to`. A step of whole hours is answered from the hourly rollups, from
 * the hour before `from`: a whole-hours range that does not start on the hour is read from the
 * minutes instead, as one step a minute longer (the minute starting at `to` counts too; it is the
 * minute under way, not yet written, when the range ends now).
 */
function wholeStep(from: number, to: number): number {
  const range = to - from;
  return range % HOUR_MS === 0 && from % HOUR_MS !== 0 ? range + MINUTE_MS : range;
}

/** @internal An operation's figures over the whole range (one merged point); `null` if unknown. */
export async function operationTotal(
  history: ReportHistory,
  operation: string,
  labels: Record<string, string> | undefined,
  from: number,
  to: number,
): Promise<HistoryPoint | null> {
  const series = await withHours(wholeStep(from, to), (stepMs) =>
    history.query({
      operation,
      ...(labels === undefined ? {} : { labels }),
      from,
      to,
      step: stepOf(stepMs),
    }),
  );
  return series?.points[0] ?? null;
}

/** @internal An operation's series over the range; `null` if unknown. */
export function operationSeries(
  history: ReportHistory,
  operation: string,
  from: number,
  to: number,
  stepMs: number,
): Promise<HistorySeries | null> {
  return withHours(stepMs, (step) => history.query({ operation, from, to, step: stepOf(step) }));
}

/** @internal A figure over the whole range (one point: sum, mean, min, max); `null` if unknown. */
export async function metricTotal(
  history: ReportHistory,
  metric: string,
  labels: Record<string, string> | undefined,
  from: number,
  to: number,
): Promise<MetricPoint | null> {
  const series = await withHours(wholeStep(from, to), (stepMs) =>
    history.queryMetric({
      metric,
      ...(labels === undefined ? {} : { labels }),
      from,
      to,
      step: stepOf(stepMs),
    }),
  );
  return series?.points[0] ?? null;
}

/** @internal A figure's series over the range; `null` if unknown. */
export function metricSeries(
  history: ReportHistory,
  metric: string,
  labels: Record<string, string> | undefined,
  from: number,
  to: number,
  stepMs: number,
): Promise<MetricSeries | null> {
  return withHours(stepMs, (step) =>
    history.queryMetric({
      metric,
      ...(labels === undefined ? {} : { labels }),
      from,
      to,
      step: stepOf(step),
    }),
  );
}

/** @internal The label sets the store holds for a name, by kind. */
export function labelSets(series: readonly SeriesInfo[], kind: SeriesInfo['kind'], name: string) {
  return series.filter((s) => s.kind === kind && s.name === name).map((s) => s.labels);
}

/** @internal The distinct operation names the store holds. */
export function operationNames(series: readonly SeriesInfo[]): string[] {
  return [...new Set(series.filter((s) => s.kind === 'operation').map((s) => s.name))].sort();
}

/** @internal Runs `fn` over `items`, `limit` at a time, keeping order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** @internal Rounds for display: 3 significant digits below 100, whole numbers above. */
export function round(value: number | null | undefined): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}
