import type { Duration } from '../core/duration.js';

/**
 * What the engine tells a tier about an entry besides its payload. Times are epoch milliseconds.
 */
export interface EntryMeta {
  /** When the value was produced. */
  createdAt: number;
  /** Until when the value is fresh. */
  expiresAt: number;
  /**
   * Until when the value may still be served stale (grace period); at least `expiresAt`. A tier
   * must keep the entry until then and must not return it afterwards.
   */
  staleUntil: number;
  /** Tags for {@link CacheTier.deleteByTags}. */
  tags: readonly string[];
}

/** An entry as a tier returns it: the payload and its metadata. */
export interface StoredEntry<P> extends EntryMeta {
  payload: P;
}

/**
 * One level of the cache: memory (L1), Redis (L2), a SQL table (L3), or your own.
 *
 * Namespaces are isolated: nothing done in one namespace reads, deletes or clears an entry of
 * another, whatever characters namespaces and keys hold. Keys may be any non-empty string of any
 * length. Every method settles: a tier that cannot reach its store rejects (the engine applies a
 * timeout and a circuit breaker around remote tiers, and falls back to the other tiers).
 *
 * Remote tiers (`local: false`) store the bytes the engine's codec produced; local tiers store the
 * value itself, without serializing it. Both keep the metadata and return it with the payload.
 *
 * The engine depends on this interface only: any tier, yours included, may take any place in the
 * list. Optional members let a tier do more: a local tier that can answer synchronously
 * ({@link CacheTier.peek}) makes a hit cost no promise; a shared remote tier may offer the
 * invalidation bus and the lock that go with it ({@link CacheTier.invalidationBus},
 * {@link CacheTier.distributedLock}), as the Redis tier does.
 *
 * Every implementation passes the conformance suite `describeCacheTier` of
 * `@revcopy/enterprise/testing`.
 *
 * @typeParam P - `Uint8Array` for remote tiers, `unknown` for local ones.
 * @example
 * ```ts
 * const cache = createCache({ tiers: [memoryTier({ maxSize: 1000 }), redisTier({ url })] });
 * ```
 */
export interface CacheTier<P = Uint8Array> {
  /** Short name used in analytics, logs and events: `memory`, `redis`, `postgres`, `sqlite`. */
  readonly name: string;
  /** `true` for in-process tiers that store values as they are. */
  readonly local: boolean;
  /**
   * The entry under `key` in `namespace` with its metadata exactly as set, or `undefined` when
   * absent or past its `staleUntil`.
   */
  get(namespace: string, key: string): Promise<StoredEntry<P> | undefined>;
  /** Stores `payload` until `meta.staleUntil`, replacing any previous entry and its tags. */
  set(namespace: string, key: string, payload: P, meta: EntryMeta): Promise<void>;
  /** Removes one entry; resolves whether it existed. */
  delete(namespace: string, key: string): Promise<boolean>;
  /**
   * Removes the entry under `key` only if it is still exactly `entry` (as `get` returned it:
   * the same payload bytes, times and tags), in one atomic step; resolves whether it did. The
   * engine calls it to drop an entry that no reader can decode (its integrity check failed), so
   * that a valid value written meanwhile by another instance is never removed. Optional: the
   * engine never deletes an undecodable entry from a tier without it (the entry stays until it
   * expires or is replaced).
   */
  deleteIfUnchanged?(namespace: string, key: string, entry: StoredEntry<P>): Promise<boolean>;
  /**
   * Removes every entry carrying any of `tags`, in `namespace` only when given, else in every
   * namespace. Resolves how many entries were removed.
   */
  deleteByTags(tags: readonly string[], namespace?: string): Promise<number>;
  /** Removes every entry of `namespace`, or of every namespace of this tier when omitted. */
  clear(namespace?: string): Promise<void>;
  /**
   * Removes entries past their `staleUntil` that the store does not expire by itself (the SQL
   * tiers); resolves how many. The maintenance tasks call it on a schedule.
   */
  removeExpired(): Promise<number>;
  /**
   * Resolves when the store answers (one round trip for a remote tier), rejects when it cannot be
   * reached or the tier is closed. Health checks call it; it reads and writes nothing.
   */
  ping(): Promise<void>;
  /**
   * The version of the server the tier stores in (`'7.2.4'` for Redis, `'16.4'` for PostgreSQL,
   * the library's for SQLite), for `/info`. Optional: a tier without a server leaves it out.
   * Rejects when the store cannot be reached; callers bound it with their own timeout.
   */
  serverVersion?(): Promise<string | undefined>;
  /** Releases what the tier opened (never a client or pool it was given). Idempotent. */
  close(): Promise<void>;
  /**
   * Optional, for local tiers: what `get` would resolve, returned synchronously, judged against
   * `now` (epoch milliseconds, possibly up to a millisecond old) instead of reading the clock. The
   * engine answers a hit of the first local tier from it without a promise or a microtask; without
   * it, the engine awaits `get`. Must not throw.
   */
  peek?(namespace: string, key: string, now: number): StoredEntry<P> | undefined;
  /**
   * Optional: the longest time in milliseconds an entry stays in this tier, whatever its TTL. The
   * engine shortens `expiresAt` and `staleUntil` to it when writing here (the memory tier's
   * `maxTtlMs` option: a short L1 lifetime over a long L2 one bounds how stale an instance gets).
   */
  readonly maxTtlMs?: number | undefined;
  /**
   * Optional, for a remote tier shared by several instances: a bus that carries invalidations
   * between them through the same store. A cache with a local tier and no `bus` option calls it
   * on the first tier that has it, once, and closes the bus on `close()`.
   */
  invalidationBus?(hooks: InvalidationBusHooks): InvalidationBus;
  /**
   * Optional, for a remote tier shared by several processes: a lock in the same store, for
   * `getOrSet({ lock: true })`. A cache with no `lock` option calls it on the first tier that has
   * it, once.
   */
  distributedLock?(): DistributedLock;
}

