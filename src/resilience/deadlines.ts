/** Watches per slab of the queue. */
const SLAB = 1024;

/** @internal One call under watch, until {@link Deadlines.settle} or its deadline. */
export interface Watch {
  readonly deadline: number;
  /** Dropped once the call settled or expired. */
  expire: (() => void) | undefined;
  readonly slab: (Watch | undefined)[];
  readonly index: number;
}

/**
 * @internal The timeouts of one breaker's calls. They all have the same length, so deadlines
 * come in the order calls start: a queue and one unref'd timer, armed for the oldest call still
 * running, replace a timer per call. The queue is kept in slabs whose slot is emptied as soon as
 * a call settles, and reset whenever no call is running, so a call that settles in time leaves
 * nothing alive behind it (objects kept until the deadline would all survive into the old
 * generation and cost the garbage collector more than the rest of the breaker).
 */
export class Deadlines {
  #slabs: (Watch | undefined)[][] = [new Array(SLAB)];
  /** Next slot to look at in the first slab. */
  #head = 0;
  /** Slots used in the last slab. */
  #tail = 0;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(timeoutMs: number, now: () => number) {
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** Calls `expire` once `timeoutMs` has passed, unless the call is settled before. */
  watch(expire: () => void): Watch {
    let slab = this.#slabs[this.#slabs.length - 1]!;
    if (this.#tail === SLAB) {
      slab = new Array(SLAB);
      this.#slabs.push(slab);
      this.#tail = 0;
    }
    const watch: Watch = {
      deadline: this.#now() + this.#timeoutMs,
      expire,
      slab,
      index: this.#tail++,
    };
    slab[watch.index] = watch;
    this.#pending++;
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    return watch;
  }

  /** Marks the call settled; `false` when it had expired (or settled) already. */
  settle(watch: Watch): boolean {
    if (watch.expire === undefined) return false;
    watch.expire = undefined;
    watch.slab[watch.index] = undefined;
    if (--this.#pending === 0) this.#reset();
    return true;
  }

  /** Clears the timer and forgets the calls under watch (they will not time out). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const slab of this.#slabs) {
      for (const watch of slab) if (watch !== undefined) watch.expire = undefined;
    }
    this.#slabs = [new Array(SLAB)];
    this.#pending = 0;
    this.#reset();
  }

  /** No call is running: start the queue over (the timer, if armed, will find it empty). */
  #reset(): void {
    if (this.#slabs.length > 1) this.#slabs = [this.#slabs[0]!];
    this.#head = 0;
    this.#tail = 0;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, delay));
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.#now();
    // Called after the scan: they run user code (listeners, fallbacks) that may start calls.
    const expired: (() => void)[] = [];
    let next: number | undefined;
    scan: for (;;) {
      const slab = this.#slabs[0]!;
      const end = this.#slabs.length === 1 ? this.#tail : SLAB;
      for (; this.#head < end; this.#head++) {
        const watch = slab[this.#head];
        if (watch === undefined) continue;
        if (watch.deadline > now) {
          next = watch.deadline - now;
          break scan;
        }
        slab[this.#head] = undefined;
        expired.push(watch.expire!);
        watch.expire = undefined;
        this.#pending--;
      }
      if (this.#slabs.length === 1) break;
      this.#slabs.shift();
      this.#head = 0;
    }
    if (this.#pending === 0) this.#reset();
    if (next !== undefined) this.#arm(next);
    for (const expire of expired) expire();
  }
}
