import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock, systemClock } from '../core/clock.js';
import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { Emitter } from '../core/events.js';
import { createDefaultLogger, type Logger, wrapLogger } from '../core/logger.js';
import { quitClient, type RedisClient } from '../redis/client.js';
import { CacheCodec } from './codec.js';
import { DecodeFailures } from './decode-failure.js';
import { defaultTiers } from './default-tiers.js';
import { CacheLoaderTimeoutError } from './errors.js';
import { checkKey, checkNamespace, isSafeName } from './keys.js';
import { LocalLevel } from './local-level.js';
import type { CacheSettings } from './options.js';
import { TierGuard } from './tier-guard.js';
import type {
  CacheAnalytics,
  CacheEvents,
  CacheReadOptions,
  CacheTier,
  CacheWriteOptions,
  DistributedLock,
  EntryMeta,
  GetOrSetOptions,
  InvalidationBus,
  InvalidationMessage,
  NamespaceAnalytics,
  StoredEntry,
  TierAnalytics,
  TierHealth,
} from './types.js';

/** What a `getOrSet` loader receives. */
export interface LoaderContext {
  key: string;
  namespace: string;
  /** The expired value still within its grace period, if any (to refresh from, say). */
  stale: unknown;
}

/** A value found in a tier, with where it came from. */
interface Found {
  value: unknown;
  meta: EntryMeta;
  fresh: boolean;
}

/** One tier as the engine drives it. */
type Level = LocalLevel | { kind: 'remote'; guard: TierGuard<Uint8Array> };

/** A local tier that answers synchronously: the one the hot path reads. */
type PeekableTier = CacheTier<unknown> & Required<Pick<CacheTier<unknown>, 'peek'>>;

const DEFAULT_NAMESPACE = 'default';
const GENERATION_BUCKETS = 4096;
const SEPARATOR = '\u0000';

