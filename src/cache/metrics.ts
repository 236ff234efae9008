import type { MetricFamily } from '../performance/prometheus.js';
import type { CacheAnalytics } from './types.js';

type Sample = MetricFamily['samples'][number];

/**
 * The cache's figures as Prometheus metric families, from `analytics()`. Without analytics (a
 * cache not built yet) the same families come out empty, so their names are known up front.
 *
 * @internal
 */
export function cacheMetricFamilies(
  prefix: string,
  analytics: CacheAnalytics | undefined,
): MetricFamily[] {
  const p = `${prefix}cache_`;
  const family = (
    name: string,
    help: string,
    type: MetricFamily['type'],
    samples: Sample[],
  ): MetricFamily => ({ name: `${p}${name}`, help, type, samples });
  const namespaces = Object.entries(analytics?.namespaces ?? {});
  const tiers = analytics?.tiers ?? [];
  const perNamespace = (
    name: string,
    help: string,
    pick: (n: CacheAnalytics['namespaces'][string]) => number,
  ) =>
    family(
      name,
      help,
      'counter',
      namespaces.map(([namespace, stats]) => ({
        name: `${p}${name}`,
        labels: { namespace },
        value: pick(stats),
      })),
    );
  const perTier = (
    name: string,
    help: string,
    type: MetricFamily['type'],
    pick: (t: CacheAnalytics['tiers'][number]) => number | null,
  ) =>
    family(
      name,
      help,
      type,
      tiers.flatMap((tier) => {
        const value = pick(tier);
        return value === null ? [] : [{ name: `${p}${name}`, labels: { tier: tier.name }, value }];
      }),
    );
  return [
    perNamespace('hits_total', 'Cache reads answered with a fresh value.', (n) => n.hits),
    perNamespace('misses_total', 'Cache reads that found no fresh value.', (n) => n.misses),
    perNamespace('sets_total', 'Values written to the cache.', (n) => n.sets),
    perNamespace('deletes_total', 'Keys deleted from the cache.', (n) => n.deletes),
    perNamespace(
      'stale_served_total',
      'Expired values served within their grace period.',
      (n) => n.staleServed,
    ),
    perNamespace('loader_calls_total', 'getOrSet loaders run.', (n) => n.loaderCalls),
    perNamespace('loader_errors_total', 'getOrSet loaders that failed.', (n) => n.loaderErrors),
    perNamespace(
      'deduplicated_calls_total',
      'getOrSet calls that waited for a loader already running.',
      (n) => n.dedupedCalls,
    ),
    perTier(
      'tier_hits_total',
      'Reads a tier answered with a fresh value.',
      'counter',
      (t) => t.hits,
    ),
    perTier('tier_misses_total', 'Reads a tier could not answer.', 'counter', (t) => t.misses),
    perTier(
      'tier_errors_total',
      'Tier operations that failed, timed out or were skipped.',
      'counter',
      (t) => t.errors,
    ),
    perTier('tier_timeouts_total', 'Tier operations that timed out.', 'counter', (t) => t.timeouts),
    perTier(
      'tier_circuit_open',
      'Whether the circuit of a tier is open (1) or not (0).',
      'gauge',
      (t) => (t.circuit === 'open' ? 1 : 0),
    ),
    perTier(
      'tier_latency_p99_seconds',
      '99th percentile latency of a tier in seconds.',
      'gauge',
      (t) => (t.latency.p99 === null ? null : t.latency.p99 / 1000),
    ),
    family(
      'compression_ratio',
      'Bytes after compression divided by bytes before, over compressed values.',
      'gauge',
      analytics === undefined
        ? []
        : [{ name: `${p}compression_ratio`, labels: {}, value: analytics.codec.compressionRatio }],
    ),
  ];
}