/**
 * What the cache hands {@link CacheTier.invalidationBus}: the bus reports to it instead of throwing
 * or emitting.
 *
 * @example
 * ```ts
 * invalidationBus(hooks: InvalidationBusHooks): InvalidationBus {
 *   return new RedisInvalidationBus({ client: this.client, prefix: this.prefix, ...hooks });
 * }
 * ```
 */
export interface InvalidationBusHooks {
  /**
   * Call after the connection came back and the bus is subscribed again: messages sent meanwhile
   * are lost, so the cache drops its local tier.
   */
  onReconnect: () => void;
  /** Call with connection errors, malformed messages and failing handlers; the cache logs them. */
  onError: (error: Error) => void;
}

/** A message that tells other instances to drop entries from their local tier. */
export type InvalidationMessage =
  | { type: 'delete'; origin: string; namespace: string; keys: string[] }
  | { type: 'tags'; origin: string; namespace?: string; tags: string[] }
  | { type: 'clear'; origin: string; namespace?: string };

/**
 * Carries invalidations between instances that share remote tiers, so that their local tiers do
 * not keep serving values that were changed elsewhere. The Redis implementation uses pub/sub.
 * Pass one as the `bus` option of `createCache`, or offer it from a tier
 * ({@link CacheTier.invalidationBus}). Every method settles; the cache logs a rejection.
 *
 * @example
 * ```ts
 * const bus: InvalidationBus = new RedisInvalidationBus({ url, prefix: 'shop:cache' });
 * const cache = createCache({ tiers: [memoryTier(), postgresTier({ pool })], bus });
 * ```
 */
