import type { MetricRollup, MinuteRollup, OperationRollup } from '../analytics/history/types.js';
import { DurationHistogram } from '../performance/histogram.js';

// The samples the HistoryStore conformance suite writes, and what a query must answer for them.

/** A deterministic pseudo-random generator (mulberry32), so every run writes the same samples. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `n` durations in milliseconds, log-normally spread around `medianMs`. */
export function durations(n: number, medianMs: number, seed: number): number[] {
  const next = random(seed);
  return Array.from({ length: n }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    return Math.round(medianMs * Math.exp(0.8 * normal) * 1000) / 1000;
  });
}

/**
 * The rollup of calls that took `samples` milliseconds, `errors` of which failed.
 *
 * @example
 * ```ts
 * await store.write({ id: 'a', at, operations: [operationRollup('GET /a', {}, [1, 2, 30])], metrics: [] });
 * ```
 */
export function operationRollup(
  name: string,
  labels: Record<string, string>,
  samples: readonly number[],
  errors = 0,
): OperationRollup {
  const histogram = new DurationHistogram();
  for (const ms of samples) histogram.record(ms * 1000);
  const { indexes, counts } = histogram.toSparse();
  return {
    name,
    labels,
    count: samples.length,
    errors,
    slow: 0,
    sumMs: samples.reduce((sum, ms) => sum + ms, 0),
    histogram: { indexes: Array.from(indexes), counts: Array.from(counts) },
  };
}

/** The rollup of a figure's samples. */
export function metricRollup(
  name: string,
  labels: Record<string, string>,
  values: number[],
): MetricRollup {
  return {
    name,
    labels,
    samples: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** A minute's rollup. */
export const rollup = (
  id: string,
  at: number,
  operations: OperationRollup[],
  metrics: MetricRollup[] = [],
): MinuteRollup => ({ id, at, operations, metrics });

/** The percentiles a query answers, from one histogram of every sample. */
export function expectedPercentiles(samples: readonly number[]) {
  const histogram = new DurationHistogram();
  for (const ms of samples) histogram.record(ms * 1000);
  const [p50, p90, p95, p99, p999, max] = histogram
    .percentiles([50, 90, 95, 99, 99.9, 100])
    .map((micros) => micros / 1000);
  return { p50, p90, p95, p99, p999, maxMs: max };
}

/** The exact nearest-rank percentile of the samples. */
export function exact(samples: readonly number[], percentile: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1)]!;
}
