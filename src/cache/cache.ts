import { type Clock, systemClock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Emitter } from '../core/events.js';
import { quitClient } from '../redis/client.js';
import { type CacheCounters, cacheAnalytics } from './cache-analytics.js';
import { assembleCache, type OwnedResources } from './cache-assembly.js';
import { checkTags, notAList, raceTimeout } from './cache-checks.js';
import type { PeekableTier } from './cache-levels.js';
import type { CacheCodec } from './codec.js';
import type { DecodeFailures } from './decode-failure.js';
import {
  checkLoader,
  type GetOrSet,
  type LoaderContext,
  loaderTimeout,
  loadId,
} from './get-or-set.js';
import { HotKeys, type HotRefreshReport, refreshHotKeys } from './hot-keys.js';
import type { Invalidation } from './invalidation.js';
import { checkKey, checkNamespace } from './keys.js';
import type { LocalLevel } from './local-level.js';
import type { CacheSettings } from './options.js';
import type { TierStack } from './tier-stack.js';
import type {
  CacheAnalytics,
  CacheEvents,
  CacheReadOptions,
  CacheWriteOptions,
  GetOrSetOptions,
  StoredEntry,
  TierHealth,
} from './types.js';
import type { Warmers } from './warmers.js';

export type { LoaderContext };

/**
 * The multi-tier cache.
 *
 * Reads go through the tiers in order and fill the faster tiers on the way back with the remaining
 * TTL; writes go to every tier; invalidations (delete, tags, clear) reach every tier and, through
 * the bus, the in-process tier of every other instance. A remote tier that fails or is slow costs a
 * caller at most its timeout and then nothing while its circuit is open: the cache answers from the
 * tiers that work, and nothing it does throws because of a tier.
 *
 * Get the default instance's as `cache`, an instance's as `enterprise.cache`, or build one with
 * {@link createCache}.
 *
 * @example
 * ```ts
 * await cache.set('user:1', user, { namespace: 'users', ttl: '1h', tags: ['user:1'] });
 * const profile = await cache.getOrSet('profile:1', () => db.profiles.find(1), { grace: '10m' });
 * await cache.invalidateTags(['user:1']);
 * ```
 */
export class Cache extends Emitter<CacheEvents> {
  readonly #stack: TierStack;
  /** The first local tier, when it can `peek` (copied from the stack for the hot path). */
  readonly #local: PeekableTier | undefined;
  readonly #localLevel: LocalLevel | undefined;
  readonly #counters: CacheCounters;
  readonly #invalidation: Invalidation;
  readonly #loads: GetOrSet;
  readonly #warmers: Warmers;
  /** The most read `getOrSet` keys per namespace, with their loaders. */
  readonly #hot = new HotKeys();
  readonly #codec: CacheCodec;
  readonly #decodeFailures: DecodeFailures;
  readonly #owned: OwnedResources;
  /** The loads under way, by {@link loadId}: shared by getOrSet and the invalidations. */
  readonly #inflight: Map<string, Promise<unknown>>;
  #coarseNow = 0;
  #coarseReads = 0;
  #coarseTimer: NodeJS.Timeout | undefined;
  readonly #clock: Clock;
  readonly #namespace: string;
  readonly #checkedNamespaces = new Set<string>();
  #closed = false;

  constructor(settings: CacheSettings = {}) {
    super();
    const parts = assembleCache(settings, this);
    this.#clock = parts.clock;
    this.#namespace = parts.namespace;
    this.#codec = parts.codec;
    this.#decodeFailures = parts.decodeFailures;
    this.#counters = parts.counters;
    this.#stack = parts.stack;
    this.#local = parts.stack.local;
    this.#localLevel = parts.stack.localLevel;
    this.#invalidation = parts.invalidation;
    this.#loads = parts.loads;
    this.#warmers = parts.warmers;
    this.#inflight = parts.inflight;
    this.#owned = parts.owned;
    // Listening starts with the cache, not only with start(): a cache used without start() must
    // still hear other instances' invalidations.
    if (parts.invalidation.bus !== undefined) void parts.invalidation.subscribe();
  }

  /** The namespace used when a call names none. */
  get defaultNamespace(): string {
    return this.#namespace;
  }

  /** Starts listening to the invalidation bus and runs the registered warmers. */
  async start(): Promise<void> {
    await this.#invalidation.subscribe();
    await this.warm();
  }

