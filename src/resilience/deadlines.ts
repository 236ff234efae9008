/** @internal One call under watch; `done` once it settled, so its deadline is skipped. */
export interface Watch {
  readonly deadline: number;
  readonly expire: () => void;
  done: boolean;
}

/**
 * @internal The timeouts of one breaker's calls. They all have the same length, so their
 * deadlines come in the order the calls started: a queue and one unref'd timer, armed for the
 * oldest call still running, replace a timer per call (arming and clearing a timer per call costs
 * more than the rest of a closed breaker). `stop()` clears the timer without expiring anything.
 */
export class Deadlines {
  #queue: Watch[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(timeoutMs: number, now: () => number) {
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** Calls `expire` once `timeoutMs` has passed, unless the watch is `done` by then. */
  watch(expire: () => void): Watch {
    const watch: Watch = { deadline: this.#now() + this.#timeoutMs, expire, done: false };
    this.#queue.push(watch);
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    return watch;
  }

  /** Clears the timer and forgets the calls under watch (they will not time out). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, delay));
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.#now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const watch = queue[this.#head]!;
      if (!watch.done && watch.deadline > now) break;
      if (!watch.done) {
        watch.done = true;
        watch.expire();
      }
      this.#head++;
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
      return;
    }
    if (this.#head > 1024) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    this.#arm(this.#queue[this.#head]!.deadline - now);
  }
}
