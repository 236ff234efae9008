import type { Cache } from '../../cache/cache.js';
import type { CacheAnalytics } from '../../cache/types.js';
import { type Clock, systemClock } from '../../core/clock.js';
import type { Duration } from '../../core/duration.js';
import { parseDuration } from '../../core/duration.js';
import type { SeriesValue, ValueSource } from '../types.js';
import { CounterWindow } from './counter-window.js';
import { sharedRead } from './shared-read.js';

/** What the cache sources read of a cache (a `Cache` is one). */
export type CacheReader = Pick<Cache, 'analytics'>;

/**
 * Options of {@link cacheSources}.
 *
 * @example
 * ```ts
 * const options: CacheSourceOptions = { window: '5m' };
 * ```
 */
export interface CacheSourceOptions {
  /**
   * The rolling window hit ratios and errors are counted over: the cache counts since it was
   * built, and a ratio over hours moves too little to show a collapse. @defaultValue '1m'
   */
  window?: Duration;
  /** Sources read within this many milliseconds share one `analytics()` call. @defaultValue 1000 */
  reuseMs?: number;
  /** @internal The time source of the window, for tests. */
  clock?: Pick<Clock, 'now'>;
}

/** One reading of the cache, the counters turned into increases over the window. */
interface CacheReading {
  analytics: CacheAnalytics;
  increases: ReadonlyMap<string, number>;
}

const SEP = '\u0000';

/**
 * The value sources of the cache: `cache.hit_ratio` (0 to 1) over the last `window`, one series
 * per namespace (labels `{ namespace }`) and one per tier (labels `{ tier }`), `null` when it saw no
 * lookup; `cache.tier_errors`, the failed, timed-out and circuit-skipped operations of each tier in
 * the window (`{ tier }`); and `cache.breaker_open`, 1 while a tier's circuit breaker is open or
 * half-open, else 0 (`{ tier }`). The first read counts from the cache's start; until the reads
 * span a window, later ones count from the oldest read kept.
 *
 * @example
 * ```ts
 * const sources = cacheSources(enterprise.cache);
 * // cache.hit_ratio: [{ labels: { namespace: 'users' }, value: 0.93 }, { labels: { tier: 'memory' }, value: 0.88 }]
 * ```
 */
export function cacheSources(cache: CacheReader, options: CacheSourceOptions = {}): ValueSource[] {
  const clock = options.clock ?? systemClock;
  const windowMs = parseDuration(options.window ?? '1m', 'window');
  const counters = new CounterWindow(windowMs, clock);
  const read = sharedRead(
    (): CacheReading => {
      const analytics = cache.analytics();
      return { analytics, increases: counters.increase(countersOf(analytics)) };
    },
    options.reuseMs ?? 1_000,
    clock,
  );
  const window = options.window ?? '1m';
  return [
    {
      name: 'cache.hit_ratio',
      description: `Share of lookups that hit, per namespace and per tier, over the last ${window}`,
      read: async () => {
        const { analytics, increases } = await read();
        const ratio = (prefix: string): number | null => {
          const hits = increases.get(`${prefix}${SEP}hits`) ?? 0;
          const misses = increases.get(`${prefix}${SEP}misses`) ?? 0;
          return hits + misses === 0 ? null : hits / (hits + misses);
        };
        const series: SeriesValue[] = Object.keys(analytics.namespaces).map((namespace) => ({
          labels: { namespace },
          value: ratio(`ns${SEP}${namespace}`),
        }));
        for (const tier of analytics.tiers) {
          series.push({ labels: { tier: tier.name }, value: ratio(`tier${SEP}${tier.name}`) });
        }
        return series;
      },
    },
    {
      name: 'cache.tier_errors',
      description: `Failed, timed-out and circuit-skipped operations per tier over the last ${window}`,
      read: async () => {
        const { analytics, increases } = await read();
        return analytics.tiers.map((tier) => ({
          labels: { tier: tier.name },
          value: increases.get(`tier${SEP}${tier.name}${SEP}errors`) ?? 0,
        }));
      },
    },
    {
      name: 'cache.breaker_open',
      description: "1 while a tier's circuit breaker is open or half-open, else 0",
      read: async () =>
        (await read()).analytics.tiers.map((tier) => ({
          labels: { tier: tier.name },
          value: tier.circuit === 'closed' ? 0 : 1,
        })),
    },
  ];
}

/** The counters the window follows, keyed `ns|tier, name, counter`. */
function countersOf(analytics: CacheAnalytics): Map<string, number> {
  const counters = new Map<string, number>();
  for (const [namespace, stats] of Object.entries(analytics.namespaces)) {
    counters.set(`ns${SEP}${namespace}${SEP}hits`, stats.hits);
    counters.set(`ns${SEP}${namespace}${SEP}misses`, stats.misses);
  }
  for (const tier of analytics.tiers) {
    counters.set(`tier${SEP}${tier.name}${SEP}hits`, tier.hits);
    counters.set(`tier${SEP}${tier.name}${SEP}misses`, tier.misses);
    counters.set(`tier${SEP}${tier.name}${SEP}errors`, tier.errors);
  }
  return counters;
}
