import type { Clock } from '../core/clock.js';
import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { CacheCounters } from './cache-analytics.js';
import { capped, positiveDuration } from './cache-checks.js';
import type { Level, PeekableTier, RemoteLevel } from './cache-levels.js';
import type { CacheCodec } from './codec.js';
import type { DecodeFailures } from './decode-failure.js';
import type { Generations } from './generations.js';
import { LocalLevel } from './local-level.js';
import { TierGuard, type TierGuardOptions } from './tier-guard.js';
import type { TierLog } from './tier-log.js';
import type { CacheEvents, CacheTier, EntryMeta, StoredEntry, TierHealth } from './types.js';

/** @internal A value found in a tier, with where it came from. */
export interface Found {
  value: unknown;
  meta: EntryMeta;
  fresh: boolean;
}

/** @internal What a {@link TierStack} works with, built by the cache. */
export interface StackParts {
  events: Emitter<CacheEvents>;
  log: Logger;
  tierLog: TierLog;
  clock: Clock;
  codec: CacheCodec;
  counters: CacheCounters;
  generations: Generations;
  decodeFailures: DecodeFailures;
  remote: TierGuardOptions | undefined;
  defaultTtlMs: number;
  defaultGraceMs: number;
}

/**
 * @internal The cache's tiers, fastest first, and the paths through them: a read that falls
 * through the tiers and promotes what it finds, a write to every tier, and the per-tier fan-out of
 * invalidations, pings and expiry sweeps. A failing tier is reported here and read as a miss or a
 * no-op, so nothing above throws because of a tier.
 */
export class TierStack {
  readonly levels: Level[];
  /** The first local tier, if any. */
  readonly localLevel: LocalLevel | undefined;
  /** The first local tier, when it can `peek`. */
  readonly local: PeekableTier | undefined;
  readonly hasRemote: boolean;
  readonly #parts: StackParts;

  constructor(tiers: readonly CacheTier<any>[], parts: StackParts) {
    this.#parts = parts;
    this.levels = tiers.map((tier, i) => this.#level(tier, i));
    this.hasRemote = this.levels.some((level) => level.kind === 'remote');
    const first = this.levels.find((level) => level.kind === 'local');
    this.localLevel = first;
    this.local =
      first !== undefined && typeof first.tier.peek === 'function'
        ? (first.tier as PeekableTier)
        : undefined;
  }

  #level(tier: CacheTier<any>, index: number): Level {
    if (tier === null || typeof tier !== 'object' || typeof tier.get !== 'function') {
      throw new InvalidArgumentError(`tiers[${index}]=${describeValue(tier)} is not a cache tier`, {
        argument: `tiers[${index}]`,
        value: tier,
        expected: 'a CacheTier',
      });
    }
    const { events, log, tierLog } = this.#parts;
    if (tier.local) {
      return new LocalLevel(tier, (operation, error) => {
        events.emit('tier-error', { tier: tier.name, operation, error: error as Error });
        tierLog.report(tier.name, operation, error);
      });
    }
    return {
      kind: 'remote',
      guard: new TierGuard<Uint8Array>(
        tier as CacheTier<Uint8Array>,
        this.#parts.remote ?? {},
        (state) => {
          events.emit('circuit', { tier: tier.name, state });
          log.warn({ tier: tier.name, state }, `cache tier circuit ${state}`);
        },
        `L${index + 1}`,
      ),
    };
  }

  /** The times of an entry written now. */
  meta(ttl: Duration | undefined, grace: Duration | undefined, tags: readonly string[]): EntryMeta {
    const { defaultTtlMs, defaultGraceMs, clock } = this.#parts;
    const ttlMs = ttl === undefined ? defaultTtlMs : positiveDuration(ttl, 'ttl');
    const graceMs = grace === undefined ? defaultGraceMs : parseDuration(grace, 'grace');
    // Whole milliseconds: the SQL tiers keep integers, and the times must come back exactly as
    // encoded for the entry to pass its check.
    const now = Math.round(clock.epochNow());
    const expiresAt = Math.round(now + ttlMs);
    return { createdAt: now, expiresAt, staleUntil: Math.round(expiresAt + graceMs), tags };
  }

