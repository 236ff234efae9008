import { type Clock, systemClock } from '../../core/clock.js';
import type { Duration } from '../../core/duration.js';
import { Emitter } from '../../core/events.js';
import { rejectAfter } from '../../core/timeout.js';
import { nonEmptyString, positiveDuration, positiveInteger } from '../logins/checks.js';
import type { Ban, BanStore } from '../types.js';
import { type BanChange, isWatched } from './ban-store.js';
import type { ClientMatcher } from './client-matcher.js';
import { MemoryBanStore } from './memory-ban-store.js';

/**
 * Options of {@link BanList}.
 *
 * @example
 * ```ts
 * const options: BanListOptions = { store: new RedisBanStore({ url }), refreshMs: 1_000 };
 * ```
 */
export interface BanListOptions {
  /** Where bans are shared. @defaultValue a MemoryBanStore of this list alone */
  store?: BanStore;
  /**
   * How often the local cache is read again from the store (and failed writes retried). With a
   * store that reports changes (both of ours do) a ban arrives at once; this bounds the delay when
   * a change message was lost. @defaultValue 1000
   */
  refreshMs?: number;
  /** Longest wait for one store call; past it the call counts as failed. @defaultValue 1000 */
  storeTimeoutMs?: number;
  /**
   * Builds the matcher of a banned range (a ban whose client holds `/`, such as `10.0.0.0/8`), for
   * a CIDR-aware match. By default a range matches the client key written the same way only.
   */
  ranges?: (list: readonly string[]) => ClientMatcher;
  /** The time source (tests). @defaultValue systemClock */
  clock?: Clock;
}

/**
 * The events of a {@link BanList}.
 *
 * @example
 * ```ts
 * bans.on('store-error', (error) => log.warn({ err: error }, 'ban store unreachable'));
 * ```
 */
export type BanListEvents = {
  /** A ban made through this list. */
  ban: [ban: Ban];
  /** A ban lifted through this list (`manual`), or one that ended (`expired`). */
  unban: [event: { client: string; reason: 'manual' | 'expired' }];
  /** A store call failed or timed out; the local decision stood and the write is retried. */
  'store-error': [error: Error];
};

/**
 * Temporary bans with a local cache: `isBanned()` answers from memory, at once, and the cache
 * follows the store (changes as they are reported, and a full read every `refreshMs`). A ban or
 * unban takes effect locally before the store is told, so when the store is down decisions go on
 * locally and the writes are retried; no call throws or waits longer than `storeTimeoutMs` for it.
 *
 * @example
 * ```ts
 * const bans = new BanList({ store: new RedisBanStore({ url: process.env.REDIS_URL }) });
 * await bans.start();
 * await bans.ban('203.0.113.7', '1h', 'credential stuffing');
 * bans.isBanned('203.0.113.7'); // true, here and on every instance within a second
 * ```
 */
export class BanList extends Emitter<BanListEvents> {
  readonly #store: BanStore;
  readonly #clock: Clock;
  readonly #refreshMs: number;
  readonly #timeoutMs: number;
  readonly #rangesOf: ((list: readonly string[]) => ClientMatcher) | undefined;
  /** The bans in force as this process knows them, by client. */
  #view = new Map<string, Ban>();
  #ranges: { ban: Ban; matcher: ClientMatcher }[] = [];
  readonly #pendingPuts = new Map<string, Ban>();
  readonly #pendingDeletes = new Set<string>();
  /** Local changes by client, numbered: a read that began before one must not undo it. */
  readonly #touched = new Map<string, number>();
  /** Clients with a write on its way to the store: their local state wins until it lands. */
  readonly #inFlight = new Map<string, number>();
  #sequence = 0;
  #lastVersion: string | undefined;
  #refreshing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopWatching: Promise<(() => Promise<void>) | undefined> | undefined;
  #closed = false;

  constructor(options: BanListOptions = {}) {
    super();
    this.#clock = options.clock ?? systemClock;
    this.#store = options.store ?? new MemoryBanStore({ clock: this.#clock });
    this.#refreshMs = positiveInteger(options.refreshMs ?? 1_000, 'refreshMs');
    this.#timeoutMs = positiveInteger(options.storeTimeoutMs ?? 1_000, 'storeTimeoutMs');
    this.#rangesOf = options.ranges;
  }

