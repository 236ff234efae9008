import type { Level } from './cache-levels.js';
import type { CacheCodec } from './codec.js';
import type { DecodeFailures } from './decode-failure.js';
import type { CacheAnalytics, NamespaceAnalytics, TierAnalytics } from './types.js';

/** @internal The cache's hit and miss counts, overall and per namespace. */
export class CacheCounters {
  hits = 0;
  misses = 0;
  readonly namespaces = new Map<string, NamespaceAnalytics>();
  #lastNamespace: string | undefined;
  #lastStats: NamespaceAnalytics | undefined;

  /** The counters of `namespace`, created on first use. */
  of(namespace: string): NamespaceAnalytics {
    // Consecutive calls mostly stay in one namespace: skip the map lookup then.
    if (namespace === this.#lastNamespace) return this.#lastStats!;
    let stats = this.namespaces.get(namespace);
    if (stats === undefined) {
      stats = {
        hits: 0,
        misses: 0,
        sets: 0,
        deletes: 0,
        staleServed: 0,
        loaderCalls: 0,
        loaderErrors: 0,
        loaderMs: 0,
        dedupedCalls: 0,
        hitRatio: 0,
      };
      this.namespaces.set(namespace, stats);
    }
    this.#lastNamespace = namespace;
    this.#lastStats = stats;
    return stats;
  }

  hit(namespace: string, level: Level): void {
    this.hits++;
    this.of(namespace).hits++;
    if (level.kind === 'local') level.counters.hits++;
    else level.guard.hits++;
  }

  tierMiss(level: Level): void {
    if (level.kind === 'local') level.counters.misses++;
    else level.guard.misses++;
  }

  miss(namespace: string): void {
    this.misses++;
    this.of(namespace).misses++;
  }
}

/** @internal What `Cache.analytics()` reports, from the engine's counters and its parts' own. */
export function cacheAnalytics(
  counters: CacheCounters,
  levels: readonly Level[],
  codec: CacheCodec,
  decodeFailures: DecodeFailures,
  bus: CacheAnalytics['bus'],
): CacheAnalytics {
  const codecStats = codec.stats();
  const namespaces: Record<string, NamespaceAnalytics> = {};
  for (const [name, stats] of counters.namespaces) {
    const lookups = stats.hits + stats.misses;
    namespaces[name] = { ...stats, hitRatio: lookups === 0 ? 0 : stats.hits / lookups };
  }
  const lookups = counters.hits + counters.misses;
  return {
    hits: counters.hits,
    misses: counters.misses,
    hitRatio: lookups === 0 ? 0 : counters.hits / lookups,
    tiers: levels.map(
      (level): TierAnalytics =>
        level.kind === 'remote'
          ? level.guard.analytics()
          : {
              name: level.tier.name,
              ...level.counters,
              errors: 0,
              timeouts: 0,
              circuit: 'closed',
              latency: { count: 0, mean: null, p50: null, p95: null, p99: null },
            },
    ),
    namespaces,
    codec: {
      encoded: codecStats.encoded,
      decoded: codecStats.decoded,
      decodeErrors: codecStats.decodeErrors,
      decodeErrorsByReason: decodeFailures.byReason(),
      compressed: codecStats.compressed,
      compressionRatio:
        codecStats.bytesBeforeCompression === 0
          ? 1
          : codecStats.bytesAfterCompression / codecStats.bytesBeforeCompression,
    },
    bus,
  };
}