/**
 * The multi-tier cache: the seed's "Advanced Caching System".
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
  readonly #levels: Level[];
  /** The first local tier, when it can `peek`. */
  readonly #local: PeekableTier | undefined;
  readonly #localLevel: LocalLevel | undefined;
  readonly #codec: CacheCodec;
  readonly #bus: InvalidationBus | undefined;
  readonly #lock: DistributedLock | undefined;
  readonly #owned: { client?: RedisClient; tiers: CacheTier<any>[]; bus?: InvalidationBus };
  #coarseNow = 0;
  #coarseReads = 0;
  #coarseTimer: NodeJS.Timeout | undefined;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #defaultTtlMs: number;
  readonly #defaultGraceMs: number;
  readonly #failSafeThrottleMs: number;
  readonly #remoteTimeoutMs: number;
  readonly #namespace: string;
  readonly #origin = randomUUID();
  readonly #inflight = new Map<string, Promise<unknown>>();
  readonly #checkedNamespaces = new Set<string>();
  readonly #namespaces = new Map<string, NamespaceAnalytics>();
  readonly #warmers = new Map<string, () => unknown>();
  readonly #lastTierLog = new Map<string, number>();
  readonly #decodeFailures: DecodeFailures;
  readonly #busStats = { published: 0, received: 0, errors: 0 };
  #hits = 0;
  #misses = 0;
  /**
   * Generations, so that a read or a load that started before a change cannot write what it
   * fetched over it: one per bucket of keys (bumped by a set or delete of a key in it) and one for
   * everything (bumped by tag invalidations and clears). Buckets, not keys, keep this bounded; two
   * keys sharing a bucket only cost a skipped promotion.
   */
  readonly #keyGenerations = new Uint32Array(GENERATION_BUCKETS);
  #globalGeneration = 0;
  /** Invalidations under way: while one runs, nothing read from a lower tier is promoted. */
  #invalidating = 0;
  #busReady: Promise<void> | undefined;
  #closed = false;
  #warnedNoLock = false;
  #lastNamespace: string | undefined;
  #lastStats: NamespaceAnalytics | undefined;

  constructor(settings: CacheSettings = {}) {
    super();
    this.#clock = settings.clock ?? systemClock;
    this.#log =
      settings.logger === undefined
        ? createDefaultLogger('info').child({ module: 'cache' })
        : wrapLogger(settings.logger).child({ module: 'cache' });
    this.#defaultTtlMs = positiveDuration(settings.defaultTtl ?? 3600, 'defaultTtl');
    this.#defaultGraceMs = parseDuration(settings.grace ?? 0, 'grace');
    this.#failSafeThrottleMs = parseDuration(settings.failSafeThrottle ?? 10, 'failSafeThrottle');
    this.#remoteTimeoutMs = settings.remote?.timeoutMs ?? 500;
    this.#namespace = checkNamespace(settings.namespace ?? DEFAULT_NAMESPACE);
    this.#codec =
      settings.codec instanceof CacheCodec ? settings.codec : new CacheCodec(settings.codec);
    this.#decodeFailures = new DecodeFailures(this.#log);
    this.#owned = { tiers: [] };

    const setup = defaultTiers(settings, (error) => this.#logTier('redis', 'connection', error));
    if (setup.client !== undefined) this.#owned.client = setup.client;
    const tiers = setup.tiers;
    if (!Array.isArray(tiers) || tiers.length === 0) {
      throw new InvalidArgumentError('tiers must be a non-empty list of cache tiers', {
        argument: 'tiers',
        value: tiers,
        expected: 'at least one CacheTier',
      });
    }
    this.#levels = tiers.map((tier, i) => this.#level(tier, i, settings));
    // A tier given to a cache belongs to it, as the stores given to BentoCache or cache-manager
    // do: `close()` closes it. A tier closes only what it opened itself, so clients and pools the
    // application passed to the tiers stay open.
    this.#owned.tiers = [...tiers];
    const first = this.#levels.find((level) => level.kind === 'local');
    this.#localLevel = first;
    this.#local =
      first !== undefined && typeof first.tier.peek === 'function'
        ? (first.tier as PeekableTier)
        : undefined;

    // Unless given, the bus and the lock come from the `redis` option, else from the first tier
    // that offers them (the Redis tier does, on its own connection and prefix).
    const busSource =
      setup.coordination ?? tiers.find((tier) => typeof tier.invalidationBus === 'function');
    const lockSource =
      setup.coordination ?? tiers.find((tier) => typeof tier.distributedLock === 'function');
    if (settings.bus !== undefined) {
      this.#bus = settings.bus === false ? undefined : settings.bus;
    } else if (busSource?.invalidationBus !== undefined && this.#localLevel !== undefined) {
      // Without a local tier there is nothing another instance's change could leave stale here.
      this.#bus = busSource.invalidationBus({
        onReconnect: () => this.#dropLocal('bus reconnected: messages may have been missed'),
        onError: (error: Error) => this.#logTier('bus', 'message', error),
      });
      this.#owned.bus = this.#bus;
    }
    this.#lock = settings.lock ?? lockSource?.distributedLock?.();
    // Listening starts with the cache, not only with start(): a cache used without start() must
    // still hear other instances' invalidations.
    if (this.#bus !== undefined) void this.#subscribe();
  }

  #level(tier: CacheTier<any>, index: number, settings: CacheSettings): Level {
    if (tier === null || typeof tier !== 'object' || typeof tier.get !== 'function') {
      throw new InvalidArgumentError(`tiers[${index}]=${describeValue(tier)} is not a cache tier`, {
        argument: `tiers[${index}]`,
        value: tier,
        expected: 'a CacheTier',
      });
    }
    if (tier.local) {
      return new LocalLevel(tier, (operation, error) => {
        this.emit('tier-error', { tier: tier.name, operation, error: error as Error });
        this.#logTier(tier.name, operation, error);
      });
    }
    return {
      kind: 'remote',
      guard: new TierGuard<Uint8Array>(
        tier as CacheTier<Uint8Array>,
        settings.remote ?? {},
        (state) => {
          this.emit('circuit', { tier: tier.name, state });
          this.#log.warn({ tier: tier.name, state }, `cache tier circuit ${state}`);
        },
      ),
    };
  }

  /** The namespace used when a call names none. */
  get defaultNamespace(): string {
    return this.#namespace;
  }

  /** Starts listening to the invalidation bus and runs the registered warmers. */
  async start(): Promise<void> {
    await this.#subscribe();
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
        this.#hit(namespace, this.#localLevel!);
        return Promise.resolve(entry.payload as T);
      }
    }
    return this.#getFromTiers(namespace, key);
  }

  async #getFromTiers<T>(namespace: string, key: string): Promise<T | undefined> {
    const found = await this.#lookup(namespace, key);
    if (found?.fresh) return found.value as T;
    this.#miss(namespace);
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
    const meta = this.#meta(options.ttl, options.grace, checkTags(options.tags));
    await this.#write(namespace, key, value, meta);
    this.#publish({ type: 'delete', origin: this.#origin, namespace, keys: [key] });
  }

  async #write(namespace: string, key: string, value: unknown, meta: EntryMeta): Promise<void> {
    const remote = this.#levels.some((level) => level.kind === 'remote');
    const bytes = remote ? this.#codec.encodeEntry(value, namespace, key, meta) : undefined;
    this.#bumpKey(namespace, key);
    this.#stats(namespace).sets++;
    await Promise.all(
      this.#levels.map(async (level) => {
        if (level.kind === 'local') {
          level.counters.sets++;
          await level.write(namespace, key, value, capped(meta, level.tier.maxTtlMs, this.#clock));
          return;
        }
        level.guard.sets++;
        await this.#remote(level, 'set', (tier) => tier.set(namespace, key, bytes!, meta));
      }),
    );
  }

  /**
   * Removes `key` from every tier and from other instances' local tiers; resolves whether any tier
   * held it.
   */
  async delete(key: string, options?: CacheReadOptions): Promise<boolean> {
    const namespace = this.#ns(options?.namespace);
    checkKey(key);
    this.#stats(namespace).deletes++;
    // Callers from now on must not join a load that started before the delete.
    this.#inflight.delete(namespace + SEPARATOR + key);
    this.#invalidating++;
    this.#bumpKey(namespace, key);
    const results = await Promise.all(
      this.#levels.map(async (level) => {
        if (level.kind === 'local') {
          level.counters.deletes++;
          return level.remove(namespace, key);
        }
        level.guard.deletes++;
        return (
          (await this.#remote(level, 'delete', (tier) => tier.delete(namespace, key))) === true
        );
      }),
    ).finally(() => this.#settleInvalidation(() => this.#bumpKey(namespace, key)));
    this.#publish({ type: 'delete', origin: this.#origin, namespace, keys: [key] });
    return results.some(Boolean);
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
  async getOrSet<T>(
    key: string,
    loader: (context: LoaderContext) => T | Promise<T>,
    options: Omit<GetOrSetOptions, 'tags'> & {
      tags?: readonly string[] | ((value: NoInfer<T>) => readonly string[]);
    } = {},
  ): Promise<T> {
    const namespace = this.#ns(options.namespace);
    checkKey(key);
    if (typeof loader !== 'function') {
      throw new InvalidArgumentError(`loader=${describeValue(loader)} is not a function`, {
        argument: 'loader',
        value: loader,
        expected: 'a function returning the value',
      });
    }
    const soft =
      options.timeout?.soft === undefined
        ? undefined
        : parseDuration(options.timeout.soft, 'timeout.soft');
    const hard =
      options.timeout?.hard === undefined
        ? undefined
        : parseDuration(options.timeout.hard, 'timeout.hard');

    const entry = this.#freshLocal(namespace, key);
    if (entry !== undefined) return entry.payload as T;
    const found = await this.#lookup(namespace, key);
    if (found?.fresh) return found.value as T;
    this.#miss(namespace);
    const stale = found as (Found & { value: T }) | undefined;

    const id = namespace + SEPARATOR + key;
    let pending = this.#inflight.get(id) as Promise<T> | undefined;
    if (pending !== undefined) {
      this.#stats(namespace).dedupedCalls++;
    } else {
      // With a stale value and no soft timeout, this caller (and every caller that joins it)
      // returns the stale value at once: the load only refreshes in the background.
      const background = stale !== undefined && soft === undefined;
      pending = this.#load(namespace, key, loader, options, stale, background);
      this.#inflight.set(id, pending);
      const forget = () => {
        if (this.#inflight.get(id) === pending) this.#inflight.delete(id);
      };
      pending.then(forget, forget);
    }
    if (stale !== undefined) {
      if (soft === undefined) {
        this.#staleServed(namespace, key, 'refreshing');
        pending.catch(() => {});
        return stale.value;
      }
      const settled = await raceTimeout(pending, soft);
      if (settled.done) return settled.value;
      this.#staleServed(namespace, key, 'loader-slow');
      return stale.value;
    }
    if (hard === undefined) return pending;
    const settled = await raceTimeout(pending, hard);
    if (settled.done) return settled.value;
    throw new CacheLoaderTimeoutError(
      `the loader of "${key}" (namespace "${namespace}") did not settle within ${hard} ms; it keeps running and its value will be cached`,
      { namespace, key, timeoutMs: hard },
    );
  }

  /** Runs the loader once (under the distributed lock when asked) and caches its value. */
  async #load<T>(
    namespace: string,
    key: string,
    loader: (context: LoaderContext) => T | Promise<T>,
    options: Omit<GetOrSetOptions, 'tags'> & {
      tags?: readonly string[] | ((value: T) => readonly string[]);
    },
    stale: (Found & { value: T }) | undefined,
    background: boolean,
  ): Promise<T> {
    const stats = this.#stats(namespace);
    const generation = this.#generationOf(namespace, key);
    let release: (() => Promise<void>) | undefined;
    if (options.lock !== undefined && options.lock !== false) {
      const waited = await this.#lockOrWait<T>(namespace, key, options.lock);
      if (waited.value !== undefined) return waited.value;
      release = waited.release;
    }
    try {
      stats.loaderCalls++;
      let value: T;
      try {
        value = await loader({ key, namespace, stale: stale?.value });
      } catch (error) {
        stats.loaderErrors++;
        if (stale !== undefined) {
          // A background refresh serves nobody: the callers already got the stale value.
          if (!background) this.#staleServed(namespace, key, 'loader-failed');
          this.#log.warn(
            { err: error, namespace, key },
            'cache loader failed; serving the stale value',
          );
          this.#throttleFailSafe(namespace, key, stale, generation);
          return stale.value;
        }
        throw error;
      }
      if (value === undefined) return value;
      // The key was set, deleted or invalidated while the loader ran: what it loaded may predate
      // that change. The callers waiting get it; the cache does not keep it.
      if (this.#generationOf(namespace, key) !== generation || this.#invalidating > 0) return value;
      const tags = typeof options.tags === 'function' ? options.tags(value) : options.tags;
      await this.#write(
        namespace,
        key,
        value,
        this.#meta(options.ttl, options.grace, checkTags(tags)),
      );
      this.#publish({ type: 'delete', origin: this.#origin, namespace, keys: [key] });
      return value;
    } finally {
      // Released in the background: a slow or stalled lock store must not hold the value back.
      release?.().catch((error) => this.#logTier('lock', 'release', error));
    }
  }

  /**
   * After a failed refresh, the stale value is treated as fresh in the local tier for a short
   * while, so that a source that is down is not called by every request in the meantime.
   */
  #throttleFailSafe(namespace: string, key: string, stale: Found, generation: number): void {
    const local = this.#localLevel;
    if (local === undefined || this.#failSafeThrottleMs === 0) return;
    if (this.#generationOf(namespace, key) !== generation) return;
    const now = this.#clock.epochNow();
    const expiresAt = Math.min(now + this.#failSafeThrottleMs, stale.meta.staleUntil);
    void local.write(namespace, key, stale.value, { ...stale.meta, expiresAt });
  }

  /**
   * Takes the distributed lock for `key`, or, when another process holds it, waits for the value
   * that process is loading. Resolves the value found, or how to release the lock taken (or neither:
   * the wait ran out or no lock works, and the caller loads anyway rather than fail).
   */
  async #lockOrWait<T>(
    namespace: string,
    key: string,
    option: true | { ttl?: Duration; wait?: Duration },
  ): Promise<{ value?: T; release?: () => Promise<void> }> {
    const lock = this.#lock;
    if (lock === undefined) {
      if (!this.#warnedNoLock) {
        this.#warnedNoLock = true;
        this.#log.warn(
          { namespace, key },
          'getOrSet({ lock: true }) without a distributed lock (no Redis tier, no `lock` option): the loader runs once per process only',
        );
      }
      return {};
    }
    const ttlMs = parseDuration((option === true ? undefined : option.ttl) ?? 10, 'lock.ttl');
    const waitMs = parseDuration((option === true ? undefined : option.wait) ?? 5, 'lock.wait');
    const resource = `${namespace}${SEPARATOR}${key}`;
    const deadline = Date.now() + waitMs;
    let delay = 10;
    while (true) {
      let token: string | undefined;
      try {
        // Bounded like a tier operation: a lock store that stalls must not hold the caller.
        const settled = await raceTimeout(lock.acquire(resource, ttlMs), this.#remoteTimeoutMs);
        if (!settled.done) {
          this.#logTier(
            'lock',
            'acquire',
            new Error(`no answer within ${this.#remoteTimeoutMs} ms`),
          );
          return {};
        }
        token = settled.value;
      } catch (error) {
        this.#logTier('lock', 'acquire', error);
        return {};
      }
      if (token !== undefined) {
        const release = async () => {
          await raceTimeout(lock.release(resource, token), this.#remoteTimeoutMs);
        };
        // The previous holder may have stored its value between our last look and this lock:
        // loading again would run the loader twice for one miss.
        const found = await this.#lookup(namespace, key);
        if (found?.fresh) {
          release().catch((error) => this.#logTier('lock', 'release', error));
          return { value: found.value as T };
        }
        return { release };
      }
      if (Date.now() >= deadline) return {};
      await sleep(delay);
      delay = Math.min(delay * 2, 200);
      const found = await this.#lookup(namespace, key);
      if (found?.fresh) return { value: found.value as T };
    }
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
    this.#startGlobalInvalidation();
    await Promise.all(
      this.#levels.map(async (level) => {
        if (level.kind === 'local') {
          await level.removeByTags(list, namespace);
          return;
        }
        await this.#remote(level, 'deleteByTags', (tier) => tier.deleteByTags(list, namespace));
      }),
    ).finally(() => this.#settleInvalidation(() => this.#globalGeneration++));
    this.#publish({ type: 'tags', origin: this.#origin, namespace, tags: [...list] });
  }

  /** Removes every entry of `options.namespace`, or of every namespace, from every tier. */
  async clear(options: { namespace?: string } = {}): Promise<void> {
    const namespace =
      options.namespace === undefined ? undefined : checkNamespace(options.namespace);
    this.#startGlobalInvalidation();
    await Promise.all(
      this.#levels.map(async (level) => {
        if (level.kind === 'local') {
          await level.removeAll(namespace);
          return;
        }
        await this.#remote(level, 'clear', (tier) => tier.clear(namespace));
      }),
    ).finally(() => this.#settleInvalidation(() => this.#globalGeneration++));
    this.#publish({ type: 'clear', origin: this.#origin, namespace });
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
    if (typeof name !== 'string' || name === '') throw notAList('name', name);
    if (typeof warmer !== 'function') {
      throw new InvalidArgumentError(`warmer=${describeValue(warmer)} is not a function`, {
        argument: 'warmer',
        value: warmer,
        expected: 'a function',
      });
    }
    this.#warmers.set(name, warmer);
  }

  /** The names of the registered warmers. */
  warmers(): string[] {
    return [...this.#warmers.keys()];
  }

  /**
   * Runs the warmers (all, or the one named). A warmer that fails is logged and reported by the
   * `warmed` event; the others still run. Resolves the names that failed.
   */
  async warm(name?: string): Promise<{ name: string; ok: boolean; durationMs: number }[]> {
    const selected =
      name === undefined ? [...this.#warmers] : [[name, this.#warmers.get(name)] as const];
    const results: { name: string; ok: boolean; durationMs: number }[] = [];
    for (const [warmerName, warmer] of selected) {
      if (warmer === undefined) {
        throw new InvalidArgumentError(
          `no cache warmer is registered as ${describeValue(warmerName)}`,
          {
            argument: 'name',
            value: warmerName,
            expected: `one of ${[...this.#warmers.keys()].join(', ') || '(none registered)'}`,
          },
        );
      }
      const started = performance.now();
      try {
        await warmer();
        const durationMs = performance.now() - started;
        results.push({ name: warmerName, ok: true, durationMs });
        this.emit('warmed', { name: warmerName, durationMs });
      } catch (error) {
        const durationMs = performance.now() - started;
        results.push({ name: warmerName, ok: false, durationMs });
        this.#log.error({ err: error, warmer: warmerName }, 'cache warmer failed');
        this.emit('warmed', { name: warmerName, durationMs, error: error as Error });
      }
    }
    return results;
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
    return Promise.all(
      this.#levels.map(async (level): Promise<TierHealth> => {
        const started = performance.now();
        if (level.kind === 'local') {
          return { name: level.tier.name, local: true, ok: true, latencyMs: 0, circuit: null };
        }
        const { guard } = level;
        try {
          await guard.run('ping', (tier) => tier.ping());
          const latencyMs = performance.now() - started;
          return {
            name: guard.tier.name,
            local: false,
            ok: true,
            latencyMs,
            circuit: guard.circuit,
          };
        } catch (error) {
          return {
            name: guard.tier.name,
            local: false,
            ok: false,
            latencyMs: performance.now() - started,
            circuit: guard.circuit,
            error: (error as Error)?.message ?? String(error),
          };
        }
      }),
    );
  }

  /** Hits, misses, errors and latency per tier and per namespace, and codec and bus figures. */
  analytics(): CacheAnalytics {
    const codec = this.#codec.stats();
    const namespaces: Record<string, NamespaceAnalytics> = {};
    for (const [name, stats] of this.#namespaces) {
      const lookups = stats.hits + stats.misses;
      namespaces[name] = { ...stats, hitRatio: lookups === 0 ? 0 : stats.hits / lookups };
    }
    const lookups = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      hitRatio: lookups === 0 ? 0 : this.#hits / lookups,
      tiers: this.#levels.map(
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
        encoded: codec.encoded,
        decoded: codec.decoded,
        decodeErrors: codec.decodeErrors,
        decodeErrorsByReason: this.#decodeFailures.byReason(),
        compressed: codec.compressed,
        compressionRatio:
          codec.bytesBeforeCompression === 0
            ? 1
            : codec.bytesAfterCompression / codec.bytesBeforeCompression,
      },
      bus: this.#bus === undefined ? null : { ...this.#busStats },
    };
  }

  /**
   * Removes expired entries from the tiers that do not expire them by themselves (SQL); the
   * maintenance tasks call it. Resolves how many each tier removed.
   */
  async removeExpired(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const level of this.#levels) {
      if (level.kind === 'local') {
        removed[level.tier.name] = await level.tier.removeExpired();
      } else {
        removed[level.guard.tier.name] =
          (await this.#remote(level, 'removeExpired', (tier) => tier.removeExpired())) ?? 0;
      }
    }
    return removed;
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
    if (this.#owned.client !== undefined) await quitClient(this.#owned.client);
  }

  // ---- internals ----

  /** A fresh entry of the local tier (counted as a hit), read synchronously, or `undefined`. */
  #freshLocal(namespace: string, key: string): StoredEntry<unknown> | undefined {
    const local = this.#local;
    if (local === undefined) return undefined;
    const now = this.#hitClock();
    const entry = local.peek(namespace, key, now);
    if (entry === undefined || entry.expiresAt <= now) return undefined;
    this.#hit(namespace, this.#localLevel!);
    return entry;
  }

  /** Looks the key up tier by tier; fills faster tiers from the first fresh hit. */
  async #lookup(namespace: string, key: string): Promise<Found | undefined> {
    const generation = this.#generationOf(namespace, key);
    const now = this.#clock.epochNow();
    let stale: Found | undefined;
    for (let i = 0; i < this.#levels.length; i++) {
      const level = this.#levels[i]!;
      let found: (Found & { bytes?: Uint8Array }) | undefined;
      if (level.kind === 'local') {
        const read = level.read(namespace, key, now);
        const entry = read instanceof Promise ? await read : read;
        if (entry !== undefined)
          found = { value: entry.payload, meta: entry, fresh: entry.expiresAt > now };
      } else {
        const entry = await this.#remote(level, 'get', (tier) => tier.get(namespace, key));
        // The times obeyed below are the ones decodeEntry authenticates: a tier header or column
        // rewritten in the store fails the check instead of reviving or extending an entry.
        if (entry !== undefined && entry.staleUntil > now) {
          try {
            const value = this.#codec.decodeEntry(entry.payload, namespace, key, entry);
            found = { value, meta: entry, fresh: entry.expiresAt > now, bytes: entry.payload };
          } catch (error) {
            this.#decodeFailed(level, namespace, key, entry, error);
          }
        }
      }
      if (found === undefined) {
        this.#tierMiss(level);
        continue;
      }
      if (!found.fresh) {
        stale ??= found;
        this.#tierMiss(level);
        continue;
      }
      this.#hit(namespace, level);
      if (i > 0) await this.#promote(i, namespace, key, found, generation);
      return found;
    }
    return stale;
  }

  /** Fills the tiers above `index` with a value found lower down, keeping its remaining TTL. */
  async #promote(
    index: number,
    namespace: string,
    key: string,
    found: Found & { bytes?: Uint8Array },
    generation: number,
  ): Promise<void> {
    // A change of this key (or a tag invalidation, or a clear) that happened, or is still under
    // way, while the value was fetched may have removed it: filling a faster tier could resurrect it.
    if (this.#invalidating > 0 || this.#generationOf(namespace, key) !== generation) return;
    await Promise.all(
      this.#levels.slice(0, index).map(async (level) => {
        if (level.kind === 'local') {
          await level.write(
            namespace,
            key,
            found.value,
            capped(found.meta, level.tier.maxTtlMs, this.#clock),
          );
          return;
        }
        let bytes = found.bytes;
        if (bytes === undefined) {
          try {
            bytes = this.#codec.encodeEntry(found.value, namespace, key, found.meta);
          } catch {
            return;
          }
        }
        const payload = bytes;
        await this.#remote(level, 'set', (tier) => tier.set(namespace, key, payload, found.meta));
      }),
    );
  }

  /** Runs a remote tier operation; a failure is reported and turns into `undefined`. */
  async #remote<R>(
    level: Extract<Level, { kind: 'remote' }>,
    operation: string,
    run: (tier: CacheTier<Uint8Array>) => Promise<R>,
  ): Promise<R | undefined> {
    try {
      return await level.guard.run(operation, run);
    } catch (error) {
      this.emit('tier-error', { tier: level.guard.tier.name, operation, error: error as Error });
      this.#logTier(level.guard.tier.name, operation, error);
      return undefined;
    }
  }

  /**
   * A miss either way. Only an entry no reader can decode is deleted, and only if the tier still
   * holds exactly those bytes: a reader refused by its own configuration (a key it does not have
   * yet, encryption on or off, a newer format) must not remove what the other instances read, and
   * a value written meanwhile must survive.
   */
  #decodeFailed(
    level: Extract<Level, { kind: 'remote' }>,
    namespace: string,
    key: string,
    entry: StoredEntry<Uint8Array>,
    error: unknown,
  ): void {
    const tier = level.guard.tier.name;
    const failure = this.#decodeFailures.record(error, { tier, namespace, key });
    this.emit('decode-error', {
      tier,
      namespace,
      key,
      error: failure.error,
      reason: failure.reason,
      corrupt: failure.corrupt,
    });
    if (failure.corrupt && typeof level.guard.tier.deleteIfUnchanged === 'function') {
      void this.#remote(level, 'deleteIfUnchanged', (t) =>
        t.deleteIfUnchanged!(namespace, key, entry),
      );
    }
  }

  /** At most one log line per tier and operation every 10 s, so an outage cannot flood the logs. */
  #logTier(tier: string, operation: string, error: unknown): void {
    const id = `${tier}:${operation}`;
    const now = Date.now();
    const last = this.#lastTierLog.get(id);
    if (last !== undefined && now - last < 10_000) return;
    this.#lastTierLog.set(id, now);
    this.#log.warn({ err: error, tier, operation }, `cache ${tier} ${operation} failed`);
  }

  #meta(
    ttl: Duration | undefined,
    grace: Duration | undefined,
    tags: readonly string[],
  ): EntryMeta {
    const ttlMs = ttl === undefined ? this.#defaultTtlMs : positiveDuration(ttl, 'ttl');
    const graceMs = grace === undefined ? this.#defaultGraceMs : parseDuration(grace, 'grace');
    // Whole milliseconds: the SQL tiers keep integers, and the times must come back exactly as
    // encoded for the entry to pass its check.
    const now = Math.round(this.#clock.epochNow());
    const expiresAt = Math.round(now + ttlMs);
    return { createdAt: now, expiresAt, staleUntil: Math.round(expiresAt + graceMs), tags };
  }

  /**
   * The time an L1 hit checks freshness against. Reading the system clock costs about as much as
   * the rest of a hit (60 ns on a virtual machine), so, as lru-cache does with its `ttlResolution`,
   * a reading is reused for up to 1 ms (an unref'd timer drops it) and at most 64 hits. An entry
   * may thus be served up to a millisecond after it expired; writes and the other tiers read the
   * clock every time. An injected clock is always read.
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

  #stats(namespace: string): NamespaceAnalytics {
    // Consecutive calls mostly stay in one namespace: skip the map lookup then.
    if (namespace === this.#lastNamespace) return this.#lastStats!;
    let stats = this.#namespaces.get(namespace);
    if (stats === undefined) {
      stats = {
        hits: 0,
        misses: 0,
        sets: 0,
        deletes: 0,
        staleServed: 0,
        loaderCalls: 0,
        loaderErrors: 0,
        dedupedCalls: 0,
        hitRatio: 0,
      };
      this.#namespaces.set(namespace, stats);
    }
    this.#lastNamespace = namespace;
    this.#lastStats = stats;
    return stats;
  }

  #hit(namespace: string, level: Level): void {
    this.#hits++;
    this.#stats(namespace).hits++;
    if (level.kind === 'local') level.counters.hits++;
    else level.guard.hits++;
  }

  #tierMiss(level: Level): void {
    if (level.kind === 'local') level.counters.misses++;
    else level.guard.misses++;
  }

  #miss(namespace: string): void {
    this.#misses++;
    this.#stats(namespace).misses++;
  }

  #staleServed(
    namespace: string,
    key: string,
    reason: 'refreshing' | 'loader-failed' | 'loader-slow' | 'tier-failed',
  ): void {
    this.#stats(namespace).staleServed++;
    this.emit('stale-served', { namespace, key, reason });
  }

  #publish(message: InvalidationMessage): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    this.#busStats.published++;
    bus.publish(message).catch((error) => {
      this.#busStats.errors++;
      this.#logTier('bus', 'publish', error);
    });
  }

  #subscribe(): Promise<void> {
    const bus = this.#bus;
    if (bus === undefined) return Promise.resolve();
    this.#busReady ??= bus
      .subscribe(this.#origin, (message) => {
        this.#busStats.received++;
        this.#apply(message);
      })
      .catch((error) => {
        this.#busStats.errors++;
        this.#busReady = undefined;
        this.#logTier('bus', 'subscribe', error);
      });
    return this.#busReady;
  }

  /** Applies an invalidation from another instance to the local tier. */
  #apply(message: InvalidationMessage): void {
    const local = this.#localLevel;
    if (message.type === 'delete') {
      for (const key of message.keys) {
        this.#bumpKey(message.namespace, key);
        void local?.remove(message.namespace, key);
      }
    } else if (message.type === 'tags') {
      this.#globalGeneration++;
      void local?.removeByTags(message.tags, message.namespace);
    } else {
      this.#globalGeneration++;
      void local?.removeAll(message.namespace);
    }
  }

  /** The generation a read or a load of `key` compares against when it wants to write. */
  #generationOf(namespace: string, key: string): number {
    return (
      this.#globalGeneration * GENERATION_BUCKETS + this.#keyGenerations[bucketOf(namespace, key)]!
    );
  }

  #bumpKey(namespace: string, key: string): void {
    this.#keyGenerations[bucketOf(namespace, key)]! += 1;
  }

  #startGlobalInvalidation(): void {
    // Loads under way may have read what is being invalidated: callers from now on start afresh.
    this.#inflight.clear();
    this.#invalidating++;
    this.#globalGeneration++;
  }

  /** Ends an invalidation; bumps again, for reads that started while it ran. */
  #settleInvalidation(bump: () => void): void {
    this.#invalidating--;
    bump();
  }

  #dropLocal(reason: string): void {
    this.#globalGeneration++;
    void this.#localLevel?.removeAll();
    this.#log.warn({ reason }, 'local cache tier dropped');
  }

  /** @internal Subscribes to the bus now (the engine also does it on start()). */
  ready(): Promise<void> {
    return this.#subscribe();
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

/** FNV-1a over the namespace and the key, into a generation bucket. */
function bucketOf(namespace: string, key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < namespace.length; i++) {
    hash = Math.imul(hash ^ namespace.charCodeAt(i), 0x01000193);
  }
  hash = Math.imul(hash, 0x01000193);
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) & (GENERATION_BUCKETS - 1);
}

