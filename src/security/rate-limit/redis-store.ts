import type { Cluster, Redis } from 'ioredis';
import { rejectAfter } from '../../core/timeout.js';
import {
  checkTimeout,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../../redis/client.js';
import { checkPrefix, hashTag } from '../../redis/keys.js';
import { type LuaScript, luaScript, runScript } from '../../redis/scripts.js';
import type { RateLimitDecision, RateLimitStore } from '../types.js';
import { Decision } from './decision.js';
import type { RateLimitAlgorithm } from './types.js';

/**
 * Options of {@link RedisRateLimitStore}.
 *
 * @example
 * ```ts
 * const options: RedisRateLimitStoreOptions = { url: 'redis://redis:6379', prefix: 'shop:login' };
 * ```
 */
export interface RedisRateLimitStoreOptions {
  /** An ioredis client or Cluster; never closed by the store. Give either `client` or `url`. */
  client?: RedisClient;
  /** A Redis URL: the store opens a fail-fast connection and quits it on `close()`. */
  url?: string;
  /** Keys are `<prefix>:g:{<key>}` (GCRA) or `<prefix>:s:{<key>}` and `…:n` (sliding window). @defaultValue 'enterprise:ratelimit' */
  prefix?: string;
  /** @defaultValue 'gcra' */
  algorithm?: RateLimitAlgorithm;
  /** Longest wait for Redis before a call rejects. @defaultValue 500 */
  commandTimeoutMs?: number;
  /** Connection errors of the client the store created. */
  onError?: (error: Error) => void;
}

// Both scripts take limit, window (µs) and cost, read the time from Redis (TIME, so the clocks of
// the processes do not matter) and return {allowed, remaining, resetMs, retryAfterMs}. Times are
// integer microseconds, written with %.0f: Lua's tostring keeps 14 digits, too few for them.

/** GCRA: one key holding "<last µs>:<usage>", expiring when the usage is back to zero. */
const GCRA = luaScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local usage = 0
local state = redis.call('GET', KEYS[1])
if state then
  local sep = string.find(state, ':', 1, true)
  local last = tonumber(string.sub(state, 1, sep - 1))
  usage = tonumber(string.sub(state, sep + 1))
  if now > last then
    usage = usage - (now - last) * limit / window
    if usage < 1e-9 then usage = 0 end
  else
    now = last
  end
end
local per_unit = window / limit
if cost <= limit and usage + cost <= limit + 1e-9 then
  usage = usage + cost
  local ttl = math.ceil(usage * per_unit / 1000)
  if ttl < 1 then ttl = 1 end
  redis.call('SET', KEYS[1], string.format('%.0f:%.17g', now, usage), 'PX', ttl)
  return {1, math.max(0, math.floor(limit - usage + 1e-9)), ttl, 0}
end
local retry = math.ceil(window / 1000)
if cost <= limit then retry = math.max(1, math.ceil((usage + cost - limit - 1e-9) * per_unit / 1000)) end
return {0, math.max(0, math.floor(limit - usage + 1e-9)), math.ceil(usage * per_unit / 1000), retry}
`);

/**
 * Sliding-window log: KEYS[1] a list of "<µs>" or "<µs>:<cost>" entries, oldest first; KEYS[2]
 * "<total cost>:<newest µs>". Both expire a window after the newest entry. Expired entries leave
 * from the head, a few per call (each was pushed once).
 */
const SLIDING = luaScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local function parse(entry)
  local sep = string.find(entry, ':', 1, true)
  if sep then return tonumber(string.sub(entry, 1, sep - 1)), tonumber(string.sub(entry, sep + 1)) end
  return tonumber(entry), 1
end
local sum, newest = 0, nil
local state = redis.call('GET', KEYS[2])
if state then
  local sep = string.find(state, ':', 1, true)
  sum = tonumber(string.sub(state, 1, sep - 1))
  newest = tonumber(string.sub(state, sep + 1))
  if newest > now then now = newest end
end
local horizon = now - window
local dropped = false
while sum > 0 do
  local entry = redis.call('LINDEX', KEYS[1], 0)
  if not entry then sum = 0 break end
  local at, c = parse(entry)
  if at > horizon then break end
  redis.call('LPOP', KEYS[1])
  sum = sum - c
  dropped = true
end
if sum <= 0 then sum = 0; newest = nil end
local ttl = math.ceil(window / 1000)
if cost <= limit and sum + cost <= limit then
  local at = string.format('%.0f', now)
  if cost == 1 then redis.call('RPUSH', KEYS[1], at) else redis.call('RPUSH', KEYS[1], at .. ':' .. cost) end
  sum = sum + cost
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('SET', KEYS[2], string.format('%.0f:', sum) .. at, 'PX', ttl)
  return {1, limit - sum, ttl, 0}
end
if dropped then
  if sum > 0 then
    redis.call('SET', KEYS[2], string.format('%.0f:%.0f', sum, newest), 'KEEPTTL')
  else
    redis.call('DEL', KEYS[1], KEYS[2])
  end
end
local retry = ttl
if cost <= limit then
  local need = sum + cost - limit
  local entries = redis.call('LRANGE', KEYS[1], 0, need - 1)
  local freed = 0
  for i = 1, #entries do
    local at, c = parse(entries[i])
    freed = freed + c
    if freed >= need then
      retry = math.max(1, math.ceil((at + window - now) / 1000))
      break
    end
  end
end
local reset = 0
if newest then reset = math.max(0, math.ceil((newest + window - now) / 1000)) end
return {0, math.max(0, limit - sum), reset, retry}
`);

