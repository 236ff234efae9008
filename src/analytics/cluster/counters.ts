// What an instance publishes of its cache and task modules, read through small input shapes so the
// cluster view needs neither module: the composition hands in `() => cacheCounters(cache.analytics())`.
import type { CacheCounters, TaskCounters } from './types.js';

/**
 * The parts of `cache.analytics()` {@link cacheCounters} reads.
 *
 * @example
 * ```ts
 * const input: CacheCountersInput = { hits: 9, misses: 1, tiers: [], namespaces: {} };
 * ```
 */
export interface CacheCountersInput {
  hits: number;
  misses: number;
  tiers?: readonly { name: string; hits: number; misses: number; sets?: number; errors?: number }[];
  namespaces?: Readonly<
    Record<string, { hits: number; misses: number; sets?: number; loaderErrors?: number }>
  >;
}

const n = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * The cache counters an instance publishes: hits and misses overall, per tier and per namespace.
 *
 * @example
 * ```ts
 * new ClusterView({ url, cache: () => cacheCounters(enterprise.cache.analytics()) });
 * ```
 */
export function cacheCounters(analytics: CacheCountersInput): CacheCounters {
  const namespaces: CacheCounters['namespaces'] = {};
  for (const [name, ns] of Object.entries(analytics.namespaces ?? {})) {
    namespaces[name] = {
      hits: n(ns.hits),
      misses: n(ns.misses),
      sets: n(ns.sets),
      loaderErrors: n(ns.loaderErrors),
    };
  }
  return {
    hits: n(analytics.hits),
    misses: n(analytics.misses),
    tiers: (analytics.tiers ?? []).map((tier) => ({
      name: String(tier.name),
      hits: n(tier.hits),
      misses: n(tier.misses),
      sets: n(tier.sets),
      errors: n(tier.errors),
    })),
    namespaces,
  };
}

/**
 * The parts of `tasks.stats()` {@link taskCounters} reads.
 *
 * @example
 * ```ts
 * const input: TaskCountersInput = { throughput: { completedPerSecond: 2, failedPerSecond: 0 }, totals: { completed: 10, failed: 0, retried: 0, dead: 0 } };
 * ```
 */
export interface TaskCountersInput {
  throughput?: { completedPerSecond?: number; failedPerSecond?: number };
  totals?: { completed?: number; failed?: number; retried?: number; dead?: number };
}

/**
 * The task counters an instance publishes: its workers' throughput and totals.
 *
 * @example
 * ```ts
 * new ClusterView({ url, tasks: async () => taskCounters(await enterprise.tasks.stats()) });
 * ```
 */
export function taskCounters(stats: TaskCountersInput): TaskCounters {
  return {
    throughput: {
      completedPerSecond: n(stats.throughput?.completedPerSecond),
      failedPerSecond: n(stats.throughput?.failedPerSecond),
    },
    totals: {
      completed: n(stats.totals?.completed),
      failed: n(stats.totals?.failed),
      retried: n(stats.totals?.retried),
      dead: n(stats.totals?.dead),
    },
  };
}
