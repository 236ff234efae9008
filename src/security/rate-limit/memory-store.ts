import { type Clock, systemClock } from '../../core/clock.js';
import type { RateLimitDecision, RateLimitStore } from '../types.js';
import { GcraCell, gcra, LogCell, slidingWindow } from './algorithms.js';
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

type Cell = GcraCell | LogCell;

/**
 * The {@link RateLimitStore} of one process: exact (JavaScript runs one decision at a time), O(1)
 * per call, and bounded without a timer per key. Keys live in two generations: every window (the
 * longest seen) the current map becomes the previous one and the previous one is dropped; a key
 * found in the previous map moves back to the current one. A key unused for a whole window has
 * nothing left to count, so the store holds the keys used within the last two windows.
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
  #current = new Map<string, Cell>();
  #previous = new Map<string, Cell>();
  /** The longest window seen: a generation lasts that long. */
  #period = 0;
  #rotateAt = Number.NEGATIVE_INFINITY;

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
    if (windowMs > this.#period) this.#period = windowMs;
    if (now >= this.#rotateAt) this.#rotate(now);
    let before = this.#current.get(key);
    if (before === undefined) {
      before = this.#previous.get(key);
      if (before !== undefined) {
        this.#previous.delete(key);
        this.#current.set(key, before);
      }
    }
    if (this.algorithm === 'gcra') {
      const cell = (before as GcraCell | undefined) ?? new GcraCell(0, now, now);
      const decision = gcra(cell, now, limit, windowMs, cost);
      if (before === undefined && decision.allowed) this.#current.set(key, cell);
      return decision;
    }
    const cell = (before as LogCell | undefined) ?? new LogCell();
    const decision = slidingWindow(cell, now, limit, windowMs, cost);
    if (before === undefined && decision.allowed) this.#current.set(key, cell);
    return decision;
  }

  async reset(key: string): Promise<void> {
    this.#current.delete(key);
    this.#previous.delete(key);
  }

  /** Keys held now, expired ones not yet dropped included. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  /** Drops every expired key now (the generations drop them a window later anyway). */
  prune(): number {
    const now = this.#clock.now();
    let dropped = 0;
    for (const cells of [this.#current, this.#previous]) {
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
    this.#current = new Map();
    this.#previous = new Map();
  }

  async close(): Promise<void> {
    this.clear();
  }

  #rotate(now: number): void {
    // Idle for more than a generation: what the current map holds is as stale as the rest.
    this.#previous = now >= this.#rotateAt + this.#period ? new Map() : this.#current;
    this.#current = new Map();
    this.#rotateAt = now + this.#period;
  }
}