  /**
   * Follows the store: listens to its changes (when it reports them), reads it once and every
   * `refreshMs` after. Resolves after the first read, or its failure: never later than about twice
   * `storeTimeoutMs`.
   */
  async start(): Promise<void> {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.refresh(), this.#refreshMs);
    this.#timer.unref();
    const store = this.#store;
    if (isWatched(store)) {
      this.#stopWatching = rejectAfter(
        store.watch((change) => this.#onChange(change)),
        this.#timeoutMs,
        `ban store: not watching after ${this.#timeoutMs} ms`,
      ).catch((error: unknown) => {
        this.#report(error);
        return undefined;
      });
      await this.#stopWatching;
    }
    await this.refresh();
  }

  /**
   * Bans `client` (an address, a client key, a range) for `duration` (seconds, or `'30m'`, `'1h'`,
   * ...). In force locally at once, then written to the store; resolves with the ban even when the
   * store failed (the write is retried at each refresh).
   */
  async ban(client: string, duration: Duration, reason: string, source = 'manual'): Promise<Ban> {
    nonEmptyString(client, 'client');
    const ms = positiveDuration(duration, 'duration');
    const now = this.#clock.epochNow();
    const ban: Ban = {
      client,
      until: now + ms,
      reason: String(reason ?? ''),
      source,
      createdAt: now,
    };
    this.#set(ban);
    this.#pendingDeletes.delete(client);
    this.emit('ban', ban);
    await this.#write(client, async () => {
      try {
        await this.#call(() => this.#store.put(ban));
        if (this.#pendingPuts.get(client) === ban) this.#pendingPuts.delete(client);
      } catch (error) {
        if (this.#view.get(client) === ban) this.#pendingPuts.set(client, ban);
        this.#report(error);
      }
    });
    return ban;
  }