function capped(meta: EntryMeta, maxTtlMs: number | undefined, clock: Clock): EntryMeta {
  if (maxTtlMs === undefined) return meta;
  const limit = clock.epochNow() + maxTtlMs;
  if (meta.staleUntil <= limit) return meta;
  return { ...meta, expiresAt: Math.min(meta.expiresAt, limit), staleUntil: limit };
}

function positiveDuration(value: Duration, name: string): number {
  const ms = parseDuration(value, name);
  if (ms <= 0) {
    throw new InvalidArgumentError(
      `${name}=${describeValue(value)} is invalid: expected a positive duration`,
      {
        argument: name,
        value,
        expected: 'a positive duration',
      },
    );
  }
  return ms;
}

function checkTags(tags: unknown): readonly string[] {
  if (tags === undefined) return [];
  if (
    !Array.isArray(tags) ||
    tags.some((tag) => typeof tag !== 'string' || tag === '' || !isSafeName(tag))
  ) {
    throw new InvalidArgumentError(
      `tags=${describeValue(tags)} is invalid: expected a list of non-empty strings without control characters`,
      {
        argument: 'tags',
        value: tags,
        expected: 'a list of non-empty strings without control characters',
      },
    );
  }
  return tags as readonly string[];
}

function notAList(argument: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`${argument}=${describeValue(value)} is invalid`, {
    argument,
    value,
    expected: argument === 'name' ? 'a non-empty string' : 'an array',
  });
}

async function raceTimeout<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
