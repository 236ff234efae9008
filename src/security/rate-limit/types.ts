// The rate limiter's own shapes: what createRateLimiter takes, what a decision carries beyond the
// store's, the events it emits and the figures it keeps.
import type { Clock } from '../../core/clock.js';
import type { Duration } from '../../core/duration.js';
import type { RedisClient } from '../../redis/client.js';
import type { RateLimitDecision, RateLimitStore } from '../types.js';

/**
 * How a key's usage is counted.
 *
 * - `gcra` (the default): the generic cell rate algorithm, a leaky bucket of `limit` units drained
 *   continuously at `limit` per `window`. One number per key whatever the limit, no burst at a
 *   window boundary, and a refused client may come back after `window / limit` rather than at the
 *   end of a window. Over any span of `t`, at most `limit + t × limit / window` calls pass.
 * - `sliding-window`: an exact log of the admitted calls of the last `window`: never more than
 *   `limit` in any span of `window`, at the price of one entry per admitted call (memory and
 *   Redis work grow with the limit). For small, strict limits such as 5 logins per 15 minutes.
 *
 * @example
 * ```ts
 * const algorithm: RateLimitAlgorithm = 'sliding-window';
 * ```
 */
export type RateLimitAlgorithm = 'gcra' | 'sliding-window';

/**
 * A decision of {@link RateLimiter.consume}: the store's, with the window it applies to and who
 * took it.
 *
 * @example
 * ```ts
 * const decision: LimiterDecision = await limiter.consume('203.0.113.7');
 * if (decision.source === 'insurance') log.warn('rate limit store down, deciding locally');
 * ```
 */
export interface LimiterDecision extends RateLimitDecision {
  /** The window of the limit, in milliseconds (for the `w` of `RateLimit-Policy`). */
  windowMs: number;
  /**
   * `store` (the configured store decided), `insurance` (the store failed: the per-process
   * limiter decided) or `closed` (the store failed and `onStoreError` is `'closed'`: refused).
   */
  source: 'store' | 'insurance' | 'closed';
}

/**
 * Options of {@link createRateLimiter}.
 *
 * @example
 * ```ts
 * const options: RateLimiterOptions = { limit: 100, window: '1m', store: 'redis', redisUrl: process.env.REDIS_URL };
 * ```
 */
export interface RateLimiterOptions {
  /** Calls (units of cost) allowed per `window`: a positive integer. */
  limit: number;
  /** The window: seconds or a string with a unit (`'500ms'`, `'30s'`, `'1m'`, `'1h'`). */
  window: Duration;
  /** @defaultValue 'gcra' — see {@link RateLimitAlgorithm}. */
  algorithm?: RateLimitAlgorithm;
  /**
   * Where the state lives: `'memory'` (this process), `'redis'` (shared by a deployment) or your
   * own {@link RateLimitStore} (which then decides its own algorithm; never closed by the limiter).
   * @defaultValue 'redis' when `redis` or `redisUrl` is given, else 'memory'
   */
  store?: 'memory' | 'redis' | RateLimitStore;
  /** An ioredis client or Cluster for `store: 'redis'`; never closed by the limiter. */
  redis?: RedisClient;
  /** A Redis URL for `store: 'redis'`; the limiter opens a fail-fast connection and quits it on close(). */
  redisUrl?: string;
  /** Redis keys are `<prefix>:<algorithm>:{<key>}`. Use one prefix per limiter. @defaultValue 'enterprise:ratelimit' */
  prefix?: string;
  /** Longest wait for the store on one call before it counts as failed. @defaultValue 500 */
  commandTimeoutMs?: number;
  /**
   * What decides while the store fails: `'insurance'` (a per-process memory limiter, so a store
   * outage never refuses everyone) or `'closed'` (every call is refused until the store answers).
   * @defaultValue 'insurance'
   */
  onStoreError?: 'insurance' | 'closed';
  /**
   * The limit of the per-process limiter used while the store fails. With N processes the
   * deployment admits up to N times this: give `limit / N` to keep the total.
   * @defaultValue the same limit and window
   */
  insurance?: { limit: number; window: Duration };
  /** While the store is down, how often one call tries it again. @defaultValue 1000 */
  probeIntervalMs?: number;
  /**
   * A multiplier `0 < m ≤ 1` of the limit for this call's key (a risk score, service pressure):
   * the call is decided against `max(1, floor(limit × m))`. Called on every consume.
   */
  dynamic?: (key: string) => number;
  /** Connection errors of a client the limiter created from `redisUrl`. */
  onError?: (error: Error) => void;
  /** The time source of the memory stores and of the probe schedule (tests step it). @defaultValue systemClock */
  clock?: Clock;
}

/**
 * The events of a {@link RateLimiter}.
 *
 * @example
 * ```ts
 * limiter.on('store-error', ({ error }) => log.warn({ err: error }, 'rate limit store down'));
 * ```
 */
export interface RateLimiterEvents {
  /** Every decision, allowed or not. */
  decision: [event: { key: string; cost: number; decision: LimiterDecision }];
  /** The store failed: once per outage, at its first failed call. */
  'store-error': [event: { error: unknown; at: number; mode: 'insurance' | 'closed' }];
  /** The store answered again after an outage. */
  'store-recovered': [event: { at: number; downMs: number }];
}

/**
 * What a limiter counted since it was created.
 *
 * @example
 * ```ts
 * const { allowed, refused, onInsurance } = limiter.stats();
 * ```
 */
export interface RateLimiterStats {
  allowed: number;
  refused: number;
  /** Store calls that failed or timed out (consume and reset). */
  storeErrors: number;
  /** Outages seen (each began with a `store-error` event). */
  outages: number;
  /** Whether the store is failing now. */
  storeDown: boolean;
  /** Whether decisions come from the insurance limiter now (store down, mode `insurance`). */
  onInsurance: boolean;
  /** Keys the insurance limiter holds (zero once the store is back). */
  insuranceKeys: number;
}