  /** Looks the key up tier by tier; fills faster tiers from the first fresh hit. */
  async lookup(namespace: string, key: string): Promise<Found | undefined> {
    const { generations, clock, codec, counters } = this.#parts;
    const generation = generations.of(namespace, key);
    const tagMark = generations.tagMark();
    const now = clock.epochNow();
    let stale: Found | undefined;
    for (let i = 0; i < this.levels.length; i++) {
      const level = this.levels[i]!;
      let found: (Found & { bytes?: Uint8Array }) | undefined;
      if (level.kind === 'local') {
        const read = level.read(namespace, key, now);
        const entry = read instanceof Promise ? await read : read;
        if (entry !== undefined)
          found = { value: entry.payload, meta: entry, fresh: entry.expiresAt > now };
      } else {
        const entry = await this.remote(level, 'get', (tier) => tier.get(namespace, key));
        // The times obeyed below are the ones decodeEntry authenticates: a tier header or column
        // rewritten in the store fails the check instead of reviving or extending an entry.
        if (entry !== undefined && entry.staleUntil > now) {
          try {
            const value = codec.decodeEntry(entry.payload, namespace, key, entry);
            found = { value, meta: entry, fresh: entry.expiresAt > now, bytes: entry.payload };
          } catch (error) {
            this.#decodeFailed(level, namespace, key, entry, error);
          }
        }
      }
      if (found === undefined) {
        counters.tierMiss(level);
        continue;
      }
      if (!found.fresh) {
        stale ??= found;
        counters.tierMiss(level);
        continue;
      }
      counters.hit(namespace, level);
      if (i > 0) await this.#promote(i, namespace, key, found, generation, tagMark);
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
    tagMark: number,
  ): Promise<void> {
    // A change of this key (or an invalidation of one of its tags, or a clear) that happened, or
    // is still under way, while the value was fetched may have removed it: filling a faster tier
    // could resurrect it.
    const { generations } = this.#parts;
    if (generations.changed(namespace, key, generation, tagMark, found.meta.tags)) return;
    const { clock, codec } = this.#parts;
    await Promise.all(
      this.levels.slice(0, index).map(async (level) => {
        if (level.kind === 'local') {
          await level.write(
            namespace,
            key,
            found.value,
            capped(found.meta, level.tier.maxTtlMs, clock),
          );
          return;
        }
        let bytes = found.bytes;
        if (bytes === undefined) {
          try {
            bytes = codec.encodeEntry(found.value, namespace, key, found.meta);
          } catch {
            return;
          }
        }
        const payload = bytes;
        await this.remote(level, 'set', (tier) => tier.set(namespace, key, payload, found.meta));
      }),
    );
  }

  /** Stores an entry in every tier (encoded once for the remote ones). */
  async write(namespace: string, key: string, value: unknown, meta: EntryMeta): Promise<void> {
    const { codec, generations, counters, clock } = this.#parts;
    const bytes = this.hasRemote ? codec.encodeEntry(value, namespace, key, meta) : undefined;
    generations.bumpKey(namespace, key);
    counters.of(namespace).sets++;
    await Promise.all(
      this.levels.map(async (level) => {
        if (level.kind === 'local') {
          level.counters.sets++;
          await level.write(namespace, key, value, capped(meta, level.tier.maxTtlMs, clock));
          return;
        }
        level.guard.sets++;
        await this.remote(level, 'set', (tier) => tier.set(namespace, key, bytes!, meta));
      }),
    );
  }

  /** Removes `key` from every tier; resolves whether any held it. */
  async remove(namespace: string, key: string): Promise<boolean> {
    const results = await Promise.all(
      this.levels.map(async (level) => {
        if (level.kind === 'local') {
          level.counters.deletes++;
          return level.remove(namespace, key);
        }
        level.guard.deletes++;
        return (await this.remote(level, 'delete', (tier) => tier.delete(namespace, key))) === true;
      }),
    );
    return results.some(Boolean);
  }

  /** Removes the entries carrying any of `tags` from every tier. */
  async removeByTags(tags: readonly string[], namespace: string | undefined): Promise<void> {
    await Promise.all(
      this.levels.map(async (level) => {
        if (level.kind === 'local') {
          await level.removeByTags(tags, namespace);
          return;
        }
        await this.remote(level, 'deleteByTags', (tier) => tier.deleteByTags(tags, namespace));
      }),
    );
  }

  /** Removes every entry of `namespace`, or of every namespace, from every tier. */
  async removeAll(namespace: string | undefined): Promise<void> {
    await Promise.all(
      this.levels.map(async (level) => {
        if (level.kind === 'local') {
          await level.removeAll(namespace);
          return;
        }
        await this.remote(level, 'clear', (tier) => tier.clear(namespace));
      }),
    );
  }

  /** The server version of every tier that has a server; see `Cache.serverVersions`. */
  async serverVersions(): Promise<Record<string, string | null>> {
    const versions: Record<string, string | null> = {};
    await Promise.all(
      this.levels.map(async (level) => {
        const tier = level.kind === 'local' ? level.tier : level.guard.tier;
        if (typeof tier.serverVersion !== 'function') return;
        try {
          versions[tier.name] = (await tier.serverVersion()) ?? null;
        } catch {
          versions[tier.name] = null;
        }
      }),
    );
    return versions;
  }

  /** Asks every tier whether its store answers; see `Cache.ping`. */
  ping(): Promise<TierHealth[]> {
    return Promise.all(
      this.levels.map(async (level): Promise<TierHealth> => {
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

  /** Takes the remote tiers' circuit breakers out of their registry and stops their timers. */
  dispose(): void {
    for (const level of this.levels) if (level.kind === 'remote') level.guard.dispose();
  }

  /** Removes expired entries tier by tier; resolves how many each removed. */
  async removeExpired(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const level of this.levels) {
      if (level.kind === 'local') {
        removed[level.tier.name] = await level.tier.removeExpired();
      } else {
        removed[level.guard.tier.name] =
          (await this.remote(level, 'removeExpired', (tier) => tier.removeExpired())) ?? 0;
      }
    }
    return removed;
  }

  /** Runs a remote tier operation; a failure is reported and turns into `undefined`. */
  async remote<R>(
    level: RemoteLevel,
    operation: string,
    run: (tier: CacheTier<Uint8Array>) => Promise<R>,
  ): Promise<R | undefined> {
    try {
      return await level.guard.run(operation, run);
    } catch (error) {
      const tier = level.guard.tier.name;
      this.#parts.events.emit('tier-error', { tier, operation, error: error as Error });
      this.#parts.tierLog.report(tier, operation, error);
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
    level: RemoteLevel,
    namespace: string,
    key: string,
    entry: StoredEntry<Uint8Array>,
    error: unknown,
  ): void {
    const tier = level.guard.tier.name;
    const failure = this.#parts.decodeFailures.record(error, { tier, namespace, key });
    this.#parts.events.emit('decode-error', {
      tier,
      namespace,
      key,
      error: failure.error,
      reason: failure.reason,
      corrupt: failure.corrupt,
    });
    if (failure.corrupt && typeof level.guard.tier.deleteIfUnchanged === 'function') {
      void this.remote(level, 'deleteIfUnchanged', (t) =>
        t.deleteIfUnchanged!(namespace, key, entry),
      );
    }
  }
}
