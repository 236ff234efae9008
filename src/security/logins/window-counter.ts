/** Buckets per window: the sliding window moves by a tenth of its length. */
const BUCKETS = 10;

/**
 * @internal A count over a sliding window, kept in ten buckets: `total(now)` is the count of the
 * buckets that overlap the last `windowMs`, so it is exact to a tenth of the window, in a fixed
 * 40 bytes whatever the rate. Events older than the window are ignored.
 *
 * @example
 * ```ts
 * const failures = new WindowCounter(600_000);
 * failures.add(Date.now());
 * failures.total(Date.now()); // 1
 * ```
 */
export class WindowCounter {
  readonly #bucketMs: number;
  readonly #counts = new Uint32Array(BUCKETS);
  /** The absolute index of the newest bucket written, -Infinity before the first. */
  #head = Number.NEGATIVE_INFINITY;

  constructor(windowMs: number) {
    this.#bucketMs = Math.max(1, windowMs / BUCKETS);
  }

  /** Counts `n` events at `at` (epoch milliseconds). */
  add(at: number, n = 1): void {
    const index = Math.floor(at / this.#bucketMs);
    if (index > this.#head) {
      const skipped = Math.min(BUCKETS, index - this.#head);
      for (let i = 0; i < skipped; i++) this.#counts[(index - i) % BUCKETS] = 0;
      this.#head = index;
    } else if (this.#head - index >= BUCKETS) {
      return;
    }
    const slot = index % BUCKETS;
    this.#counts[slot] = Math.min(0xffffffff, this.#counts[slot]! + n);
  }

  /** The events of the window that ends at `now`. */
  total(now: number): number {
    const current = Math.floor(now / this.#bucketMs);
    const from = Math.max(this.#head - BUCKETS + 1, current - BUCKETS + 1);
    let sum = 0;
    for (let index = from; index <= this.#head && index <= current; index++) {
      sum += this.#counts[index % BUCKETS]!;
    }
    return sum;
  }
}
