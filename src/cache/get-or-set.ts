import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { CacheCounters } from './cache-analytics.js';
import { checkTags, raceTimeout } from './cache-checks.js';
import { CacheLoaderTimeoutError } from './errors.js';
import type { Generations } from './generations.js';
import type { Invalidation } from './invalidation.js';
import { noteLoadTags } from './load-tags.js';
import type { TierLog } from './tier-log.js';
import type { Found, TierStack } from './tier-stack.js';
import type { CacheEvents, DistributedLock, GetOrSetOptions } from './types.js';

/** What a `getOrSet` loader receives. */
export interface LoaderContext {
  key: string;
  namespace: string;
  /** The expired value still within its grace period, if any (to refresh from, say). */
  stale: unknown;
}

/** @internal A `getOrSet` loader. */
export type Loader<T> = (context: LoaderContext) => T | Promise<T>;

/** @internal The options of `getOrSet`, with tags that may depend on the loaded value. */
export type LoadOptions<T> = Omit<GetOrSetOptions, 'tags'> & {
  tags?: readonly string[] | ((value: T) => readonly string[]);
};

const SEPARATOR = '\u0000';

/** @internal The key of a load under way, and of its distributed lock. */
export function loadId(namespace: string, key: string): string {
  return namespace + SEPARATOR + key;
}

/** @internal Throws unless `loader` is a function. */
export function checkLoader(loader: unknown): void {
  if (typeof loader !== 'function') {
    throw new InvalidArgumentError(`loader=${describeValue(loader)} is not a function`, {
      argument: 'loader',
      value: loader,
      expected: 'a function returning the value',
    });
  }
}

/** @internal A `timeout.soft` or `timeout.hard` option in milliseconds, if set. */
export function loaderTimeout(
  options: Pick<GetOrSetOptions, 'timeout'>,
  which: 'soft' | 'hard',
): number | undefined {
  const value = options.timeout?.[which];
  return value === undefined ? undefined : parseDuration(value, `timeout.${which}`);
}

/** @internal What {@link GetOrSet} works with, built by the cache. */
export interface GetOrSetParts {
  stack: TierStack;
  counters: CacheCounters;
  generations: Generations;
  invalidation: Invalidation;
  inflight: Map<string, Promise<unknown>>;
  events: Emitter<CacheEvents>;
  log: Logger;
  tierLog: TierLog;
  clock: Clock;
  lock: DistributedLock | undefined;
  failSafeThrottleMs: number;
  remoteTimeoutMs: number;
}

/**
 * @internal `getOrSet` past its arguments and the local tier: the lookup through the other tiers,
 * one load per key in this process (and across processes under the distributed lock), and the
 * grace period that serves a stale value while refreshing or when the loader or a tier fails.
 */
export class GetOrSet {
  readonly #parts: GetOrSetParts;
  #warnedNoLock = false;

  constructor(parts: GetOrSetParts) {
    this.#parts = parts;
  }

