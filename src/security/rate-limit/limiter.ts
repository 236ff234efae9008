import type { Clock } from '../../core/clock.js';
import { describeValue, LifecycleError } from '../../core/errors.js';
import { Emitter } from '../../core/events.js';
import { rejectAfter } from '../../core/timeout.js';
import { SecurityConfigError } from '../errors.js';
import type { RateLimitStore } from '../types.js';
import { Decision, fromStore } from './decision.js';
import { MemoryRateLimitStore } from './memory-store.js';
import { type ResolvedRateLimiterOptions, resolveOptions } from './options.js';
import type {
  LimiterDecision,
  RateLimitAlgorithm,
  RateLimiterEvents,
  RateLimiterOptions,
  RateLimiterStats,
} from './types.js';

/**
 * A rate limiter: `consume(key)` decides one call against `limit` per `window` in its store, and
 * while the store fails decides through a per-process insurance limiter (or refuses, with
 * `onStoreError: 'closed'`). It never throws because of the store and never waits longer than
 * `commandTimeoutMs` for it. Built by {@link createRateLimiter}.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ limit: 100, window: '1m', redisUrl: process.env.REDIS_URL });
 * const decision = await limiter.consume(clientKey);
 * if (!decision.allowed) return reply(429, rateLimitBody(decision), rateLimitHeaders(decision));
 * ```
 */
export class RateLimiter extends Emitter<RateLimiterEvents> {
  readonly limit: number;
  readonly windowMs: number;
  readonly algorithm: RateLimitAlgorithm;
  readonly onStoreError: 'insurance' | 'closed';
  readonly #store: RateLimitStore;
  readonly #memory: MemoryRateLimitStore | undefined;
  readonly #options: ResolvedRateLimiterOptions;
  readonly #insurance: MemoryRateLimitStore;
  readonly #dynamic: ((key: string) => number) | undefined;
  readonly #clock: Clock;
  #down = false;
  #downSince = 0;
  #nextProbeAt = 0;
  #probing = false;
  #allowed = 0;
  #refused = 0;
  #storeErrors = 0;
  #outages = 0;
  #closing: Promise<void> | undefined;

