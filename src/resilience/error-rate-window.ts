/**
 * @internal Calls and failures over the last `windowMs`, in `buckets` slices: records land in the
 * current slice, and an unref'd timer moves on to the next slice every `windowMs / buckets`,
 * dropping the oldest, so the totals cover between `windowMs - windowMs / buckets` and
 * `windowMs`. The timer runs only while the window holds calls: it stops once the window is empty
 * and the next record starts it again. (A clock read per call would cost more than the whole
 * closed-state breaker.)
 */
export class ErrorRateWindow {
  readonly #bucketMs: number;
  readonly #calls: Float64Array;
  readonly #failures: Float64Array;
  #slot = 0;
  #timer: NodeJS.Timeout | undefined;
  calls = 0;
  failures = 0;

  constructor(windowMs: number, buckets: number) {
    this.#bucketMs = windowMs / buckets;
    this.#calls = new Float64Array(buckets);
    this.#failures = new Float64Array(buckets);
  }

  /** Counts one call in the current slice. */
  record(failed: boolean): void {
    if (this.#timer === undefined) this.#start();
    const slot = this.#slot;
    this.#calls[slot]!++;
    this.calls++;
    if (failed) {
      this.#failures[slot]!++;
      this.failures++;
    }
  }

  /** The failed share of the calls in the window, or `null` when there were none. */
  get rate(): number | null {
    return this.calls === 0 ? null : this.failures / this.calls;
  }

  /** Forgets every call and stops the timer. */
  reset(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.calls = 0;
    this.failures = 0;
  }

  #start(): void {
    this.#timer = setInterval(() => this.#turn(), this.#bucketMs);
    this.#timer.unref?.();
  }

  /** Moves on to the next slice, dropping what it held (the oldest calls). */
  #turn(): void {
    const slot = (this.#slot + 1) % this.#calls.length;
    this.calls -= this.#calls[slot]!;
    this.failures -= this.#failures[slot]!;
    this.#calls[slot] = 0;
    this.#failures[slot] = 0;
    this.#slot = slot;
    if (this.calls === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