  /** Lifts the ban of `client`, here at once and then in the store; whether there was one. */
  async unban(client: string): Promise<boolean> {
    nonEmptyString(client, 'client');
    const had = this.#delete(client);
    this.#pendingPuts.delete(client);
    let removed = false;
    await this.#write(client, async () => {
      try {
        removed = await this.#call(() => this.#store.delete(client));
        this.#pendingDeletes.delete(client);
      } catch (error) {
        if (!this.#view.has(client)) this.#pendingDeletes.add(client);
        this.#report(error);
      }
    });
    if (had || removed) this.emit('unban', { client, reason: 'manual' });
    return had || removed;
  }

  /** Whether `client` is banned now, from the local cache. */
  isBanned(client: string): boolean {
    return this.get(client) !== undefined;
  }

  /** The ban in force on `client` (its own, or a banned range it falls in), from the local cache. */
  get(client: string): Ban | undefined {
    const now = this.#clock.epochNow();
    const own = this.#view.get(client);
    if (own !== undefined) {
      if (own.until > now) return own;
      this.#expire(own);
    }
    for (const range of this.#ranges) {
      if (range.ban.until <= now) {
        this.#expire(range.ban);
        return this.get(client);
      }
      if (range.matcher.has(client)) return range.ban;
    }
    return undefined;
  }

  /** The bans in force, from the local cache. */
  list(): Ban[] {
    const now = this.#clock.epochNow();
    const bans: Ban[] = [];
    for (const ban of [...this.#view.values()]) {
      if (ban.until > now) bans.push(ban);
      else this.#expire(ban);
    }
    return bans;
  }

  /** Writes that failed and wait for the store to come back. */
  get pending(): number {
    return this.#pendingPuts.size + this.#pendingDeletes.size;
  }

  /**
   * Retries the failed writes, then reads the store (skipped when its version did not change)
   * and updates the cache, keeping the local changes made meanwhile. Never throws.
   */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Stops following the store (the store itself stays open: close it if you opened it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    const stop = await this.#stopWatching;
    await Promise.allSettled([
      stop && rejectAfter(stop(), this.#timeoutMs, 'ban store: unwatch timed out'),
      this.#refreshing,
    ]);
  }

  async #refresh(): Promise<void> {
    const started = this.#sequence;
    try {
      for (const [client, ban] of [...this.#pendingPuts]) {
        await this.#call(() => this.#store.put(ban));
        if (this.#pendingPuts.get(client) === ban) this.#pendingPuts.delete(client);
      }
      for (const client of [...this.#pendingDeletes]) {
        await this.#call(() => this.#store.delete(client));
        this.#pendingDeletes.delete(client);
      }
      const store = this.#store;
      const version = isWatched(store) ? await this.#call(() => store.version()) : undefined;
      if (version !== undefined && version === this.#lastVersion) {
        this.#forgetTouches(started);
        return;
      }
      const stored = await this.#call(() => store.list());
      this.#merge(stored, started);
      this.#lastVersion = version;
    } catch (error) {
      this.#report(error);
    }
  }

  /** The store's list, with what changed here since the read began kept as it is here. */
  #merge(stored: readonly Ban[], started: number): void {
    const now = this.#clock.epochNow();
    const next = new Map<string, Ban>();
    for (const ban of stored) {
      if (ban.until > now && !this.#pendingDeletes.has(ban.client)) next.set(ban.client, ban);
    }
    for (const [client, sequence] of this.#touched) {
      if (sequence <= started && !this.#inFlight.has(client)) continue;
      const local = this.#view.get(client);
      if (local === undefined) next.delete(client);
      else next.set(client, local);
    }
    for (const ban of this.#pendingPuts.values()) next.set(ban.client, ban);
    this.#view = next;
    this.#rebuildRanges();
    this.#forgetTouches(started);
  }

  #onChange(change: BanChange): void {
    if (this.#closed) return;
    const client =
      change.type === 'put'
        ? change.ban.client
        : change.type === 'delete'
          ? change.client
          : undefined;
    // A write of ours is on its way: its own message comes after it and settles the matter.
    if (client !== undefined && this.#inFlight.has(client)) return;
    if (change.type === 'resync') {
      this.#lastVersion = undefined;
      void this.refresh();
    } else if (change.type === 'put') {
      if (
        change.ban.until > this.#clock.epochNow() &&
        !this.#pendingDeletes.has(change.ban.client)
      ) {
        this.#set(change.ban);
      }
    } else if (!this.#pendingPuts.has(change.client)) {
      this.#delete(change.client);
    }
  }

  #set(ban: Ban): void {
    this.#view.set(ban.client, ban);
    if (ban.client.includes('/')) this.#rebuildRanges();
  }

  #delete(client: string): boolean {
    const had = this.#view.delete(client);
    if (had && client.includes('/')) this.#rebuildRanges();
    return had;
  }

  #expire(ban: Ban): void {
    if (this.#view.get(ban.client) !== ban) return;
    this.#delete(ban.client);
    this.emit('unban', { client: ban.client, reason: 'expired' });
  }

  #rebuildRanges(): void {
    const ranges: { ban: Ban; matcher: ClientMatcher }[] = [];
    if (this.#rangesOf !== undefined) {
      for (const ban of this.#view.values()) {
        if (!ban.client.includes('/')) continue;
        try {
          ranges.push({ ban, matcher: this.#rangesOf([ban.client]) });
        } catch (error) {
          // A range the matcher cannot read still matches its own key, through the map.
          this.#report(error);
        }
      }
    }
    this.#ranges = ranges;
  }

  #touch(client: string): void {
    this.#touched.set(client, ++this.#sequence);
  }

  /**
   * Runs a store write for `client`, marked in flight, and numbered before and after: a read of
   * the store that began before it landed cannot undo the local change.
   */
  async #write(client: string, body: () => Promise<void>): Promise<void> {
    this.#touch(client);
    this.#inFlight.set(client, (this.#inFlight.get(client) ?? 0) + 1);
    try {
      await body();
    } finally {
      const left = (this.#inFlight.get(client) ?? 1) - 1;
      if (left === 0) this.#inFlight.delete(client);
      else this.#inFlight.set(client, left);
      this.#touch(client);
    }
  }

  #forgetTouches(upTo: number): void {
    for (const [client, sequence] of this.#touched) {
      if (sequence <= upTo) this.#touched.delete(client);
    }
  }

  #call<T>(body: () => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error);
    }
    return rejectAfter(
      promise,
      this.#timeoutMs,
      `ban store: no answer within ${this.#timeoutMs} ms`,
    );
  }

  #report(error: unknown): void {
    this.emit('store-error', error instanceof Error ? error : new Error(String(error)));
  }
}
