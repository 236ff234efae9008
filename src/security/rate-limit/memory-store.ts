import { type Clock, systemClock } from '../../core/clock.js';
import type { RateLimitDecision, RateLimitStore } from '../types.js';
import { type GcraCell, gcra, LogCell, slidingWindow } from './algorithms.js';
import type { Decision } from './decision.js';
import type { RateLimitAlgorithm } from './types.js';

/**
 * Options of {@link MemoryRateLimitStore}.
 *
 * @example
 * ```ts
 * const options: MemoryRateLimitStoreOptions = { algorithm: 'sliding-window' };
 * ```
 */
export interface MemoryRateLimitStoreOptions {
  /** @defaultValue 'gcra' */
  algorithm?: RateLimitAlgorithm;
  /** @defaultValue systemClock (monotonic) */
  clock?: Clock;
}

/** Calls between two looks at the oldest keys, and how many expired ones a look may drop. */
const SWEEP_EVERY = 16;
const SWEEP_BUDGET = 64;

/**
 * The {@link RateLimitStore} of one process: exact (JavaScript runs one decision at a time), O(1)
 * per call, and bounded: a key whose usage is back to zero is forgotten. Keys are kept in the
 * order of their last admitted call, and every few calls the oldest expired ones are dropped, so
 * the store holds at most the keys admitted within the last window (no timer per key).
 *
 * @example
 * ```ts
 * const store = new MemoryRateLimitStore();
 * const decision = await store.consume('203.0.113.7', { limit: 10, windowMs: 1_000, cost: 1 });
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly algorithm: RateLimitAlgorithm;
  readonly #clock: Clock;
  readonly #gcra = new Map<string, GcraCell>();
  readonly #logs = new Map<string, LogCell>();
  #calls = 0;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.algorithm = options.algorithm ?? 'gcra';
    this.#clock = options.clock ?? systemClock;
  }

  consume(
    key: string,
    options: { limit: number; windowMs: number; cost: number },
  ): Promise<RateLimitDecision> {
    return Promise.resolve(this.decide(key, options.limit, options.windowMs, options.cost));
  }

  /** @internal The decision, synchronously (the limiter's path for its memory stores). */
  decide(key: string, limit: number, windowMs: number, cost: number): Decision {
    const now = this.#clock.now();
    if ((++this.#calls & (SWEEP_EVERY - 1)) === 0) this.#sweep(now);
    if (this.algorithm === 'gcra') {
      const cells = this.#gcra;
      const before = cells.get(key);
      const { decision, cell } = gcra(before, now, limit, windowMs, cost);
      if (decision.allowed) {
        // Delete and set: the key moves to the end, the order the sweep relies on.
        if (before !== undefined) cells.delete(key);
        cells.set(key, cell!);
      }
      return decision;
    }
    const logs = this.#logs;
    let cell = logs.get(key);
    const fresh = cell === undefined;
    cell ??= new LogCell();
    const decision = slidingWindow(cell, now, limit, windowMs, cost);
    if (decision.allowed) {
      if (!fresh) logs.delete(key);
      logs.set(key, cell);
    }
    return decision;
  }

  async reset(key: string): Promise<void> {
    this.#gcra.delete(key);
    this.#logs.delete(key);
  }

  /** Keys held now, expired ones not yet dropped included. */
  get size(): number {
    return this.#gcra.size + this.#logs.size;
  }

  /** Drops every expired key now (the store also does it a few at a time as it is used). */
  prune(): number {
    const now = this.#clock.now();
    let dropped = 0;
    for (const cells of [this.#gcra, this.#logs] as Map<string, { until: number }>[]) {
      for (const [key, cell] of cells) {
        if (cell.until <= now) {
          cells.delete(key);
          dropped += 1;
        }
      }
    }
    return dropped;
  }

  /** Forgets every key. */
  clear(): void {
    this.#gcra.clear();
    this.#logs.clear();
  }

  async close(): Promise<void> {
    this.clear();
  }

  /** Drops expired keys from the oldest end, stopping at the first one still in use. */
  #sweep(now: number): void {
    const cells: Map<string, { until: number }> =
      this.algorithm === 'gcra' ? this.#gcra : this.#logs;
    let budget = SWEEP_BUDGET;
    for (const [key, cell] of cells) {
      if (cell.until > now || budget === 0) return;
      cells.delete(key);
      budget -= 1;
    }
  }
}
