// Merging what instances published: counts and histogram buckets add up, percentiles are read
// from the summed buckets (never averaged), rates add up.
import type { WindowName, WindowTotals } from '../../performance/types.js';
import { BucketMerger } from '../history/buckets.js';
import { canonicalLabels } from '../history/series-key.js';
import type {
  CacheCounters,
  ClusterCacheSummary,
  ClusterOperationStats,
  ClusterTaskFigures,
  ClusterWindowStats,
  InstanceSnapshot,
  PublishedOperation,
  PublishedWindow,
  TaskCounters,
} from './types.js';

const WINDOWS: readonly WindowName[] = ['1m', '5m', '15m', 'all'];
const PERCENTILES = [50, 95, 99, 99.9] as const;

/** @internal One window of the performance monitor as published (arrays instead of typed arrays). */
export function publishedWindow(totals: WindowTotals): PublishedWindow {
  return {
    count: totals.count,
    errors: totals.errors,
    slow: totals.slow,
    sumMs: totals.sumMs,
    minMs: totals.minMs,
    maxMs: totals.maxMs,
    coveredSeconds: totals.coveredSeconds,
    indexes: Array.from(totals.histogram.indexes),
    counts: Array.from(totals.histogram.counts),
  };
}

/** @internal Windows of several instances (or one) as statistics. */
export function mergeWindows(
  parts: readonly PublishedWindow[],
  merger: BucketMerger,
): ClusterWindowStats {
  let count = 0;
  let errors = 0;
  let slow = 0;
  let sumMs = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let throughput = 0;
  let coveredSeconds = 0;
  for (const part of parts) {
    count += part.count;
    errors += part.errors;
    slow += part.slow;
    sumMs += part.sumMs;
    if (part.minMs !== null && part.minMs < min) min = part.minMs;
    if (part.maxMs !== null && part.maxMs > max) max = part.maxMs;
    if (part.coveredSeconds > 0) throughput += part.count / part.coveredSeconds;
    coveredSeconds = Math.max(coveredSeconds, part.coveredSeconds);
    merger.add({ indexes: part.indexes, counts: part.counts });
  }
  const empty = count === 0;
  const micros = merger.take(PERCENTILES);
  // Percentiles are the upper end of their bucket, clamped into the exact min and max, as the
  // performance monitor reads its own.
  const at = (value: number | undefined) =>
    empty || value === undefined || Number.isNaN(value)
      ? null
      : Math.min(max, Math.max(min, value / 1000));
  return {
    count,
    errors,
    errorRate: empty ? 0 : errors / count,
    slow,
    min: empty ? null : min,
    max: empty ? null : max,
    mean: empty ? null : sumMs / count,
    p50: at(micros[0]),
    p95: at(micros[1]),
    p99: at(micros[2]),
    p999: at(micros[3]),
    totalMs: sumMs,
    throughput,
    coveredSeconds,
  };
}

/**
 * @internal Every operation of every instance, merged by name and label set, with each
 * instance's own statistics; busiest (last 5 minutes) first.
 */
export function mergeOperations(snapshots: readonly InstanceSnapshot[]): ClusterOperationStats[] {
  const groups = new Map<
    string,
    { op: PublishedOperation; parts: [string, PublishedOperation][] }
  >();
  for (const snapshot of snapshots) {
    for (const op of snapshot.operations) {
      const key = `${op.name}\u0000${canonicalLabels(op.labels)}`;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { op, parts: [] }));
      group.parts.push([snapshot.instance.id, op]);
    }
  }
  const merger = new BucketMerger();
  const merged: ClusterOperationStats[] = [];
  for (const { op, parts } of groups.values()) {
    const windows = {} as Record<WindowName, ClusterWindowStats>;
    for (const window of WINDOWS) {
      windows[window] = mergeWindows(
        parts.map(([, p]) => p.windows[window]),
        merger,
      );
    }
    const instances = parts.map(([instance, p]) => {
      const own = {} as Record<WindowName, ClusterWindowStats>;
      for (const window of WINDOWS) own[window] = mergeWindows([p.windows[window]], merger);
      return { instance, windows: own };
    });
    merged.push({ name: op.name, labels: { ...op.labels }, windows, instances });
  }
  return merged.sort((a, b) => b.windows['5m'].count - a.windows['5m'].count);
}

const ratio = (hits: number, misses: number) => (hits + misses === 0 ? 0 : hits / (hits + misses));

/** @internal The cache counters of every instance that has a cache, summed. */
export function mergeCache(
  snapshots: readonly InstanceSnapshot[],
): Omit<ClusterCacheSummary, 'scope' | 'generatedAt' | 'instances'> {
  const total: CacheCounters = { hits: 0, misses: 0, tiers: [], namespaces: {} };
  const tiers = new Map<string, CacheCounters['tiers'][number]>();
  const byInstance: ClusterCacheSummary['byInstance'] = [];
  for (const { instance, cache } of snapshots) {
    if (cache === null) continue;
    total.hits += cache.hits;
    total.misses += cache.misses;
    byInstance.push({
      instance: instance.id,
      hits: cache.hits,
      misses: cache.misses,
      hitRatio: ratio(cache.hits, cache.misses),
    });
    for (const tier of cache.tiers) {
      const into = tiers.get(tier.name) ?? {
        name: tier.name,
        hits: 0,
        misses: 0,
        sets: 0,
        errors: 0,
      };
      into.hits += tier.hits;
      into.misses += tier.misses;
      into.sets += tier.sets;
      into.errors += tier.errors;
      tiers.set(tier.name, into);
    }
    for (const [name, ns] of Object.entries(cache.namespaces)) {
      const into = (total.namespaces[name] ??= { hits: 0, misses: 0, sets: 0, loaderErrors: 0 });
      into.hits += ns.hits;
      into.misses += ns.misses;
      into.sets += ns.sets;
      into.loaderErrors += ns.loaderErrors;
    }
  }
  return {
    enabled: byInstance.length > 0,
    hits: total.hits,
    misses: total.misses,
    hitRatio: ratio(total.hits, total.misses),
    tiers: [...tiers.values()],
    namespaces: total.namespaces,
    byInstance,
  };
}

/** @internal The task counters of every instance that runs tasks, summed. */
export function mergeTasks(snapshots: readonly InstanceSnapshot[]): ClusterTaskFigures {
  const figures: ClusterTaskFigures = {
    throughput: { completedPerSecond: 0, failedPerSecond: 0 },
    totals: { completed: 0, failed: 0, retried: 0, dead: 0 },
    byInstance: [],
  };
  for (const { instance, tasks } of snapshots) {
    if (tasks === null) continue;
    figures.throughput.completedPerSecond += tasks.throughput.completedPerSecond;
    figures.throughput.failedPerSecond += tasks.throughput.failedPerSecond;
    for (const key of Object.keys(figures.totals) as (keyof TaskCounters['totals'])[]) {
      figures.totals[key] += tasks.totals[key];
    }
    figures.byInstance.push({ instance: instance.id, ...tasks });
  }
  return figures;
}
