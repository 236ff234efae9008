/**
 * @internal Calls and failures over the last `windowMs`, in `buckets` slices: each record lands in
 * the slice of its time, and slices older than the window are dropped as time moves on, so the
 * totals cover between `windowMs - windowMs / buckets` and `windowMs`. No timer: time is read
 * from the records themselves.
 */
export class ErrorRateWindow {
  readonly #bucketMs: number;
  readonly #calls: Float64Array;
  readonly #failures: Float64Array;
  #current = Number.NEGATIVE_INFINITY;
  calls = 0;
  failures = 0;

  constructor(windowMs: number, buckets: number) {
    this.#bucketMs = windowMs / buckets;
    this.#calls = new Float64Array(buckets);
    this.#failures = new Float64Array(buckets);
  }

  /** Counts one call at `now` (monotonic ms). */
  record(now: number, failed: boolean): void {
    const index = this.#advance(now);
    this.#calls[index]!++;
    this.calls++;
    if (failed) {
      this.#failures[index]!++;
      this.failures++;
    }
  }

  /** The failed share of the calls in the window at `now`, or `null` when there were none. */
  rate(now: number): number | null {
    this.#advance(now);
    return this.calls === 0 ? null : this.failures / this.calls;
  }

  /** Forgets every call. */
  reset(): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.calls = 0;
    this.failures = 0;
  }

  /** Drops the slices that left the window; returns the slot of the slice holding `now`. */
  #advance(now: number): number {
    const size = this.#calls.length;
    const bucket = Math.floor(now / this.#bucketMs);
    const slot = ((bucket % size) + size) % size;
    const steps = bucket - this.#current;
    if (steps === 0) return slot;
    if (steps < 0) return slot; // a clock that went back: count into the slice it names
    if (steps >= size) {
      this.reset();
    } else {
      for (let step = 1; step <= steps; step++) {
        const stale = (((this.#current + step) % size) + size) % size;
        this.calls -= this.#calls[stale]!;
        this.failures -= this.#failures[stale]!;
        this.#calls[stale] = 0;
        this.#failures[stale] = 0;
      }
    }
    this.#current = bucket;
    return slot;
  }
}
