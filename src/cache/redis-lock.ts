import { randomBytes } from 'node:crypto';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import {
  checkTimeout,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../redis/client.js';
import { checkPrefix, redisSegment } from '../redis/keys.js';
import { luaScript, runScript } from '../redis/scripts.js';
import { CacheTierError } from './errors.js';
import { checkKey, storageKey } from './keys.js';
import type { DistributedLock } from './types.js';

/**
 * Options of {@link RedisLock}.
 *
 * @example
 * ```ts
 * const options: RedisLockOptions = { client: redis, prefix: 'shop:lock', commandTimeoutMs: 500 };
 * ```
 */
export interface RedisLockOptions {
  /** An ioredis client or Cluster; never closed by the lock. Give either `client` or `url`. */
  client?: RedisClient;
  /** A Redis URL: the lock opens a fail-fast connection and quits it on {@link RedisLock.close}. */
  url?: string;
  /** Lock keys are `${prefix}:<resource>`. @defaultValue 'enterprise:lock' */
  prefix?: string;
  /** Longest wait for Redis before `acquire` or `release` rejects. @defaultValue 1000 */
  commandTimeoutMs?: number;
  /** Connection errors of the client the lock created. */
  onError?: (error: Error) => void;
}

/**
 * Deletes the lock only while it still holds the caller's token: a holder whose lock expired and
 * was taken by another process must not release the other process' lock.
 */
const RELEASE = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * A {@link DistributedLock} on one Redis key per resource: `SET key token NX PX ttl` to acquire,
 * a compare-and-delete script to release. The token is 128 random bits, so only the holder can
 * release. It is a lease, not a fence: past its TTL another process may take it, so pick a TTL
 * longer than the work it guards (here, a cache loader).
 *
 * @example
 * ```ts
 * const lock = new RedisLock({ url: process.env.REDIS_URL });
 * const token = await lock.acquire('report:2024', 30_000);
 * if (token !== undefined) {
 *   try { await buildReport(); } finally { await lock.release('report:2024', token); }
 * }
 * ```
 */
export class RedisLock implements DistributedLock {
  /** First segment of every lock key. */
  readonly prefix: string;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  #closing: Promise<void> | undefined;

  constructor(options: RedisLockOptions) {
    this.prefix = checkPrefix(options.prefix ?? 'enterprise:lock');
    this.#timeoutMs = checkTimeout(options.commandTimeoutMs ?? 1_000, 'commandTimeoutMs');
    const { client, owned } = resolveClient(options, this.#timeoutMs, 'RedisLock');
    this.#client = client;
    this.#owned = owned;
  }

  /** Takes the lock on `resource` for `ttlMs` (rounded up to whole ms); `undefined` if held. */
  async acquire(resource: string, ttlMs: number): Promise<string | undefined> {
    const key = this.#key(resource);
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new InvalidArgumentError(
        `ttlMs=${describeValue(ttlMs)} is invalid: expected a positive number of milliseconds`,
        { argument: 'ttlMs', value: ttlMs, expected: 'a positive number of milliseconds' },
      );
    }
    const token = randomBytes(16).toString('base64url');
    try {
      await this.#ready();
      const reply = await this.#client.set(key, token, 'PX', Math.ceil(ttlMs), 'NX');
      return reply === 'OK' ? token : undefined;
    } catch (error) {
      throw this.#failure('acquire', resource, error);
    }
  }

  /** Releases the lock on `resource` if `token` still holds it; otherwise does nothing. */
  async release(resource: string, token: string): Promise<void> {
    const key = this.#key(resource);
    try {
      await this.#ready();
      await runScript(this.#client, RELEASE, [key], [token]);
    } catch (error) {
      throw this.#failure('release', resource, error);
    }
  }

  /** Quits the client the lock created (a given client stays open). Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#owned ? quitClient(this.#client) : Promise.resolve();
    await this.#closing;
  }

  async #ready(): Promise<void> {
    if (this.#closing !== undefined) throw new Error('used after close()');
    await whenReady(this.#client, this.#timeoutMs);
  }

  #key(resource: string): string {
    // Long resources are hashed like cache keys, so a lock key never grows with its resource.
    return `${this.prefix}:${redisSegment(storageKey(checkKey(resource, 'resource')))}`;
  }

  #failure(operation: string, resource: string, error: unknown): CacheTierError {
    return new CacheTierError(
      `redis lock: ${operation} failed: ${(error as Error).message}`,
      { operation, resource },
      error,
    );
  }
}