  async run<T>(
    namespace: string,
    key: string,
    loader: Loader<T>,
    options: LoadOptions<T>,
    soft: number | undefined,
    hard: number | undefined,
  ): Promise<T> {
    const { stack, counters, inflight } = this.#parts;
    const found = await stack.lookup(namespace, key);
    if (found?.fresh) return found.value as T;
    counters.miss(namespace);
    const stale = found as (Found & { value: T }) | undefined;

    const id = loadId(namespace, key);
    let pending = inflight.get(id) as Promise<T> | undefined;
    if (pending !== undefined) {
      counters.of(namespace).dedupedCalls++;
    } else {
      // With a stale value and no soft timeout, this caller (and every caller that joins it)
      // returns the stale value at once: the load only refreshes in the background.
      const background = stale !== undefined && soft === undefined;
      pending = this.#load(namespace, key, loader, options, stale, background);
      noteLoadTags(pending, options.tags);
      inflight.set(id, pending);
      const forget = () => {
        if (inflight.get(id) === pending) inflight.delete(id);
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

  /** Loads `key` again now (joining a load under way) and caches the value: a refresh ahead of expiry. */
  refresh<T>(
    namespace: string,
    key: string,
    loader: Loader<T>,
    options: LoadOptions<T>,
  ): Promise<T> {
    const { inflight } = this.#parts;
    const id = loadId(namespace, key);
    const pending = inflight.get(id) as Promise<T> | undefined;
    if (pending !== undefined) return pending;
    const load = this.#load(namespace, key, loader, options, undefined, true);
    noteLoadTags(load, options.tags);
    inflight.set(id, load);
    const forget = () => {
      if (inflight.get(id) === load) inflight.delete(id);
    };
    load.then(forget, forget);
    return load;
  }

  /** Runs the loader once (under the distributed lock when asked) and caches its value. */
  async #load<T>(
    namespace: string,
    key: string,
    loader: Loader<T>,
    options: LoadOptions<T>,
    stale: (Found & { value: T }) | undefined,
    background: boolean,
  ): Promise<T> {
    const { stack, generations, invalidation, tierLog } = this.#parts;
    const stats = this.#parts.counters.of(namespace);
    const generation = generations.of(namespace, key);
    const tagMark = generations.tagMark();
    let release: (() => Promise<void>) | undefined;
    if (options.lock !== undefined && options.lock !== false) {
      const waited = await this.#lockOrWait<T>(namespace, key, options.lock);
      if (waited.value !== undefined) return waited.value;
      release = waited.release;
    }
    try {
      stats.loaderCalls++;
      const { clock } = this.#parts;
      const started = clock.now();
      let value: T;
      try {
        value = await loader({ key, namespace, stale: stale?.value });
        stats.loaderMs += clock.now() - started;
      } catch (error) {
        stats.loaderMs += clock.now() - started;
        stats.loaderErrors++;
        if (stale !== undefined) {
          // A background refresh serves nobody: the callers already got the stale value.
          if (!background) this.#staleServed(namespace, key, 'loader-failed');
          this.#parts.log.warn(
            { err: error, namespace, key },
            'cache loader failed; serving the stale value',
          );
          this.#throttleFailSafe(namespace, key, stale, generation, tagMark);
          return stale.value;
        }
        throw error;
      }
      if (value === undefined) return value;
      const tags = checkTags(
        typeof options.tags === 'function' ? options.tags(value) : options.tags,
      );
      // The key, or one of the value's tags, was set, deleted or invalidated while the loader
      // ran: what it loaded may predate that change. The callers waiting get it; the cache does
      // not keep it.
      if (generations.changed(namespace, key, generation, tagMark, tags)) return value;
      await stack.write(namespace, key, value, stack.meta(options.ttl, options.grace, tags));
      invalidation.publishKey(namespace, key);
      return value;
    } finally {
      // Released in the background: a slow or stalled lock store must not hold the value back.
      release?.().catch((error) => tierLog.report('lock', 'release', error));
    }
  }

  /**
   * After a failed refresh, the stale value is treated as fresh in the local tier for a short
   * while, so that a source that is down is not called by every request in the meantime.
   */
  #throttleFailSafe(
    namespace: string,
    key: string,
    stale: Found,
    generation: number,
    tagMark: number,
  ): void {
    const { stack, generations, clock, failSafeThrottleMs } = this.#parts;
    const local = stack.localLevel;
    if (local === undefined || failSafeThrottleMs === 0) return;
    if (generations.changed(namespace, key, generation, tagMark, stale.meta.tags)) return;
    const now = clock.epochNow();
    const expiresAt = Math.min(now + failSafeThrottleMs, stale.meta.staleUntil);
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
    const { lock, stack, tierLog, remoteTimeoutMs } = this.#parts;
    if (lock === undefined) {
      if (!this.#warnedNoLock) {
        this.#warnedNoLock = true;
        this.#parts.log.warn(
          { namespace, key },
          'getOrSet({ lock: true }) without a distributed lock (no Redis tier, no `lock` option): the loader runs once per process only',
        );
      }
      return {};
    }
    const ttlMs = parseDuration((option === true ? undefined : option.ttl) ?? 10, 'lock.ttl');
    const waitMs = parseDuration((option === true ? undefined : option.wait) ?? 5, 'lock.wait');
    const resource = loadId(namespace, key);
    const deadline = Date.now() + waitMs;
    let delay = 10;
    while (true) {
      let token: string | undefined;
      try {
        // Bounded like a tier operation: a lock store that stalls must not hold the caller.
        const settled = await raceTimeout(lock.acquire(resource, ttlMs), remoteTimeoutMs);
        if (!settled.done) {
          tierLog.report('lock', 'acquire', new Error(`no answer within ${remoteTimeoutMs} ms`));
          return {};
        }
        token = settled.value;
      } catch (error) {
        tierLog.report('lock', 'acquire', error);
        return {};
      }
      if (token !== undefined) {
        const release = async () => {
          await raceTimeout(lock.release(resource, token), remoteTimeoutMs);
        };
        // The previous holder may have stored its value between our last look and this lock:
        // loading again would run the loader twice for one miss.
        const found = await stack.lookup(namespace, key);
        if (found?.fresh) {
          release().catch((error) => tierLog.report('lock', 'release', error));
          return { value: found.value as T };
        }
        return { release };
      }
      if (Date.now() >= deadline) return {};
      await sleep(delay);
      delay = Math.min(delay * 2, 200);
      const found = await stack.lookup(namespace, key);
      if (found?.fresh) return { value: found.value as T };
    }
  }

  #staleServed(
    namespace: string,
    key: string,
    reason: 'refreshing' | 'loader-failed' | 'loader-slow' | 'tier-failed',
  ): void {
    this.#parts.counters.of(namespace).staleServed++;
    this.#parts.events.emit('stale-served', { namespace, key, reason });
  }
}