  /**
   * The fresh value under `key`, or `undefined`. A miss in a tier falls through to the next; a hit
   * fills the tiers above it.
   *
   * @example
   * ```ts
   * const user = await cache.get<User>('user:1', { namespace: 'users' });
   * ```
   */
  get<T = unknown>(key: string, options?: CacheReadOptions): Promise<T | undefined> {
    let namespace: string;
    try {
      namespace = this.#ns(options?.namespace);
      checkKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    // The hot path: a fresh entry of the local tier answers with an already resolved promise, from
    // a plain method (an async function's machinery showed in the L1 benchmark, as did a call to
    // #freshLocal, inlined here).
    const local = this.#local;
    if (local !== undefined) {
      const now = this.#hitClock();
      const entry = local.peek(namespace, key, now);
      if (entry !== undefined && entry.expiresAt > now) {
        this.#counters.hit(namespace, this.#localLevel!);
        return Promise.resolve(entry.payload as T);
      }
    }
    return this.#getFromTiers(namespace, key);
  }

  async #getFromTiers<T>(namespace: string, key: string): Promise<T | undefined> {
    const found = await this.#stack.lookup(namespace, key);
    if (found?.fresh) return found.value as T;
    this.#counters.miss(namespace);
    return undefined;
  }

  /**
   * @internal The fresh value of the local tier, read synchronously (a hit is counted), or
   * `undefined`. `@Cached` answers from it without building a loader for every call.
   */
  peekLocal(key: string, namespace: string | undefined): unknown {
    // `namespace` was validated when the decorator was applied.
    return this.#freshLocal(namespace ?? this.#namespace, key)?.payload;
  }

  /** Whether a fresh value exists under `key`. */
  async has(key: string, options?: CacheReadOptions): Promise<boolean> {
    return (await this.get(key, options)) !== undefined;
  }

  /**
   * Stores `value` under `key` in every tier. Throws `CacheCodecError` (before writing anything)
   * when a remote tier is configured and the value cannot be serialized; a failing remote tier is
   * reported, not thrown.
   *
   * @example
   * ```ts
   * await cache.set('product:9', product, { namespace: 'products', ttl: '30m', tags: ['catalog'] });
   * ```
   */
  async set(key: string, value: unknown, options: CacheWriteOptions = {}): Promise<void> {
    const namespace = this.#ns(options.namespace);
    checkKey(key);
    if (value === undefined) {
      throw new InvalidArgumentError('value is undefined: a cache cannot tell it from a miss', {
        argument: 'value',
        value,
        expected: 'any value but undefined (use delete to remove a key)',
      });
    }
    const meta = this.#stack.meta(options.ttl, options.grace, checkTags(options.tags));
    await this.#stack.write(namespace, key, value, meta);
    this.#invalidation.publishKey(namespace, key);
  }

  /**
   * Removes `key` from every tier and from other instances' local tiers; resolves whether any tier
   * held it.
   */
  async delete(key: string, options?: CacheReadOptions): Promise<boolean> {
    const namespace = this.#ns(options?.namespace);
    checkKey(key);
    return this.#invalidation.remove(namespace, key, loadId(namespace, key));
  }

