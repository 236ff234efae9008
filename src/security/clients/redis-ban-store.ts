import { type Clock, systemClock } from '../../core/clock.js';
import { LifecycleError } from '../../core/errors.js';
import { rejectAfter } from '../../core/timeout.js';
import {
  checkTimeout,
  createClient,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../../redis/client.js';
import { checkPrefix } from '../../redis/keys.js';
import { luaScript, runScript } from '../../redis/scripts.js';
import { resubscribeOnReady, SUBSCRIBER_OPTIONS, subscriberOf } from '../../redis/subscriber.js';
import type { Ban } from '../types.js';
import { type BanChange, parseBan, type WatchedBanStore } from './ban-store.js';

/**
 * Options of {@link RedisBanStore}.
 *
 * @example
 * ```ts
 * const options: RedisBanStoreOptions = { url: process.env.REDIS_URL, prefix: 'shop:security' };
 * ```
 */
export interface RedisBanStoreOptions {
  /** An ioredis client or Cluster; never closed by the store. Give either `client` or `url`. */
  client?: RedisClient;
  /** A Redis URL: the store opens fail-fast connections and quits them on `close()`. */
  url?: string;
  /** Every key is `{prefix}:bans…`: one hash tag, so the store works on Redis Cluster. @defaultValue 'enterprise:security' */
  prefix?: string;
  /** Longest wait for Redis before a call rejects. @defaultValue 1000 */
  commandTimeoutMs?: number;
  /** Connection errors and malformed change messages; never thrown. */
  onError?: (error: Error) => void;
  /** The time bans end by (tests); give every instance the same. @defaultValue systemClock */
  clock?: Clock;
}

/** Drops the bans that ended: their hash fields and their places in the expiry index. */
const PURGE = `
local ended = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for i = 1, #ended do redis.call('HDEL', KEYS[1], ended[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
`;

/**
 * KEYS: bans hash, expiry index, version. ARGV: now, client, ban JSON, until. Stores the ban,
 * indexes its end, keeps both keys until the last ban ends (and a minute), bumps the version.
 */
const PUT = luaScript(`${PURGE}
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local keep = math.floor(tonumber(last[2]) - tonumber(ARGV[1])) + 60000
if keep < 60000 then keep = 60000 end
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
return redis.call('INCR', KEYS[3])
`);

/**
 * KEYS: bans hash, expiry index, version. ARGV: client, now. 1 when there was a ban in force (one
 * that ended but was not dropped yet is none: it goes without a change).
 */
const DELETE = luaScript(`
local ends = redis.call('ZSCORE', KEYS[2], ARGV[1])
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if removed == 1 and ends and tonumber(ends) > tonumber(ARGV[2]) then
  redis.call('INCR', KEYS[3])
  return 1
end
return 0
`);

/** KEYS: bans hash, expiry index. ARGV: now. The bans in force, as JSON. */
const LIST = luaScript(`${PURGE}
return redis.call('HVALS', KEYS[1])
`);

/**
 * The {@link WatchedBanStore} shared by the instances of a deployment. Under one Cluster hash tag,
 * `{prefix}`: `{prefix}:bans` (a hash of client → ban JSON), `{prefix}:bans:ends` (a sorted set
 * of clients by the end of their ban: each ban expires on its own, dropped by the next call that
 * comes by), `{prefix}:bans:version` (bumped by each change). Each change is also published on
 * `{prefix}:bans:changes`, which `watch()` listens to on a connection of its own. Every call
 * waits at most `commandTimeoutMs`.
 *
 * @example
 * ```ts
 * const store = new RedisBanStore({ url: process.env.REDIS_URL, prefix: 'shop:security' });
 * const clients = new Clients({ bans: { store } });
 * ```
 */
export class RedisBanStore implements WatchedBanStore {
  readonly prefix: string;
  /** The pub/sub channel of the changes. */
  readonly channel: string;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #options: RedisBanStoreOptions;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #keys: { bans: string; ends: string; version: string };
  readonly #listeners = new Set<(change: BanChange) => void>();
  #subscriber: RedisClient | undefined;
  #stopResubscribing: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RedisBanStoreOptions) {
    this.prefix = checkPrefix(options.prefix ?? 'enterprise:security');
    this.#timeoutMs = checkTimeout(options.commandTimeoutMs ?? 1_000, 'commandTimeoutMs');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const { client, owned } = resolveClient(
      { client: options.client, url: options.url, onError: (error) => this.#error(error) },
      this.#timeoutMs,
      'RedisBanStore',
    );
    this.#client = client;
    this.#owned = owned;
    // checkPrefix refuses braces, so the tag ends where it should.
    const tag = `{${this.prefix}}`;
    this.#keys = { bans: `${tag}:bans`, ends: `${tag}:bans:ends`, version: `${tag}:bans:version` };
    this.channel = `${tag}:bans:changes`;
  }

  async put(ban: Ban): Promise<void> {
    const { bans, ends, version } = this.#keys;
    await this.#run('put', (c) =>
      runScript(
        c,
        PUT,
        [bans, ends, version],
        [this.#clock.epochNow(), ban.client, JSON.stringify(ban), ban.until],
      ),
    );
    this.#publish({ type: 'put', ban });
  }

  async delete(client: string): Promise<boolean> {
    const { bans, ends, version } = this.#keys;
    const removed = await this.#run('delete', (c) =>
      runScript(c, DELETE, [bans, ends, version], [client, this.#clock.epochNow()]),
    );
    if (Number(removed) === 1) this.#publish({ type: 'delete', client });
    return Number(removed) === 1;
  }

  async list(): Promise<readonly Ban[]> {
    const now = this.#clock.epochNow();
    const values = (await this.#run('list', (c) =>
      runScript(c, LIST, [this.#keys.bans, this.#keys.ends], [now]),
    )) as string[];
    const bans: Ban[] = [];
    for (const json of values) {
      const ban = parseBan(json);
      if (ban !== undefined && ban.until > now) bans.push(ban);
    }
    return bans;
  }

  async version(): Promise<string> {
    return (await this.#run('version', (c) => c.get(this.#keys.version))) ?? '0';
  }

  /**
   * Listens to the changes of every instance on a connection of its own. Resolves once Redis
   * confirmed the subscription; when it cannot within `commandTimeoutMs` it rejects, and keeps
   * trying. After a reconnection the listeners get a `resync`.
   */
  async watch(listener: (change: BanChange) => void): Promise<() => Promise<void>> {
    if (this.#closing !== undefined) throw closed('watch');
    this.#listeners.add(listener);
    const stop = async () => {
      this.#listeners.delete(listener);
    };
    const subscriber = this.#ensureSubscriber();
    await whenReady(subscriber, this.#timeoutMs);
    await rejectAfter(
      subscriber.subscribe(this.channel),
      this.#timeoutMs,
      `ban store: no answer from Redis to subscribe within ${this.#timeoutMs} ms`,
    );
    return stop;
  }

  /**
   * Quits the subscriber and, when the store created it, the client. Idempotent; every call after
   * it rejects with a `LifecycleError` (`E_LIFECYCLE`).
   */
  async close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      this.#stopResubscribing?.();
      if (this.#subscriber !== undefined) await quitClient(this.#subscriber);
      if (this.#owned) await quitClient(this.#client);
    })();
    await this.#closing;
  }

  #ensureSubscriber(): RedisClient {
    if (this.#subscriber !== undefined) return this.#subscriber;
    const subscriber: RedisClient =
      this.#owned && this.#options.url !== undefined
        ? createClient(
            this.#options.url,
            this.#timeoutMs,
            (error) => this.#error(error),
            SUBSCRIBER_OPTIONS,
          )
        : subscriberOf(this.#client);
    if (!this.#owned) subscriber.on('error', (error: Error) => this.#error(error));
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#deliver(text);
    });
    // Back after a disconnection: whatever was published meanwhile is lost.
    this.#stopResubscribing = resubscribeOnReady(
      subscriber,
      () => (this.#closing === undefined && this.#listeners.size > 0 ? [this.channel] : []),
      (error) => this.#error(error),
      (reconnected) => {
        if (reconnected) this.#emit({ type: 'resync' });
      },
    );
    this.#subscriber = subscriber;
    return subscriber;
  }

  #publish(change: BanChange): void {
    // The change is stored; a lost message only delays the others until their next refresh.
    this.#run('publish', (c) => c.publish(this.channel, JSON.stringify(change))).catch(
      (error: Error) => this.#error(error),
    );
  }

  #deliver(text: string): void {
    let change: BanChange | undefined;
    try {
      const parsed = JSON.parse(text) as { type?: string; ban?: unknown; client?: unknown };
      if (parsed.type === 'put') {
        const ban = parseBan(JSON.stringify(parsed.ban));
        if (ban !== undefined) change = { type: 'put', ban };
      } else if (parsed.type === 'delete' && typeof parsed.client === 'string') {
        change = { type: 'delete', client: parsed.client };
      }
    } catch {
      // Reported below.
    }
    if (change === undefined) {
      this.#error(
        new Error(`ban store: ignored a malformed change message: ${text.slice(0, 200)}`),
      );
      return;
    }
    this.#emit(change);
  }

  #emit(change: BanChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#error(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** Waits for the connection and runs `body`, the whole bounded by the command timeout. */
  async #run<T>(operation: string, body: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw closed(operation);
    const started = Date.now();
    await whenReady(this.#client, this.#timeoutMs);
    const left = Math.max(1, this.#timeoutMs - (Date.now() - started));
    return rejectAfter(
      body(this.#client),
      left,
      `ban store: no answer from Redis to ${operation} within ${this.#timeoutMs} ms`,
    );
  }

  #error(error: Error): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // Reporting must never throw into ioredis' event emitter.
    }
  }
}

/** The error of a call made after `close()`. */
function closed(operation: string): LifecycleError {
  return new LifecycleError(`ban store: ${operation} after close()`, {
    store: 'RedisBanStore',
    operation,
  });
}