export interface InvalidationBus {
  /** Sends `message` to every other subscribed instance. */
  publish(message: InvalidationMessage): Promise<void>;
  /** Registers the handler of messages from other instances (messages of `origin` are skipped). */
  subscribe(origin: string, handler: (message: InvalidationMessage) => void): Promise<void>;
  /** Unsubscribes and closes the connections the bus opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * A lock shared by every process, for stampede protection across processes: only the holder
 * runs the loader, the others wait for its value. Pass one as the `lock` option of `createCache`,
 * or offer it from a tier ({@link CacheTier.distributedLock}).
 *
 * @example
 * ```ts
 * const lock: DistributedLock = new RedisLock({ url, prefix: 'shop:lock' });
 * const cache = createCache({ tiers: [memoryTier(), postgresTier({ pool })], lock });
 * ```
 */
export interface DistributedLock {
  /**
   * Tries to take the lock on `resource` for `ttlMs`; resolves a release token, or `undefined` if
   * another holder has it. The lock expires by itself after `ttlMs`, so a crashed holder frees it.
   */
  acquire(resource: string, ttlMs: number): Promise<string | undefined>;
  /** Releases the lock if `token` still holds it (never another holder's lock taken since). */
  release(resource: string, token: string): Promise<void>;
}

/** Options shared by the write operations. */
export interface CacheWriteOptions {
  /** Namespace of the key. @defaultValue 'default' */
  namespace?: string;
  /** Time to live: seconds or a unit string. @defaultValue CACHE_DEFAULT_TTL (3600) */
  ttl?: Duration;
  /** Tags for `invalidateTags`. */
  tags?: readonly string[];
  /**
   * Grace period after the TTL during which the expired value is still served by `getOrSet`
   * while one background refresh runs, and whenever the loader or a tier fails.
   */
  grace?: Duration;
}

/** Options of `get`, `has` and `delete`. */
export interface CacheReadOptions {
  /** @defaultValue 'default' */
  namespace?: string;
}

/** Options of `getOrSet`. */
export interface GetOrSetOptions extends CacheWriteOptions {
  /** Loader timeouts. */
  timeout?: {
    /**
     * With a stale value available: serve it after this long and let the loader finish in the
     * background.
     */
    soft?: Duration;
    /** Give up waiting after this long (`CacheLoaderTimeoutError` when nothing stale exists). */
    hard?: Duration;
  };
  /**
   * Run the loader once across every process sharing the Redis tier (a distributed lock), not
   * only once per process. @defaultValue false
   */
  lock?: boolean | { ttl?: Duration; wait?: Duration };
}

/** What {@link Cache.ping} found out about one tier. */
export interface TierHealth {
  /** The tier's name: `memory`, `redis`, `postgres`, `sqlite`, ... */
  name: string;
  /** `true` for an in-process tier, which always answers. */
  local: boolean;
  /** Whether the tier answered within the cache's remote timeout. */
  ok: boolean;
  /** How long the answer (or the failure) took. */
  latencyMs: number;
  /** The tier's circuit breaker (`null` for local tiers). An open circuit is not probed. */
  circuit: 'closed' | 'open' | 'half-open' | null;
  /** Why it is not ok. */
  error?: string;
}

/** Per-tier figures of {@link CacheAnalytics}. */
export interface TierAnalytics {
  name: string;
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  errors: number;
  timeouts: number;
  /** `closed` (healthy), `open` (calls skipped) or `half-open` (probing). */
  circuit: 'closed' | 'open' | 'half-open';
  /** Latency of the tier's operations in milliseconds (`null` before the first one). */
  latency: {
    count: number;
    mean: number | null;
    p50: number | null;
    p95: number | null;
    p99: number | null;
  };
}

/** Per-namespace figures of {@link CacheAnalytics}. */
export interface NamespaceAnalytics {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  staleServed: number;
  loaderCalls: number;
  loaderErrors: number;
  /**
   * Milliseconds spent in this namespace's loaders, failed calls included, on the cache's clock:
   * `loaderMs / loaderCalls` is the mean load time (calls still running count in `loaderCalls`
   * only once they finish here).
   */
  loaderMs: number;
  /** `getOrSet` calls that waited for a loader already running instead of running their own. */
  dedupedCalls: number;
  hitRatio: number;
}

/** What `cache.analytics()` returns. */
export interface CacheAnalytics {
  hits: number;
  misses: number;
  hitRatio: number;
  tiers: TierAnalytics[];
  namespaces: Record<string, NamespaceAnalytics>;
  codec: {
    encoded: number;
    decoded: number;
    decodeErrors: number;
    /** Decode errors of the engine's reads by `context.reason` (`unknown-key-id`, ...). */
    decodeErrorsByReason: Record<string, number>;
    compressed: number;
    /** Bytes after compression divided by bytes before, over compressed values (1 when none). */
    compressionRatio: number;
  };
  bus: { published: number; received: number; errors: number } | null;
}

/** Cache events. */
export interface CacheEvents {
  /** A tier failed, timed out or was skipped because its circuit is open. */
  'tier-error': [event: { tier: string; operation: string; error: Error }];
  /** A tier's circuit changed state. */
  circuit: [event: { tier: string; state: 'closed' | 'open' | 'half-open' }];
  /**
   * An entry could not be decoded and was treated as a miss. `reason` is the codec's
   * (`context.reason` of the `CacheCodecError`). `corrupt` is true when no reader could decode it
   * (its integrity check failed, or it is cut short or not an entry at all): the engine then
   * deletes it from the tier if it is still unchanged. Otherwise this reader's configuration
   * refused it (an unknown key id, encryption on or off, a newer format) and it is left in place
   * for the readers that can decode it.
   */
  'decode-error': [
    event: {
      tier: string;
      namespace: string;
      key: string;
      error: Error;
      reason: string;
      corrupt: boolean;
    },
  ];
  /** A stale value was served (grace). */
  'stale-served': [
    event: {
      namespace: string;
      key: string;
      reason: 'refreshing' | 'loader-failed' | 'loader-slow' | 'tier-failed';
    },
  ];
  /** A warmer finished. */
  warmed: [event: { name: string; durationMs: number; error?: Error }];
}