  /** The values of `keys` (each `undefined` when missing), in order. */
  async getMany<T = unknown>(
    keys: readonly string[],
    options?: CacheReadOptions,
  ): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) throw notAList('keys', keys);
    return Promise.all(keys.map((key) => this.get<T>(key, options)));
  }

  /** Stores several entries; each may carry its own `ttl` and `tags`, the rest from `options`. */
  async setMany(
    entries: readonly ({ key: string; value: unknown } & CacheWriteOptions)[],
    options: CacheWriteOptions = {},
  ): Promise<void> {
    if (!Array.isArray(entries)) throw notAList('entries', entries);
    await Promise.all(
      entries.map(({ key, value, ...own }) => this.set(key, value, { ...options, ...own })),
    );
  }

  /**
   * The value under `key`, or else the loader's, which is then cached. Concurrent calls for the same
   * key run the loader once in this process (and once across processes with `lock`). With a grace
   * period, an expired value is served while one background refresh runs, and whenever the loader
   * or a tier fails.
   *
   * @example
   * ```ts
   * const report = await cache.getOrSet('report:today', () => buildReport(), {
   *   ttl: '5m',
   *   grace: '1h',
   *   timeout: { soft: '200ms', hard: '5s' },
   * });
   * ```
   */
  getOrSet<T>(
    key: string,
    loader: (context: LoaderContext) => T | Promise<T>,
    options: Omit<GetOrSetOptions, 'tags'> & {
      tags?: readonly string[] | ((value: NoInfer<T>) => readonly string[]);
    } = {},
  ): Promise<T> {
    // Not async, so that the load's promise is handed back as it is; errors still reject.
    let namespace: string;
    let soft: number | undefined;
    let hard: number | undefined;
    try {
      namespace = this.#ns(options.namespace);
      checkKey(key);
      checkLoader(loader);
      soft = loaderTimeout(options, 'soft');
      hard = loaderTimeout(options, 'hard');
    } catch (error) {
      return Promise.reject(error);
    }
    this.#hot.touch(namespace, key, loader as never, options as never);
    const entry = this.#freshLocal(namespace, key);
    if (entry !== undefined) return Promise.resolve(entry.payload as T);
    return this.#loads.run(namespace, key, loader, options, soft, hard);
  }

  /**
   * Removes every entry carrying any of `tags` from every tier (in `namespace` only, when given) and
   * from other instances' local tiers.
   *
   * @example
   * ```ts
   * await cache.invalidateTags(['user:1']);
   * ```
   */
  async invalidateTags(
    tags: readonly string[],
    options: { namespace?: string } = {},
  ): Promise<void> {
    const list = checkTags(tags);
    const namespace =
      options.namespace === undefined ? undefined : checkNamespace(options.namespace);
    if (list.length === 0) return;
    await this.#invalidation.removeByTags(list, namespace);
  }

  /** Removes every entry of `options.namespace`, or of every namespace, from every tier. */
  async clear(options: { namespace?: string } = {}): Promise<void> {
    const namespace =
      options.namespace === undefined ? undefined : checkNamespace(options.namespace);
    await this.#invalidation.removeAll(namespace);
  }

  /**
   * Registers a warmer: a function that fills the cache, run by `start()` and by {@link warm}.
   *
   * @example
   * ```ts
   * cache.registerWarmer('top-products', async () => {
   *   for (const p of await db.products.top(100)) await cache.set(`product:${p.id}`, p);
   * });
   * ```
   */
  registerWarmer(name: string, warmer: () => unknown): void {
    this.#warmers.register(name, warmer);
  }

  /** The names of the registered warmers. */
  warmers(): string[] {
    return this.#warmers.names();
  }

  /**
   * Runs the warmers (all, or the one named). A warmer that fails is logged and reported by the
   * `warmed` event; the others still run. Resolves the names that failed.
   */
  async warm(name?: string): Promise<{ name: string; ok: boolean; durationMs: number }[]> {
    return this.#warmers.run(name);
  }

  /**
   * Asks every tier whether its store answers, concurrently, each remote tier under the cache's
   * timeout and circuit breaker (a failed ping counts towards opening the circuit, as a failed read
   * does). Reads and writes nothing, so statistics and entries are untouched. Never rejects.
   *
   * @example
   * ```ts
   * const down = (await cache.ping()).filter((tier) => !tier.ok);
   * ```
   */
  async ping(): Promise<TierHealth[]> {
    return this.#stack.ping();
  }

  /**
   * The version of the server behind each tier that has one (Redis, PostgreSQL, SQLite), by tier
   * name; `null` for a tier whose server did not answer. One read per tier, outside the circuit
   * breaker (it is not traffic); bound it with your own timeout. Never rejects.
   *
   * @example
   * ```ts
   * await cache.serverVersions(); // { redis: '7.2.4', postgres: '16.4' }
   * ```
   */
  serverVersions(): Promise<Record<string, string | null>> {
    return this.#stack.serverVersions();
  }

  /** Hits, misses, errors and latency per tier and per namespace, and codec and bus figures. */
  analytics(): CacheAnalytics {
    const invalidation = this.#invalidation;
    return cacheAnalytics(
      this.#counters,
      this.#stack.levels,
      this.#codec,
      this.#decodeFailures,
      invalidation.bus === undefined ? null : { ...invalidation.busStats },
    );
  }

  /**
   * Reloads the hottest `getOrSet`/`@Cached` keys (a bounded top-K per namespace) whose fresh time
   * ends within `withinMs`, ahead of their expiry, within `maxKeys` and `budgetMs`; the
   * `cache_warming` maintenance task calls it. Entries written with `set` have no known loader and
   * are left to their TTL.
   *
   * @example
   * ```ts
   * const { refreshed } = await cache.refreshHotKeys({ withinMs: 60_000, maxKeys: 100, budgetMs: 10_000 });
   * ```
   */
  refreshHotKeys(options: {
    withinMs: number;
    maxKeys: number;
    budgetMs: number;
    signal?: AbortSignal;
  }): Promise<HotRefreshReport> {
    return refreshHotKeys(
      this.#hot,
      {
        expiresAt: async (namespace, key) =>
          (await this.#stack.lookup(namespace, key))?.meta.expiresAt,
        reload: (e) => this.#loads.refresh(e.namespace, e.key, e.loader, e.options),
        now: () => this.#clock.epochNow(),
      },
      options,
    );
  }

  /**
   * Removes expired entries from the tiers that do not expire them by themselves (SQL); the
   * maintenance tasks call it. Resolves how many each tier removed.
   */
  async removeExpired(): Promise<Record<string, number>> {
    return this.#stack.removeExpired();
  }

  /**
   * Closes the bus, the tiers (each tier closes only what it opened itself) and the connection the
   * cache created; never a client or pool the application passed in. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#coarseTimer);
    // Loads under way finish and are cached (for up to 5 s) before the connections go.
    const draining = Promise.allSettled([...this.#inflight.values()]);
    await raceTimeout(draining, 5_000);
    await Promise.allSettled([
      this.#owned.bus?.close(),
      ...this.#owned.tiers.map((tier) => tier.close()),
    ]);
    this.#stack.dispose();
    if (this.#owned.client !== undefined) await quitClient(this.#owned.client);
  }

  /** @internal Subscribes to the bus now (the engine also does it on start()). */
  ready(): Promise<void> {
    return this.#invalidation.subscribe();
  }

  // ---- internals ----

  /** A fresh entry of the local tier (counted as a hit), read synchronously, or `undefined`. */
  #freshLocal(namespace: string, key: string): StoredEntry<unknown> | undefined {
    const local = this.#local;
    if (local === undefined) return undefined;
    const now = this.#hitClock();
    const entry = local.peek(namespace, key, now);
    if (entry === undefined || entry.expiresAt <= now) return undefined;
    this.#counters.hit(namespace, this.#localLevel!);
    return entry;
  }

  /**
   * The time an L1 hit checks freshness against. Reading the system clock costs about as much as
   * the rest of a hit, so, as lru-cache does with its `ttlResolution`, a reading is reused for up
   * to 1 ms (an unref'd timer drops it) and at most 64 hits: an entry may be served up to a
   * millisecond after it expired. Writes, the other tiers and an injected clock read it every time.
   */
  #hitClock(): number {
    if (this.#clock !== systemClock) return this.#clock.epochNow();
    if (this.#coarseNow !== 0 && ++this.#coarseReads < 64) return this.#coarseNow;
    const now = Date.now();
    this.#coarseNow = now;
    this.#coarseReads = 0;
    if (this.#coarseTimer === undefined && !this.#closed) {
      this.#coarseTimer = setTimeout(this.#dropCoarse, 1);
      this.#coarseTimer.unref();
    }
    return now;
  }

  readonly #dropCoarse = (): void => {
    this.#coarseNow = 0;
    this.#coarseTimer = undefined;
  };

  #ns(namespace: string | undefined): string {
    if (namespace === undefined) return this.#namespace;
    // Namespaces are few and repeat on every call: validate each one once.
    if (this.#checkedNamespaces.has(namespace)) return namespace;
    checkNamespace(namespace);
    if (this.#checkedNamespaces.size >= 10_000) this.#checkedNamespaces.clear();
    this.#checkedNamespaces.add(namespace);
    return namespace;
  }
}

/**
 * Builds a standalone cache (outside any enterprise instance).
 *
 * @example
 * ```ts
 * const sessions = createCache({ namespace: 'sessions', defaultTtl: '30m', redisUrl: process.env.REDIS_URL });
 * await sessions.start();
 * ```
 */
export function createCache(settings: CacheSettings = {}): Cache {
  return new Cache(settings);
}