  /** @internal Use {@link createRateLimiter}. */
  constructor(options: ResolvedRateLimiterOptions) {
    super();
    this.#options = options;
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.algorithm = options.algorithm;
    this.onStoreError = options.onStoreError;
    this.#store = options.store;
    this.#memory = options.memory;
    this.#dynamic = options.dynamic;
    this.#clock = options.clock;
    this.#insurance = new MemoryRateLimitStore({
      algorithm: options.algorithm,
      clock: options.clock,
    });
  }

  /**
   * Counts `cost` against `key` if it fits, and says so. Rejects only on a bad argument (a
   * {@link SecurityConfigError} naming `key`, `cost` or `dynamic`) or after `close()`.
   */
  consume(key: string, cost = 1): Promise<LimiterDecision> {
    if (this.#closing !== undefined) {
      return Promise.reject(new LifecycleError('rate limiter: consume() after close()'));
    }
    if (typeof key !== 'string' || key.length === 0) {
      return Promise.reject(invalid('key', key, 'a non-empty string'));
    }
    if (!Number.isSafeInteger(cost) || cost < 1 || cost > this.limit) {
      return Promise.reject(
        invalid('cost', cost, `a positive integer no larger than the limit (${this.limit})`),
      );
    }
    let limit = this.limit;
    let multiplier = 1;
    if (this.#dynamic !== undefined) {
      try {
        multiplier = this.#multiplier(key);
      } catch (error) {
        return Promise.reject(error);
      }
      limit = scaled(this.limit, multiplier);
    }
    if (this.#memory !== undefined) {
      return Promise.resolve(
        this.#settle(key, cost, this.#memory.decide(key, limit, this.windowMs, cost)),
      );
    }
    if (this.#down) return this.#consumeWhileDown(key, cost, limit, multiplier);
    const failed = (error: unknown) => {
      this.#failed(error);
      return this.#settle(key, cost, this.#fallback(key, cost, limit, multiplier));
    };
    if (!this.#options.storeTimesItself) {
      return this.#callStore(key, cost, limit).then(
        (decision) => this.#settle(key, cost, decision),
        failed,
      );
    }
    // The package's stores: one hop from the store's answer to the caller.
    const windowMs = this.windowMs;
    let pending: Promise<unknown>;
    try {
      pending = this.#store.consume(key, { limit, windowMs, cost });
    } catch (error) {
      return Promise.resolve(failed(error));
    }
    return pending.then((answer) => {
      let decision: Decision;
      try {
        decision = fromStore(answer, windowMs);
      } catch (error) {
        return failed(error);
      }
      return this.#settle(key, cost, decision);
    }, failed);
  }

  /**
   * Forgets `key` (a successful login clearing its failures), in the store and in the insurance
   * limiter. Never throws because of the store: a failure counts as a store error. Rejects for an
   * empty key and after `close()`.
   */
  async reset(key: string): Promise<void> {
    if (this.#closing !== undefined)
      throw new LifecycleError('rate limiter: reset() after close()');
    if (typeof key !== 'string' || key.length === 0)
      throw invalid('key', key, 'a non-empty string');
    await this.#insurance.reset(key);
    try {
      await this.#bounded(this.#store.reset(key), 'reset');
      if (this.#down) this.#recovered();
    } catch (error) {
      this.#failed(error);
    }
  }

  /** What the limiter counted since it was created. */
  stats(): RateLimiterStats {
    return {
      allowed: this.#allowed,
      refused: this.#refused,
      storeErrors: this.#storeErrors,
      outages: this.#outages,
      storeDown: this.#down,
      onInsurance: this.#down && this.onStoreError === 'insurance',
      insuranceKeys: this.#insurance.size,
    };
  }

  /** Closes the store the limiter built (a Redis connection it opened); never a given one. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#insurance.clear();
      if (this.#options.ownsStore) await this.#store.close?.();
    })();
    return this.#closing;
  }

  #multiplier(key: string): number {
    let value: unknown;
    try {
      value = this.#dynamic!(key);
    } catch (error) {
      throw new SecurityConfigError(
        `rate limiter: dynamic(key) threw: ${(error as Error)?.message ?? String(error)}`,
        { field: 'dynamic', expected: 'a function returning a multiplier 0 < m ≤ 1' },
      );
    }
    if (typeof value !== 'number' || !(value > 0) || !(value <= 1)) {
      throw invalid('dynamic', value, 'dynamic(key) to return a multiplier 0 < m ≤ 1');
    }
    return value;
  }

  #callStore(key: string, cost: number, limit: number): Promise<Decision> {
    const windowMs = this.windowMs;
    let pending: Promise<unknown>;
    try {
      pending = this.#store.consume(key, { limit, windowMs, cost });
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#options.storeTimesItself) {
      return (pending as Promise<Decision>).then((answer) => fromStore(answer, windowMs));
    }
    return this.#bounded(pending, 'consume').then((answer) => fromStore(answer, windowMs));
  }

  /** A custom store's call, bounded by the command timeout. */
  #bounded<T>(pending: Promise<T>, operation: string): Promise<T> {
    if (this.#options.storeTimesItself) return pending;
    const ms = this.#options.commandTimeoutMs;
    return rejectAfter(
      Promise.resolve(pending),
      ms,
      `rate limiter: no answer from the store to ${operation} within ${ms} ms`,
    );
  }

  #consumeWhileDown(
    key: string,
    cost: number,
    limit: number,
    multiplier: number,
  ): Promise<LimiterDecision> {
    const probeDue = !this.#probing && this.#clock.now() >= this.#nextProbeAt;
    if (this.onStoreError === 'closed') {
      if (!probeDue) return Promise.resolve(this.#settle(key, cost, this.#closedDecision(limit)));
      // Refused either way: this call may as well wait for the store's own answer.
      this.#probing = true;
      return this.#callStore(key, cost, limit).then(
        (decision) => {
          this.#recovered();
          return this.#settle(key, cost, decision);
        },
        () => {
          this.#probeFailed();
          return this.#settle(key, cost, this.#closedDecision(limit));
        },
      );
    }
    const decision = this.#fallback(key, cost, limit, multiplier);
    // The probe is a call the insurance admitted, sent to the store as well in the background,
    // so the store only counts calls that went through and nobody waits for it.
    if (probeDue && decision.allowed) {
      this.#probing = true;
      this.#callStore(key, cost, limit).then(
        () => this.#recovered(),
        () => this.#probeFailed(),
      );
    }
    return Promise.resolve(this.#settle(key, cost, decision));
  }

  #fallback(key: string, cost: number, limit: number, multiplier: number): Decision {
    if (this.onStoreError === 'closed') return this.#closedDecision(limit);
    const { insurance } = this.#options;
    const decision = this.#insurance.decide(
      key,
      scaled(insurance.limit, multiplier),
      insurance.windowMs,
      cost,
    );
    decision.source = 'insurance';
    return decision;
  }

  #closedDecision(limit: number): Decision {
    const wait = Math.ceil(this.#options.probeIntervalMs);
    const decision = new Decision(false, limit, 0, wait, wait, this.windowMs);
    decision.source = 'closed';
    return decision;
  }

  #failed(error: unknown): void {
    this.#storeErrors += 1;
    if (this.#down) return;
    this.#down = true;
    this.#downSince = this.#clock.now();
    this.#nextProbeAt = this.#downSince + this.#options.probeIntervalMs;
    this.#outages += 1;
    this.emit('store-error', { error, at: this.#clock.epochNow(), mode: this.onStoreError });
  }

  #probeFailed(): void {
    this.#probing = false;
    this.#storeErrors += 1;
    this.#nextProbeAt = this.#clock.now() + this.#options.probeIntervalMs;
  }

  #recovered(): void {
    this.#probing = false;
    if (!this.#down) return;
    this.#down = false;
    this.#insurance.clear();
    const downMs = Math.max(0, this.#clock.now() - this.#downSince);
    this.emit('store-recovered', { at: this.#clock.epochNow(), downMs });
  }

  #settle(key: string, cost: number, decision: Decision): Decision {
    if (decision.allowed) this.#allowed += 1;
    else this.#refused += 1;
    if (this.listenerCount('decision') > 0) this.emit('decision', { key, cost, decision });
    return decision;
  }
}

/** The limit under a multiplier: tightened, never below one call. */
function scaled(limit: number, multiplier: number): number {
  return multiplier === 1 ? limit : Math.max(1, Math.floor(limit * multiplier));
}

function invalid(field: string, value: unknown, expected: string): SecurityConfigError {
  return new SecurityConfigError(
    `rate limiter: ${field}=${describeValue(value)} is invalid: expected ${expected}`,
    { field, value, expected },
  );
}

/**
 * Builds a {@link RateLimiter}: `limit` calls per `window` for each key, in memory (one process)
 * or in Redis (a deployment), with a per-process insurance limiter for store outages. Every bad
 * option throws a {@link SecurityConfigError} whose `context.field` names it.
 *
 * GCRA is the default algorithm: one number per key whatever the limit, no double burst at a
 * window boundary, and a refused client told to retry after `window / limit` rather than at the
 * end of a window. Use `'sliding-window'` when no span of `window` may ever see more than `limit`.
 *
 * @example
 * ```ts
 * const login = createRateLimiter({ limit: 5, window: '15m', algorithm: 'sliding-window', redisUrl });
 * const api = createRateLimiter({ limit: 100, window: '1m', redis, dynamic: (key) => pressure() });
 * ```
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new RateLimiter(resolveOptions(options));
}