/**
 * The {@link RateLimitStore} shared by the processes of a deployment: one atomic Lua script per
 * call, timed by Redis itself, so concurrent calls from any number of processes never admit more
 * than the limit. Each user key has its own hash tag, so the store works on Redis Cluster (the
 * sliding window's two keys share the slot). Keys expire once idle. Every call waits at most
 * `commandTimeoutMs`.
 *
 * @example
 * ```ts
 * const store = new RedisRateLimitStore({ url: process.env.REDIS_URL, prefix: 'shop:api' });
 * const limiter = createRateLimiter({ limit: 100, window: '1m', store });
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly prefix: string;
  readonly algorithm: RateLimitAlgorithm;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  /** Whether the client times its commands out itself (ioredis `commandTimeout`). */
  readonly #clientTimes: boolean;
  readonly #script: LuaScript;
  readonly #messages = new Map<string, string>();
  #closing: Promise<void> | undefined;

  constructor(options: RedisRateLimitStoreOptions) {
    this.prefix = checkPrefix(options.prefix ?? 'enterprise:ratelimit');
    this.algorithm = options.algorithm ?? 'gcra';
    this.#timeoutMs = checkTimeout(options.commandTimeoutMs ?? 500, 'commandTimeoutMs');
    const { client, owned } = resolveClient(options, this.#timeoutMs, 'RedisRateLimitStore');
    this.#client = client;
    this.#owned = owned;
    this.#clientTimes = owned || commandTimeoutOf(client) <= this.#timeoutMs;
    this.#script = this.algorithm === 'gcra' ? GCRA : SLIDING;
  }

  /** The Redis keys of `key` (for inspection and tests). */
  keysOf(key: string): string[] {
    return this.algorithm === 'gcra'
      ? [`${this.prefix}:g:${hashTag(key)}`]
      : [`${this.prefix}:s:${hashTag(key)}`, `${this.prefix}:s:${hashTag(key)}:n`];
  }

  consume(
    key: string,
    options: { limit: number; windowMs: number; cost: number },
  ): Promise<RateLimitDecision> {
    const { limit, windowMs, cost } = options;
    const keys = this.keysOf(key);
    const args = [limit, Math.round(windowMs * 1_000), cost];
    return this.#run('consume', (client) =>
      runScript(client, this.#script, keys, args).then((reply) => {
        const [allowed, remaining, resetMs, retryAfterMs] = reply as number[];
        return new Decision(allowed === 1, limit, remaining!, resetMs!, retryAfterMs!, windowMs);
      }),
    );
  }

  reset(key: string): Promise<void> {
    return this.#run('reset', async (client) => {
      // One DEL per key: on a Cluster a multi-key DEL must stay in one slot, which these do.
      await client.del(...this.keysOf(key));
    });
  }

  /** Quits the client the store created (a given client stays open). Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#owned ? quitClient(this.#client) : Promise.resolve();
    await this.#closing;
  }

  /** Runs `body` once the client is ready, the whole bounded by the command timeout. */
  #run<T>(operation: string, body: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) {
      return Promise.reject(new Error(`rate limit store: ${operation} after close()`));
    }
    const client = this.#client;
    if (client.status === 'ready') {
      // The usual path. A client of ours times its commands out itself; a given one may not.
      const work = body(client);
      return this.#clientTimes ? work : rejectAfter(work, this.#timeoutMs, this.#late(operation));
    }
    const work = whenReady(client, this.#timeoutMs).then(() => body(client));
    return rejectAfter(work, this.#timeoutMs, this.#late(operation));
  }

  #late(operation: string): string {
    let message = this.#messages.get(operation);
    if (message === undefined) {
      message = `rate limit store: no answer from Redis to ${operation} within ${this.#timeoutMs} ms`;
      this.#messages.set(operation, message);
    }
    return message;
  }
}

/** The command timeout an ioredis client applies itself, or Infinity. */
function commandTimeoutOf(client: RedisClient): number {
  const options = client.isCluster
    ? (client as Cluster).options.redisOptions
    : (client as Redis).options;
  const timeout = options?.commandTimeout;
  return typeof timeout === 'number' && timeout > 0 ? timeout : Number.POSITIVE_INFINITY;
}
